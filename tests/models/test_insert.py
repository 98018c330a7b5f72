"""Operator insertion by config: placement, names, forward order, identity at init, and bad specs."""

from __future__ import annotations

import pytest
import torch

from nlviz.models import PerFrame, build_model, is_per_frame, operator_blocks
from nlviz.ops.base import OPS, NonLocalOp
from support.state_dicts import copy_backbone
from support.toy_ops import ALL_OPS, op_options

TINY = {"tiny_c2d": (2, 3, 4, 16, 16), "tiny_i3d": (2, 3, 4, 16, 16), "tiny_resnet2d": (2, 3, 16, 16)}
DEPTHS = [1, 2, 1]


def _supports_3d(name: str) -> bool:
    return name not in ("spatial_bias", "toy2d")


def _net(arch, blocks, **args):
    return build_model(arch, depths=DEPTHS, blocks=blocks, **args).eval()


@pytest.mark.parametrize("arch", list(TINY))
@pytest.mark.parametrize("op", ALL_OPS)
def test_insert_every_op_where_asked(arch, op):
    spec = {"op": op, "stage": 2, "index": 1, "options": op_options(op)}
    model = _net(arch, [spec])
    video = arch != "tiny_resnet2d"
    wrapped = video and not _supports_3d(op)
    names = [n for n, _ in operator_blocks(model)]
    assert names == (["layer2.nl1.op"] if wrapped else ["layer2.nl1"])
    assert isinstance(model.layer2.nl1, PerFrame) is wrapped
    assert is_per_frame(model, names[0]) is wrapped
    module = dict(operator_blocks(model))[names[0]]
    assert isinstance(module, OPS.get(op))
    if hasattr(module, "dim"):
        assert module.dim == (3 if video and not wrapped else 2)
    # placement: the operator consumes exactly what residual block 1 of stage 2 produced (after add + ReLU),
    # and the next stage consumes what the operator produced
    seen = {}
    hooks = [
        model.layer2[1].register_forward_hook(lambda m, i, o: seen.__setitem__("block", o.clone())),
        model.layer2.nl1.register_forward_hook(lambda m, i, o: seen.update(op_in=i[0].clone(), op_out=o.clone())),
        model.layer3.register_forward_pre_hook(lambda m, i: seen.__setitem__("next", i[0].clone())),
    ]
    with torch.no_grad():
        logits = model(torch.randn(TINY[arch]))
    for h in hooks:
        h.remove()
    assert logits.shape == (TINY[arch][0], 10)
    assert torch.equal(seen["op_in"], seen["block"])
    assert torch.equal(seen["next"], seen["op_out"])
    assert seen["op_out"].shape == seen["op_in"].shape


@pytest.mark.parametrize("arch", list(TINY))
@pytest.mark.parametrize("op", ALL_OPS)
def test_identity_ops_leave_logits_unchanged(arch, op):
    if not OPS.get(op).identity_at_init:
        pytest.skip(f"{op} is not the identity at init (its paper's init)")
    torch.manual_seed(0)
    with_op = _net(arch, [{"op": op, "stage": 3, "index": 0, "options": op_options(op)}], coords=True)
    plain = _net(arch, [], coords=True)
    extra = copy_backbone(with_op, plain)
    assert extra and all(k.startswith("layer3.nl0.") for k in extra)
    x = torch.randn(TINY[arch])
    with torch.no_grad():
        diff = (with_op(x) - plain(x)).abs().max().item()
    assert diff <= 1e-5, diff


def test_insertion_keeps_backbone_names():
    plain = _net("tiny_c2d", [])
    with_ops = _net("tiny_c2d", [{"op": "toy", "stage": 1, "index": 0}, {"op": "toy2d", "stage": 2, "index": 0}])
    assert set(plain.state_dict()) == {k for k in with_ops.state_dict() if ".nl" not in k}
    assert "layer2.1.conv1.weight" in plain.state_dict()
    assert len(with_ops.layer2) == 2 and with_ops.layer2[1] is with_ops.get_submodule("layer2.1")


