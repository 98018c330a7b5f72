"""Every public layout: a random model written with the documented key names and container (SlowFast
``model_state`` + cfg, a Python-2 Caffe2 pickle, CGNL / BAT ``state_dict`` with ``module.``, AlexHex7's four
blocks) loads through ``nlviz.load_model`` with the right conventions, and exporting it back to the layout gives
the identical tensors."""

from __future__ import annotations

import pytest
import torch

import nlviz
from nlviz.io import public
from nlviz.models import build_model, operator_blocks, paper_placement
from support.py2_pickles import caffe2_file
from support.randomize import randomize
from support.state_dicts import same_tensors, zero_biases_

SLOWFAST_NL = {"mode": "embedded_gaussian", "sub_sample": True, "pool": "before_conv", "use_scale": True}


@pytest.fixture(scope="module")
def i3d():
    """A random I3D-R50 with the 5 non-local blocks of SlowFast's ``I3D_NLN_8x8_R50`` (8-frame geometry)."""
    torch.manual_seed(0)
    model = build_model(
        "r50_i3d", conv1_stride_t=1, pool1_stride_t=1, dropout=0.5, blocks=paper_placement("5", "nonlocal", SLOWFAST_NL)
    )
    return randomize(model)


@pytest.fixture(scope="module")
def image_models():
    torch.manual_seed(0)
    cgnl = [{"op": "cgnl", "stage": 3, "index": 4, "options": {"kernel": "dot_product", "groups": 8}}]
    nl = [{"op": "nonlocal", "stage": 3, "index": 4, "options": {"mode": "embedded_gaussian", "use_scale": True}}]
    bat = paper_placement("5", "bat", {"block_size": 7, "groups": 4})
    models = {
        name: randomize(build_model("r50_2d", num_classes=200, blocks=b))
        for name, b in (("cgnl", cgnl), ("nl", nl), ("bat", bat))
    }
    zero_biases_(models["nl"].layer3.nl4, ("theta", "phi", "g", "conv_out"))  # SpatialNL convs have no bias
    return models


def _check_round_trip(original, loaded, fmt):
    want = public.export_state_dict(original, fmt)
    assert same_tensors(public.export_state_dict(loaded, fmt), want) == []
    spec = [(b["op"], b["stage"], b["index"]) for b in loaded.arch_spec["args"]["blocks"]]
    assert spec == [(b["op"], b["stage"], b["index"]) for b in original.arch_spec["args"]["blocks"]]
    assert [repr(op) for _, op in operator_blocks(loaded)] == [repr(op) for _, op in operator_blocks(original)]
    return want


@pytest.mark.parametrize("instantiation", ["softmax", "dot_product"])
def test_slowfast_model_state_with_cfg(i3d, tmp_path, instantiation):
    sd = public.export_state_dict(i3d, "slowfast")
    assert "s3.pathway0_nonlocal1.conv_theta.weight" in sd and "s4.pathway0_res5.branch2.c_bn.running_var" in sd
    cfg = f"MODEL:\n  ARCH: i3d\n  NUM_CLASSES: 400\nNONLOCAL:\n  INSTANTIATION: {instantiation}\n"
    path = tmp_path / "I3D_NLN_8x8_R50.pyth"
    torch.save({"epoch": 196, "model_state": {f"module.{k}": v for k, v in sd.items()}, "cfg": cfg}, path)
    model = nlviz.load_model(path)
    assert model.card["format"] == f"slowfast:{instantiation}" and "stored" in model.card["variant_from"]
    op = model.layer2.nl1
    assert (op.mode, op.pool_order, op.use_scale) == (
        ("embedded_gaussian", "before_conv", True)
        if instantiation == "softmax"
        else ("dot_product", "before_conv", False)
    )
    assert model.card["args"]["pool2"] is True and model.card["input"]["shape"] == [3, 8, 224, 224]
    if instantiation == "softmax":
        _check_round_trip(i3d, model, "slowfast")
        x = torch.randn(1, 3, 8, 64, 64)
        with torch.no_grad():
            torch.testing.assert_close(model(x), i3d(x), rtol=0, atol=0)


