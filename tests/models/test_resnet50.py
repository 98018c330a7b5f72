"""ResNet-50 C2D / I3D of the NL paper: geometry and parameter counts on the meta device (no compute)."""

from __future__ import annotations

import pytest
import torch

import nlviz.ops
from nlviz.models import build_model, operator_blocks, paper_placement
from support.toy_ops import ALL_OPS

CLIP = (1, 3, 32, 224, 224)  # the paper's 32-frame clip
HEAD_400 = 2048 * 400 + 400
BACKBONE = {"r50_c2d": 23_508_032, "r50_i3d": 27_223_872}  # mmaction2's ResNet3d I3D-R50: 27,223,872


def _meta(arch, **args):
    with torch.device("meta"):
        return build_model(arch, **args)


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _shapes(model, x_shape, names):
    """Output shapes of the named modules for an input of ``x_shape`` (meta tensors: shapes only)."""
    out = {}
    hooks = [
        model.get_submodule(n).register_forward_hook(lambda m, i, o, n=n: out.__setitem__(n, tuple(o.shape)))
        for n in names
    ]
    try:
        logits = model(torch.empty(x_shape, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    return out, tuple(logits.shape)


@pytest.mark.parametrize("arch", ["r50_c2d", "r50_i3d"])
def test_paper_geometry_32x224(arch):
    names = ["conv1", "maxpool", "layer1", "pool2", "layer2", "layer3", "layer4"]
    shapes, logits = _shapes(_meta(arch), CLIP, names)
    assert shapes == {
        "conv1": (1, 64, 16, 112, 112),
        "maxpool": (1, 64, 8, 56, 56),
        "layer1": (1, 256, 8, 56, 56),
        "pool2": (1, 256, 4, 56, 56),
        "layer2": (1, 512, 4, 28, 28),  # res3 4×28×28
        "layer3": (1, 1024, 4, 14, 14),  # res4 4×14×14
        "layer4": (1, 2048, 4, 7, 7),
    }
    assert logits == (1, 400)


def test_eight_frame_and_caffe_stem_geometry():
    model = _meta("r50_c2d", conv1_stride_t=1, pool1_stride_t=1, pool1_padding=0)
    shapes, _ = _shapes(model, (1, 3, 8, 224, 224), ["maxpool", "layer2", "layer3"])
    assert shapes == {"maxpool": (1, 64, 8, 55, 55), "layer2": (1, 512, 4, 28, 28), "layer3": (1, 1024, 4, 14, 14)}


@pytest.mark.parametrize("arch", ["r50_c2d", "r50_i3d"])
def test_backbone_parameter_counts(arch):
    model = _meta(arch)
    assert _params(model) - _params(model.fc) == BACKBONE[arch]
    assert _params(model.fc) == HEAD_400
    assert [len(getattr(model, f"layer{s}")) for s in (1, 2, 3, 4)] == [3, 4, 6, 3]


def test_i3d_kernels_follow_the_paper():
    model = _meta("r50_i3d")
    assert model.conv1.weight.shape == (64, 3, 5, 7, 7)
    kt = [[b.conv1.weight.shape[2] for b in getattr(model, f"layer{s}")] for s in (1, 2, 3, 4)]
    assert kt == [[3, 3, 3], [3, 1, 3, 1], [3, 1, 3, 1, 3, 1], [1, 3, 1]]
    assert all(b.conv2.weight.shape[2:] == (1, 3, 3) for s in (1, 2, 3, 4) for b in getattr(model, f"layer{s}"))
    c2d = _meta("r50_c2d")
    assert c2d.conv1.weight.shape == (64, 3, 1, 7, 7)
    assert all(m.weight.shape[2] == 1 for m in c2d.modules() if isinstance(m, torch.nn.Conv3d))


@pytest.mark.parametrize(
    "placement, names",
    [
        ("1", ["layer3.nl4"]),
        ("5", ["layer2.nl1", "layer2.nl3", "layer3.nl1", "layer3.nl3", "layer3.nl5"]),
        ("10", [f"layer2.nl{i}" for i in range(4)] + [f"layer3.nl{i}" for i in range(6)]),
    ],
)
def test_paper_placements(placement, names):
    model = _meta("r50_c2d", blocks=paper_placement(placement, "toy"))
    assert [n for n, _ in operator_blocks(model)] == names
    # "1": res4 right before its last block → between layer3.4 and layer3.5
    if placement == "1":
        assert [n for n, _ in model.layer3.named_children()][-3:] == ["4", "nl4", "5"]


def test_paper_placement_errors():
    with pytest.raises(ValueError, match=r"'2' is not a paper placement; valid: \['1', '5', '10'\]"):
        paper_placement("2")


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("arch", ["r50_c2d", "r50_i3d"])
def test_any_op_in_paper_placement_keeps_geometry(arch, op):
    model = _meta(arch, blocks=paper_placement("5", op))
    ops = operator_blocks(model)
    assert len(ops) == 5
    stage_of = {n: n.split(".")[0] for n, _ in ops}
    seen = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, (i[0].shape, o.shape))) for n, m in ops]
    try:
        logits = model(torch.empty(CLIP, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    assert tuple(logits.shape) == (1, 400)
    expected = {"layer2": (512, 4, 28, 28), "layer3": (1024, 4, 14, 14)}
    for name, (x_in, x_out) in seen.items():
        c, t, h, w = expected[stage_of[name]]
        want = (1, c, t, h, w) if not name.endswith(".op") else (t, c, h, w)  # per-frame: T folded into B
        assert tuple(x_in) == want and tuple(x_out) == want


# Non-local block parameters with C' = C/2, θ/φ/g/W_z convs with bias and a BN after W_z.
def _nl_params(c: int, mode: str) -> int:
    ci = c // 2
    embed = 0 if mode == "gaussian" else 2 * (c * ci + ci)
    concat = 2 * ci if mode == "concatenation" else 0
    return embed + (c * ci + ci) + (ci * c + c) + 2 * c + concat


@pytest.mark.skipif("nonlocal" not in nlviz.ops.names(), reason="the nonlocal operator is not registered yet")
@pytest.mark.parametrize(
    "mode, res3, res4, total",
    [("embedded_gaussian", 526_592, 2_101_760, 35_401_936), ("gaussian", 263_936, 1_052_160, 31_727_824)],
)
def test_nonlocal_parameter_counts(mode, res3, res4, total):
    """OPERATORS.md: res3 block ≈ 0.526 M, res4 ≈ 2.10 M; I3D-R50 + 5 NL = 35.4 M (31.7 M gaussian), 400 classes.

    mmaction2's W_z has no bias (BN follows): 512 / 1024 fewer per block, 35,397,840 and 31,723,728 there.
    """
    model = _meta("r50_i3d", blocks=paper_placement("5", "nonlocal", {"mode": mode, "sub_sample": True}))
    blocks = dict(operator_blocks(model))
    assert _params(blocks["layer2.nl1"]) == res3 == _nl_params(512, mode)
    assert _params(blocks["layer3.nl1"]) == res4 == _nl_params(1024, mode)
    assert _params(model) == total == BACKBONE["r50_i3d"] + HEAD_400 + 2 * res3 + 3 * res4
    assert round(total / 1e6, 1) == (35.4 if mode != "gaussian" else 31.7)


@pytest.mark.skipif("nonlocal" not in nlviz.ops.names(), reason="the nonlocal operator is not registered yet")
@pytest.mark.parametrize("placement, n3, n4", [("1", 0, 1), ("10", 4, 6)])
def test_nonlocal_counts_other_placements(placement, n3, n4):
    model = _meta("r50_c2d", blocks=paper_placement(placement, "nonlocal"))
    extra = n3 * _nl_params(512, "embedded_gaussian") + n4 * _nl_params(1024, "embedded_gaussian")
    assert _params(model) == BACKBONE["r50_c2d"] + HEAD_400 + extra
