"""mmaction2's own ResNet3d / ResNet3dSlowOnly with ``non_local`` blocks and random weights, saved as an
mmaction2 checkpoint, loaded through ``nlviz.load_model``: same features (≤1e-4 relative) and attention rows equal
to the rows computed from the reference modules' own θ/φ outputs."""

from __future__ import annotations

import json

import pytest
import torch

import nlviz
from nlviz.models import operator_blocks
from support.randomize import randomize
from support.refs import load_or_skip, mmaction_backbones

pytestmark = pytest.mark.ref

I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D_NL = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))
SLOW_NL = ((0, 0, 0), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 0, 0))
#: release file names (mmaction2 metafiles): the mode of the first case comes from the name only
NAMES = {
    "dot_product": "i3d_imagenet-pretrained-r50-nl-dot-product_8xb8-32x2x1-100e_kinetics400-rgb_20220812-8e1f2148.pth",
    "embedded_gaussian": "i3d_nl_embedded_gaussian.pth",
    "gaussian": "i3d_nl_gaussian.pth",
    "slowonly": "slowonly_r50-in1k-pre-nl-embedded-gaussian_8xb16-8x8x1-steplr-150e_kinetics400-rgb_20220901-df42dc84.pth",
}


def _nl_cfg(mode: str, use_scale: bool) -> dict:
    return dict(sub_sample=True, use_scale=use_scale, norm_cfg=dict(type="BN3d", requires_grad=True), mode=mode)


def _reference(case: str):
    refs = load_or_skip(mmaction_backbones)
    if case == "slowonly":
        return refs.ResNet3dSlowOnly(
            depth=50,
            pretrained=None,
            lateral=False,
            conv1_kernel=(1, 7, 7),
            conv1_stride_t=1,
            pool1_stride_t=1,
            inflate=(0, 0, 1, 1),
            non_local=SLOW_NL,
            non_local_cfg=_nl_cfg("embedded_gaussian", True),
        )
    return refs.ResNet3d(
        depth=50,
        pretrained=None,
        pretrained2d=False,
        conv1_kernel=(5, 7, 7),
        conv1_stride_t=2,
        pool1_stride_t=2,
        inflate=I3D_INFLATE,
        non_local=I3D_NL,
        non_local_cfg=_nl_cfg(case, False),
    )


@pytest.fixture(scope="module", params=list(NAMES))
def pair(request, tmp_path_factory):
    """(case, reference backbone, its head, our model loaded from the saved mmaction2 checkpoint, path)."""
    case = request.param
    torch.manual_seed(0)
    ref = randomize(_reference(case))
    ref.eval()
    head = torch.nn.Linear(2048, 400)
    state = {f"backbone.{k}": v for k, v in ref.state_dict().items()}
    state.update({"cls_head.fc_cls.weight": head.weight.detach(), "cls_head.fc_cls.bias": head.bias.detach()})
    ckpt = {"state_dict": state}
    if case == "embedded_gaussian":  # an mmengine file keeps its config text in meta.cfg
        ckpt["meta"] = {
            "cfg": "model = dict(backbone=dict(type='ResNet3d', non_local_cfg=dict(sub_sample=True, "
            "use_scale=False, mode='embedded_gaussian')))",
            "epoch": 100,
        }
    path = tmp_path_factory.mktemp(case) / NAMES[case]
    torch.save(ckpt, path)
    return case, ref, head, nlviz.load_model(path), path


def _clip(case: str) -> torch.Tensor:
    return torch.randn(1, 3, 8 if case == "slowonly" else 16, 64, 64)  # res3 2×8×8 (I3D) / 8×8×8 (SlowOnly)


def test_loads_with_the_right_conventions(pair):
    case, ref, _, model, _ = pair
    mode = "embedded_gaussian" if case == "slowonly" else case
    where = {
        "dot_product": "file name",
        "embedded_gaussian": "config stored",
        "gaussian": "checkpoint keys",
        "slowonly": "file name",
    }[case]
    assert model.card["format"] == f"mmaction2:{mode}" if mode != "gaussian" else model.card["format"] == "mmaction2"
    assert where in model.card["variant_from"]
    ops = operator_blocks(model)
    expected = (
        ["layer2.nl0", "layer2.nl2", "layer3.nl0", "layer3.nl2", "layer3.nl4"]
        if case == "slowonly"
        else ["layer2.nl1", "layer2.nl3", "layer3.nl1", "layer3.nl3", "layer3.nl5"]
    )
    assert [n for n, _ in ops] == expected
    op = ops[0][1]
    assert (op.mode, op.sub_sample, op.pool_order, op.use_scale) == (mode, True, "after_conv", case == "slowonly")
    # every parameter of the reference, the 400-class head, and W_z's zero biases (mmcv's has none: BN follows)
    zero_bias = sum(o.conv_out.bias.numel() for _, o in ops)
    assert all(o.conv_out.bias.abs().max() == 0 for _, o in ops)
    n_ref = sum(p.numel() for p in ref.parameters()) + 2048 * 400 + 400
    assert sum(p.numel() for p in model.parameters()) == n_ref + zero_bias
    assert model.card["input"]["shape"] == [3, 8 if case == "slowonly" else 32, 224, 224]


def test_features_and_logits_match(pair):
    case, ref, head, model, _ = pair
    x = _clip(case)
    with torch.no_grad():
        want, got = ref(x), model.forward_features(x)
        logits = model(x)
    assert got.shape == want.shape
    err = ((got - want).abs().max() / want.abs().max()).item()
    print(f"{case}: forward_features max relative error {err:.3g}")
    assert err <= 1e-4, f"{case}: relative error {err:.3g}"
    with torch.no_grad():
        torch.testing.assert_close(logits, head(want.mean(dim=(2, 3, 4))), rtol=1e-4, atol=1e-4)