def test_caffe2_python2_pickle(i3d, tmp_path):
    blobs = public.export_state_dict(i3d, "caffe2")
    assert {
        "conv1_w",
        "res_conv1_bn_riv",
        "res4_5_branch2c_bn_s",
        "res3_0_branch1_w",
        "pred_w",
        "nonlocal_conv3_1_theta_w",
        "nonlocal_conv4_5_bn_riv",
    } <= set(blobs)
    path = caffe2_file(blobs, tmp_path / "i3d_nonlocal_8x8_IN_pretrain_400k.pkl")
    model = nlviz.load_model(path)
    assert model.card["format"] == "caffe2:softmax" and "default" in model.card["variant_from"]
    assert (model.arch_spec["args"]["pool1_padding"], model.layer3.nl5.pool_order) == (0, "before_conv")
    # same weights as the source model; only the Caffe2 stem geometry (pool1 without padding) differs
    assert same_tensors(public.export_state_dict(model, "caffe2"), blobs) == []
    assert model.card["input"]["shape"] == [3, 8, 224, 224] and model.card["input"]["mean"] == [0.45] * 3


def test_caffe2_frozen_bn_and_bias_free_blocks(i3d, tmp_path):
    """AffineNd files (``_s``/``_b`` only) and ``NONLOCAL.NO_BIAS`` blocks load exactly (mean 0, var 1−eps, zero
    bias); frozen-BN files with res3 blocks are refused (their res3 blocks run within groups of 4 frames)."""
    blobs = public.export_state_dict(i3d, "caffe2")
    affine = {k: v for k, v in blobs.items() if not k.endswith(("_rm", "_riv"))}
    path = caffe2_file(affine, tmp_path / "i3d_nonlocal_affine.pkl", solver=False)
    with pytest.raises(ValueError, match=r"frozen-BN \(AffineNd\).*within groups of 4 frames"):
        nlviz.load_model(path)
    res4_only = {k: v for k, v in affine.items() if not k.startswith("nonlocal_conv3")}
    res4_only = {
        k: v for k, v in res4_only.items() if not (k.startswith("nonlocal_conv4") and k.endswith(("theta_b", "g_b")))
    }
    model = nlviz.load_model(caffe2_file(res4_only, tmp_path / "c2.pkl", solver=False), format="caffe2:dot_product")
    assert [n for n, _ in operator_blocks(model)] == ["layer3.nl1", "layer3.nl3", "layer3.nl5"]
    assert model.layer3.nl1.mode == "dot_product" and model.card["variant_from"].startswith("the format asked for")
    assert torch.equal(model.layer1[0].bn1.running_var, torch.full((64,), 1 - 1e-5))
    assert model.layer3.nl3.g.bias.abs().max() == 0 and model.layer3.nl3.phi.bias.abs().max() > 0
    x = torch.randn(2, 64, 1, 3, 3)
    with torch.no_grad():  # BN with mean 0, var 1 - eps is the affine map s·x + b of Caffe2's AffineNd
        bn = model.layer1[0].bn1
        torch.testing.assert_close(bn(x), x * bn.weight.view(1, -1, 1, 1, 1) + bn.bias.view(1, -1, 1, 1, 1))


@pytest.mark.parametrize(
    "name, fmt, variant",
    [
        ("cub-r-50-w-1cgnl-block.pth.tar", "cgnl:dot", "dot"),
        ("cub-r-50-w-1cgnlx-block.pth.tar", "cgnl:taylor", "taylor"),
    ],
)
def test_cgnl_official(image_models, tmp_path, name, fmt, variant):
    original = image_models["cgnl"]
    sd = public.export_state_dict(original, "cgnl")
    assert {"layer3.5.t.weight", "layer3.5.gn.bias", "layer3.6.conv3.weight"} <= set(
        sd
    ) and "layer3.nl4.t.weight" not in sd
    path = tmp_path / name
    torch.save(
        {"epoch": 100, "state_dict": {f"module.{k}": v for k, v in sd.items()}, "best_prec1": torch.tensor(87.0)}, path
    )
    model = nlviz.load_model(path)
    assert model.card["format"] == fmt and "file name" in model.card["variant_from"]
    op = model.layer3.nl4
    assert (op.kernel, op.groups, model.card["input"]["shape"]) == (
        "dot_product" if variant == "dot" else "gaussian",
        8,
        [3, 448, 448],
    )
    assert same_tensors(public.export_state_dict(model, "cgnl"), sd) == []
    if variant == "dot":
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            torch.testing.assert_close(model(x), original(x), rtol=0, atol=0)


