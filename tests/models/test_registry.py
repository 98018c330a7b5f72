"""The model registry: listing, errors naming what is valid, and card round-trips (arch + JSON args)."""

from __future__ import annotations

import json

import pytest
import torch

from nlviz.models import ARCHS, arch_spec, build_model, from_spec

CONFIG_ARCHS = ["tiny_c2d", "tiny_i3d", "tiny_resnet2d", "r50_c2d", "r50_i3d"]


def test_registry_lists_archs():
    assert set(CONFIG_ARCHS + ["alexhex7_mnist"]) <= set(ARCHS.names())
    for name in ARCHS.names():
        arch = ARCHS.get(name)
        assert arch.task in ("video", "image")
        assert len(arch.example_input) == (5 if arch.task == "video" else 4)


def test_unknown_arch_lists_valid():
    with pytest.raises(ValueError, match="unknown model architecture 'resnet9000'") as err:
        build_model("resnet9000")
    for name in CONFIG_ARCHS:
        assert name in str(err.value)


@pytest.mark.parametrize("arch", CONFIG_ARCHS)
def test_unknown_option_lists_valid(arch):
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['widht'\]") as err:
        build_model(arch, widht=3)
    assert "num_classes" in str(err.value) and "blocks" in str(err.value)
    assert set(ARCHS.get(arch).options()) >= {"num_classes", "blocks", "dropout"}


def test_c2d_has_no_inflation_options():
    with pytest.raises(ValueError, match="inflate"):
        build_model("tiny_c2d", inflate=[[1], [1], [1]])


def test_args_must_be_json():
    with pytest.raises(ValueError, match="JSON-serializable"):
        build_model("tiny_c2d", widths=torch.tensor([8, 16]))


@pytest.mark.parametrize(
    "args, needle",
    [
        ({"widths": [8, 16], "depths": [1, 1, 1]}, "depths needs 2 values"),
        ({"widths": [8, 0, 16]}, "widths must be ints ≥ 1"),
        ({"strides": [1, 2]}, "strides needs 3 values"),
        ({"dropout": 1.5}, r"dropout must be a number in \[0, 1\)"),
        ({"coords": "yes"}, "coords must be true or false"),
        ({"blocks": {"op": "toy"}}, "blocks must be a list"),
        ({"num_classes": 0}, "num_classes must be an int ≥ 1"),
    ],
)
def test_bad_config_values(args, needle):
    with pytest.raises(ValueError, match=needle):
        build_model("tiny_c2d", **args)


def test_bad_inflation_and_kernels():
    with pytest.raises(ValueError, match=r"inflate\[1\] must be 2 values"):
        build_model("tiny_i3d", depths=[1, 2, 1], inflate=[[1], [1], [0]])
    with pytest.raises(ValueError, match="temporal_kernel must be an odd int"):
        build_model("tiny_i3d", temporal_kernel=2)
    with pytest.raises(ValueError, match="local=True fixes strides"):
        build_model("tiny_resnet2d", local=True, strides=[1, 2, 2])
    with pytest.raises(ValueError, match=r"inflate must be one list of 0/1 per stage"):
        build_model("r50_i3d", inflate=[[1, 1, 1]])


@pytest.mark.parametrize("arch", CONFIG_ARCHS)
def test_card_roundtrip_rebuilds_same_architecture(arch):
    blocks = [{"op": "toy", "stage": 2, "index": 1, "options": {"gain": 0.5}}]
    with torch.device("meta"):
        model = build_model(arch, num_classes=7, blocks=blocks, **({"depths": [1, 2, 1]} if "tiny" in arch else {}))
        card = json.loads(json.dumps(arch_spec(model)))  # what a checkpoint card stores
        again = from_spec(card)
    assert card["arch"] == arch
    assert card["args"]["num_classes"] == 7
    assert card["args"]["blocks"] == blocks
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in again.state_dict().items()}
    assert "layer2.nl1.proj.weight" in shapes
    assert arch_spec(again) == card


def test_card_roundtrip_same_weights_same_seed():
    torch.manual_seed(3)
    a = build_model("tiny_i3d", coords=True, inflate=[[1], [0], [1]])
    torch.manual_seed(3)
    b = from_spec(json.loads(json.dumps(arch_spec(a))))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_card_stores_full_config():
    args = arch_spec(build_model("tiny_resnet2d", local=True))["args"]
    assert args["local"] is True and args["widths"] == [16, 32, 64] and args["strides"] is None
    args = arch_spec(build_model("tiny_c2d", blocks=[{"op": "toy", "stage": 1, "index": 0}]))["args"]
    assert args["blocks"] == [{"op": "toy", "stage": 1, "index": 0, "options": {}}]  # canonical form


def test_arch_spec_and_from_spec_errors():
    with pytest.raises(ValueError, match="not built by nlviz.models.build_model"):
        arch_spec(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="a model spec is"):
        from_spec({"arch": "tiny_c2d"})


def test_broken_family_breaks_only_its_arch(monkeypatch):
    from nlviz.models import Arch

    broken = Arch("broken", "a family still being written", "image", (1, 3, 8, 8), "nlviz.models._no_such_file", "Net")
    monkeypatch.setitem(ARCHS._items, "broken", broken)
    with pytest.raises(ImportError, match="arch 'broken' is unavailable: module nlviz.models._no_such_file"):
        build_model("broken")
    assert build_model("tiny_resnet2d").arch_spec["arch"] == "tiny_resnet2d"