def _reference_rows(ref, block_name: str, mode: str, scale: float, x: torch.Tensor, queries: torch.Tensor):
    """Rows from mmcv's own modules: θ output (or the block input), φ output (or the pooled input)."""
    block = ref.get_submodule(block_name)
    seen = {}
    hooks = [
        block.register_forward_pre_hook(lambda m, a: seen.__setitem__("x", a[0])),
        block.phi.register_forward_hook(lambda m, a, o: seen.__setitem__("phi", o)),
    ]
    if mode != "gaussian":
        hooks.append(block.theta.register_forward_hook(lambda m, a, o: seen.__setitem__("theta", o)))
    with torch.no_grad():
        ref(x)
    for h in hooks:
        h.remove()
    theta = (seen["x"] if mode == "gaussian" else seen["theta"]).flatten(2).double()  # (B, Cq, N)
    phi = seen["phi"].flatten(2).double()  # (B, Cq, Nk)
    t, h, w = seen["x"].shape[2:]
    flat = queries[:, 0] * h * w + queries[:, 1] * w + queries[:, 2]
    logits = torch.einsum("bcq,bck->bqk", theta[:, :, flat], phi)  # (B, Q, Nk)
    if mode == "dot_product":
        return logits / phi.shape[-1]
    return (logits * scale).softmax(-1)


def test_captured_rows_match_reference_theta_phi(pair):
    case, ref, _, model, _ = pair
    mode = "embedded_gaussian" if case == "slowonly" else case
    x = _clip(case)
    ours, theirs = (
        ("layer2.nl0", "layer2.0.non_local_block") if case == "slowonly" else ("layer2.nl1", "layer2.1.non_local_block")
    )
    with nlviz.capture(model) as rec, torch.no_grad():
        model(x)
    q_grid, k_grid = rec.grids(ours)
    assert (q_grid, k_grid) == (((8, 8, 8), (8, 4, 4)) if case == "slowonly" else ((2, 8, 8), (2, 4, 4)))
    queries = torch.tensor([[0, 0, 0], [1, 3, 5], [q_grid[0] - 1, 7, 7], [0, 4, 2]])
    scale = 256**-0.5 if case == "slowonly" else 1.0  # C' = 512 / 2 in res3
    want = _reference_rows(ref, theirs, mode, scale, x, queries)
    got = rec.affinity(ours, queries).rows()[:, 0].double()  # (B, Q, Nk)
    assert got.shape == want.shape == (1, 4, k_grid[0] * k_grid[1] * k_grid[2])
    err = ((got - want).abs().max() / want.abs().max()).item()
    print(f"{case}: rows max relative error {err:.3g}")
    assert err <= 1e-5, f"{case}: rows differ by {err:.3g} (relative)"


@pytest.mark.parametrize("pair", ["dot_product"], indirect=True)
def test_fig3_arrows_from_res3(pair):
    """The Fig. 3 view of a user's mmaction2 file: top-20 keys of res3 queries, across frames, in pixels."""
    case, ref, _, model, path = pair
    x = _clip(case)
    with nlviz.capture(model) as rec, torch.no_grad():
        model(x)
    block = rec.blocks[0]
    assert block == "layer2.nl1"  # res3 block 1 of the 5-block model
    queries = torch.tensor([[0, 4, 4], [1, 2, 6]])
    top = rec.affinity(block, queries).topk(20)
    assert top.cells.shape == (1, 1, 2, 20, 3) and top.weights.shape == (1, 1, 2, 20)
    want = _reference_rows(ref, "layer2.1.non_local_block", case, 1.0, x, queries)
    assert torch.equal(top.indices[0, 0].sort(-1).values, want[0].topk(20, -1).indices.sort(-1).values)
    assert set(top.cells[0, 0, :, :, 0].flatten().tolist()) == {0, 1}  # arrows go to both frames of res3
    boxes = rec.geometry(block).key.cell_box(top.cells[0, 0, 0].numpy())  # (20, 6): t0, t1, y0, x0, y1, x1
    assert boxes.shape == (20, 6)
    assert ((boxes[:, 1] - boxes[:, 0]) == 8).all() and ((boxes[:, 4] - boxes[:, 2]) == 16).all()  # 2×4×4 keys


@pytest.mark.parametrize("pair", ["dot_product"], indirect=True)
def test_nlviz_export_runs_on_the_mmaction2_file(pair, tmp_path):
    """``nlviz export --model that.pth --input clip.mp4``: the batch exporter loads the file by itself."""
    *_, path = pair
    export = pytest.importorskip("nlviz.export")
    import cv2
    import numpy as np

    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 8, (80, 64))
    for t in range(20):
        frame = np.zeros((64, 80, 3), np.uint8)
        cv2.circle(frame, (10 + 3 * t, 32), 8, (0, 200, 255), -1)
        writer.write(frame)
    writer.release()
    spec = {
        "version": 1,
        "models": [str(path)],
        "blocks": ["layer2.nl1"],
        "k": 20,
        "formats": ["json"],
        "queries": {"mode": "explicit", "units": "cells", "points": [[0, 4, 4]]},
        "input_frames": 16,
        "input_size": 64,
    }
    manifest = export.run(spec, [str(clip)], tmp_path / "out", progress=False)
    assert manifest["counts"] == {"done": 1, "error": 0, "pending": 0}, manifest["inputs"]
    [view] = [o for o in manifest["inputs"][0]["outputs"] if o.endswith("layer2.nl1.json")]
    arrows = json.loads((tmp_path / "out" / view).read_text())["queries"][0]["topk"]
    assert len(arrows) == 20 and {a["cell"][0] for a in arrows} == {0, 1}  # Fig. 3: arrows into both frames