def test_cgnl_best_checkpoint_needs_the_kernel(image_models, tmp_path):
    sd = public.export_state_dict(image_models["cgnl"], "cgnl")
    path = tmp_path / "model_best.pth.tar"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(ValueError, match=r"pass one explicitly: cgnl:dot, cgnl:taylor"):
        nlviz.load_model(path)
    assert nlviz.load_model(path, format="cgnl:taylor").layer3.nl4.order == 3


def test_cgnl_spatial_nl_block(image_models, tmp_path):
    original = image_models["nl"]
    sd = public.export_state_dict(original, "cgnl")
    assert {"layer3.5.t.weight", "layer3.5.bn.running_var"} <= set(sd) and "layer3.5.t.bias" not in sd
    path = tmp_path / "model_best.pth.tar"
    torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}}, path)
    model = nlviz.load_model(path)
    assert model.card["format"] == "cgnl:nl" and model.layer3.nl4.scale == pytest.approx(512**-0.5)
    assert same_tensors(public.export_state_dict(model, "cgnl"), sd) == []


def test_bat_official_and_torchvision_baseline(image_models, tmp_path):
    original = image_models["bat"]
    sd = public.export_state_dict(original, "bat")
    assert {
        "layer2.nl1.conv1.0.bias",
        "layer3.nl5.batransform.conv_p.weight",
        "layer3.nl5.conv2.1.running_mean",
    } <= set(sd)
    path = tmp_path / "nlnet50_bat.pth.tar"
    torch.save({"epoch": 90, "arch": "nlnet50", "state_dict": {f"module.{k}": v for k, v in sd.items()}}, path)
    model = nlviz.load_model(path)
    assert model.card["format"] == "bat" and [n for n, _ in operator_blocks(model)] == [
        "layer2.nl1",
        "layer2.nl3",
        "layer3.nl1",
        "layer3.nl3",
        "layer3.nl5",
    ]
    op = model.layer2.nl1
    assert (op.s, op.k, op.normalize, op.reduce.conv.bias is not None) == (7, 4, "sigmoid", True)
    _check_round_trip(original, model, "bat")
    x = torch.randn(1, 3, 112, 112)  # res3 14×14, res4 7×7: multiples of s = 7
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), rtol=0, atol=0)

    base = public.export_state_dict(original, "torchvision")  # the same backbone without blocks
    torch.save(base, tmp_path / "resnet50.pth")
    plain = nlviz.load_model(tmp_path / "resnet50.pth")
    assert plain.card["format"] == "torchvision" and operator_blocks(plain) == []
    assert same_tensors(plain.state_dict(), {k: v for k, v in original.state_dict().items() if ".nl" not in k}) == []


@pytest.mark.parametrize("mode", ["embedded_gaussian", "gaussian", "dot_product", "concatenation"])
def test_alexhex7_four_instantiations(tmp_path, mode):
    original = randomize(build_model("alexhex7_mnist", mode=mode))
    sd = public.export_state_dict(original, "alexhex7")
    assert ("nl_1.theta.weight" in sd) == (mode != "gaussian") and ("nl_1.concat_project.0.weight" in sd) == (
        mode == "concatenation"
    )
    path = tmp_path / "net.pth"
    torch.save({f"module.{k}": v for k, v in sd.items()}, path)
    model = nlviz.load_model(path, format="alexhex7:dot_product" if mode == "dot_product" else "auto")
    assert model.nl_1.mode == model.nl_2.mode == mode
    expected_from = {"embedded_gaussian": "default", "dot_product": "format asked for"}.get(mode, "keys")
    assert expected_from in model.card["variant_from"]
    assert same_tensors(public.export_state_dict(model, "alexhex7"), sd) == []
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), rtol=0, atol=0)


def test_alexhex7_released_file(alexhex7_dir):
    model = nlviz.load_model(alexhex7_dir / "net.pth")
    assert model.card["format"] == "alexhex7:embedded_gaussian" and model.nl_1.scale == 1.0
    assert model.card["conventions"]["pooling"].startswith("max-pool 2×2 of φ and g after")