def test_operator_blocks_in_forward_order():
    specs = [
        {"op": "toy", "stage": 3, "index": 0},
        {"op": "toy2d", "stage": 2, "index": 1},
        {"op": "toy", "stage": 2, "index": 0},
        {"op": "toy", "stage": 2, "index": 1, "options": {"gain": 0.1}},  # a second op after the same block
    ]
    model = _net("tiny_i3d", specs)
    names = [n for n, _ in operator_blocks(model)]
    assert names == ["layer2.nl0", "layer2.nl1.op", "layer2.nl1_1", "layer3.nl0"]
    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: calls.append(n)) for n, m in operator_blocks(model)]
    with torch.no_grad():
        model(torch.randn(TINY["tiny_i3d"]))
    for h in hooks:
        h.remove()
    assert calls == names
    assert model.layer2.nl1_1.proj.weight.flatten()[0].item() == pytest.approx(0.1)


def test_nested_operators_listed_once():
    class Outer(NonLocalOp):
        def __init__(self):
            super().__init__()
            self.inner = OPS.get("toy")(4)

    model = torch.nn.Sequential(Outer(), OPS.get("toy")(4))
    assert [n for n, _ in operator_blocks(model)] == ["0", "1"]


def test_explicit_dim2_in_video_net_runs_per_frame():
    model = _net("tiny_c2d", [{"op": "toy", "stage": 2, "index": 0, "options": {"dim": 2}}])
    assert isinstance(model.layer2.nl0, PerFrame) and model.layer2.nl0.op.dim == 2
    model = _net("tiny_c2d", [{"op": "toy", "stage": 2, "index": 0, "options": {"dim": 3}}])
    assert model.layer2.nl0.dim == 3


@pytest.mark.parametrize(
    "arch, spec, needle",
    [
        ("tiny_c2d", {"op": "toy", "stage": 0, "index": 0}, r"stage 0 does not exist; this model has stages 1\.\.3"),
        ("tiny_c2d", {"op": "toy", "stage": 4, "index": 0}, r"layer1: 1, layer2: 2, layer3: 1"),
        (
            "tiny_c2d",
            {"op": "toy", "stage": 2, "index": 2},
            r"stage 2 \(layer2\) has 2 residual block\(s\), so index must be in 0\.\.1; got index=2",
        ),
        ("tiny_c2d", {"op": "toy", "stage": 1, "index": -1}, r"index must be in 0\.\.0"),
        ("tiny_c2d", {"op": "toy", "stage": 1}, r"missing key\(s\) \['index'\]"),
        ("tiny_c2d", {"op": "toy", "stage": 1, "index": 0, "where": "x"}, r"unknown key\(s\) \['where'\]"),
        ("tiny_c2d", {"op": "nonlocall", "stage": 1, "index": 0}, r"unknown operator 'nonlocall'; valid: .*toy"),
        ("tiny_c2d", {"op": "toy", "stage": "2", "index": 0}, "stage must be an int"),
        ("tiny_c2d", {"op": "toy", "stage": 1, "index": True}, "index must be an int"),
        ("tiny_c2d", {"op": "toy", "stage": 1, "index": 0, "options": [1]}, "options must be a dict"),
        (
            "tiny_c2d",
            {"op": "toy", "stage": 1, "index": 0, "options": {"gian": 1}},
            r"unknown option\(s\) \['gian'\]; valid: \['dim', 'gain'\]",
        ),
        (
            "tiny_c2d",
            {"op": "toy", "stage": 1, "index": 0, "options": {"dim": 4}},
            "use 3 .spacetime. or 2 .per frame.",
        ),
        (
            "tiny_resnet2d",
            {"op": "toy", "stage": 1, "index": 0, "options": {"dim": 3}},
            "in an image network needs dim=2",
        ),
        (
            "r50_i3d",
            {"op": "toy", "stage": 3, "index": 6},
            r"stage 3 \(layer3\) has 6 residual block\(s\), so index must be in 0\.\.5",
        ),
        ("tiny_c2d", "toy@2", "a block spec must be a dict"),
    ],
)
def test_bad_specs_raise(arch, spec, needle):
    with pytest.raises(ValueError, match=needle), torch.device("meta"):
        build_model(arch, blocks=[spec], **({"depths": DEPTHS} if "tiny" in arch else {}))


def test_bad_spec_error_names_its_position():
    good = {"op": "toy", "stage": 1, "index": 0}
    with pytest.raises(ValueError, match=r"blocks\[1\]: stage 9"):
        _net("tiny_c2d", [good, {"op": "toy", "stage": 9, "index": 0}])
