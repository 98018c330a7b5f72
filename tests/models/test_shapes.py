"""Every arch builds; forward / forward_features give the documented shapes; coords and receptive fields."""

from __future__ import annotations

import importlib

import pytest
import torch

from nlviz.models import ARCHS, build_model, operator_blocks
from nlviz.models.layers import AddCoords

#: (input shape, forward_features shape) for the archs defined in this package
EXPECTED = {
    "tiny_c2d": ((2, 3, 8, 32, 32), (2, 64, 8, 8, 8)),
    "tiny_i3d": ((2, 3, 8, 48, 48), (2, 64, 8, 12, 12)),
    "tiny_resnet2d": ((2, 3, 32, 32), (2, 64, 8, 8)),
    "r50_c2d": ((1, 3, 16, 64, 64), (1, 2048, 2, 2, 2)),
    "r50_i3d": ((1, 3, 16, 64, 64), (1, 2048, 2, 2, 2)),
}


def _build(name, **args):
    arch = ARCHS.get(name)
    try:
        importlib.import_module(arch.module)
    except ImportError as err:  # a family still being written elsewhere
        pytest.skip(f"{arch.module} does not import yet: {err}")
    return build_model(name, **args).eval()


@pytest.mark.parametrize("name", ARCHS.names())
def test_every_arch_forward_shapes(name):
    model = _build(name)
    x_shape, f_shape = EXPECTED.get(name, (ARCHS.get(name).example_input, None))
    x = torch.randn(x_shape)
    with torch.no_grad():
        logits, feats = model(x), model.forward_features(x)
    num_classes = model.arch_spec["args"].get("num_classes", logits.shape[1])
    assert logits.shape == (x_shape[0], num_classes)
    assert feats.shape[0] == x_shape[0] and feats.dim() >= 3
    if f_shape is not None:
        assert tuple(feats.shape) == f_shape


@pytest.mark.parametrize("name", ["tiny_c2d", "tiny_i3d", "tiny_resnet2d"])
def test_tiny_logits_are_pooled_features(name):
    model = _build(name, num_classes=5, dropout=0.3)
    x = torch.randn(EXPECTED[name][0])
    with torch.no_grad():
        f = model.forward_features(x)
        expected = model.fc(f.flatten(2).mean(-1))
        got = model(x)
    assert got.shape == (x.shape[0], 5)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_kernels_c2d_vs_i3d():
    c2d, i3d = _build("tiny_c2d"), _build("tiny_i3d", inflate=[[1], [0], [1]], temporal_kernel=5)
    assert c2d.conv1.weight.shape == (16, 3, 1, 3, 3)
    assert all(m.weight.shape[2] == 1 for m in c2d.modules() if isinstance(m, torch.nn.Conv3d))
    assert i3d.conv1.weight.shape == (16, 3, 3, 3, 3)
    assert [i3d.get_submodule(f"layer{s}.0.conv1").weight.shape[2] for s in (1, 2, 3)] == [5, 1, 5]
    assert i3d.layer1[0].conv2.weight.shape[2] == 1


def test_video_nets_keep_time():
    model = _build("tiny_i3d", strides=[2, 2, 1], stem_stride=1)
    with torch.no_grad():
        f = model.forward_features(torch.randn(1, 3, 5, 32, 48))
    assert tuple(f.shape) == (1, 64, 5, 8, 12)


@pytest.mark.parametrize("name", ["tiny_c2d", "tiny_resnet2d"])
def test_coords_are_appended_inside(name):
    model = _build(name, coords=True)
    assert model.conv1.weight.shape[1] == 5  # RGB + (y, x)
    with torch.no_grad():
        assert model(torch.randn(EXPECTED[name][0])).shape == (EXPECTED[name][0][0], 10)


def test_add_coords_values():
    x = torch.zeros(2, 3, 4, 5, 3)  # (B, C, T, H, W)
    y = AddCoords()(x)
    assert y.shape == (2, 5, 4, 5, 3)
    assert torch.equal(y[:, :3], x)
    torch.testing.assert_close(y[0, 3, 0, :, 0], torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]))
    torch.testing.assert_close(y[1, 4, 3, 2, :], torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.equal(y[:, 3:, 0], y[:, 3:, 3])  # the same for every frame
    assert AddCoords()(torch.zeros(1, 1, 2, 2)).shape == (1, 3, 2, 2)


@pytest.mark.parametrize("local, rf", [(True, 21), (False, 25)])
def test_receptive_field_matches_gradient_support(local, rf):
    """With positive weights and inputs every ReLU passes, so d(center cell)/d(input) is non-zero exactly
    on the receptive field; its extent must equal ``receptive_field()``."""
    model = _build("tiny_resnet2d", local=local)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.abs_()
    assert model.receptive_field() == rf
    x = torch.rand(1, 3, 64, 64, requires_grad=True)
    f = model.forward_features(x)
    stride = 64 // f.shape[-1]
    assert stride == (2 if local else 4)
    cy = f.shape[-1] // 2
    f[0, :, cy, cy].sum().backward()
    rows = x.grad[0].abs().sum((0, 2)).nonzero().flatten()
    cols = x.grad[0].abs().sum((0, 1)).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == rf
    assert cols.max() - cols.min() + 1 == rf


@pytest.mark.parametrize(
    "name, shape", [("tiny_c2d", (2, 3, 32, 32)), ("tiny_c2d", (2, 4, 8, 32, 32)), ("tiny_resnet2d", (2, 3, 8, 32, 32))]
)
def test_wrong_input_shape_raises(name, shape):
    with pytest.raises(ValueError, match="expects"):
        _build(name)(torch.randn(shape))


def test_r50_wrong_input_raises():
    with torch.device("meta"):
        model = build_model("r50_c2d")
    with pytest.raises(ValueError, match=r"expects \(B, 3, T, H, W\) clips"):
        model(torch.empty(1, 3, 224, 224, device="meta"))


@pytest.mark.parametrize("name", ARCHS.names())
def test_operator_blocks_follow_forward_call_order(name):
    """The capture layer relies on operator_blocks being in forward order, for every arch."""
    args = {}
    if ARCHS.get(name).config is not None:
        args["blocks"] = [{"op": "toy", "stage": 2, "index": 0}, {"op": "toy2d", "stage": 1, "index": 0}]
    model = _build(name, **args)
    blocks = operator_blocks(model)
    assert len(blocks) == (2 if args else len(blocks)) and blocks
    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: calls.append(n)) for n, m in blocks]
    x_shape = EXPECTED.get(name, (ARCHS.get(name).example_input,))[0]
    with torch.no_grad():
        model(torch.randn(x_shape))
    for h in hooks:
        h.remove()
    assert calls == [n for n, _ in blocks]


def test_alexhex7_options_checked():
    _build("alexhex7_mnist")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['widths'\]; valid: .*num_classes"):
        build_model("alexhex7_mnist", widths=[1])
