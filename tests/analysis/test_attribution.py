"""captum attributions on the input grid (checked against autograd and by hand) and the Jacobian row."""

from __future__ import annotations

import pytest
import torch

from nlviz.analysis import integrated_gradients, jacobian_row, layer_gradcam, occlusion, saliency
from nlviz.models import build_model
from support.randomize import randomize


def _hooks(model):
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())


def test_saliency_is_the_max_abs_input_gradient(recorded):
    model, x, _ = recorded
    a = saliency(model, x, 2)
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(xg)[0, 2], xg)
    assert a.map.shape == (4, 16, 16) and a.method == "saliency"
    torch.testing.assert_close(a.map, grad[0].abs().amax(0), rtol=1e-6, atol=0)
    assert _hooks(model) == 0


def test_integrated_gradients_are_complete(recorded):
    model, x, _ = recorded
    a = integrated_gradients(model, x, 1, n_steps=64, internal_batch_size=16)
    with torch.no_grad():
        gap = (model(x)[0, 1] - model(torch.zeros_like(x))[0, 1]).item()
    assert a.map.shape == (4, 16, 16) and a.raw.shape == x.shape
    assert a.map.sum().item() == pytest.approx(gap, rel=0.02, abs=1e-3)
    assert abs(a.delta) <= 0.02 * abs(gap) + 1e-3


def test_layer_gradcam_is_lifted_cell_by_cell(recorded):
    model, x, _ = recorded
    a = layer_gradcam(model, x, 0, "layer2")
    cam = a.raw[0, 0]  # (4, 8, 8): layer2 runs at stride 2
    assert a.map.shape == (4, 16, 16) and cam.shape == (4, 8, 8) and (cam >= 0).all()
    torch.testing.assert_close(a.map, cam.repeat_interleave(2, 1).repeat_interleave(2, 2))
    with pytest.raises(ValueError, match="is not a module of this model"):
        layer_gradcam(model, x, 0, "layer7")


def test_occlusion_is_the_logit_drop_per_patch(recorded):
    model, x, _ = recorded
    a = occlusion(model, x, 3, window=(2, 8, 8))
    assert a.map.shape == (4, 16, 16)
    with torch.no_grad():
        base = model(x)[0, 3]
        for t0, y0, x0 in [(0, 0, 0), (2, 8, 0)]:
            xo = x.clone()
            xo[:, :, t0 : t0 + 2, y0 : y0 + 8, x0 : x0 + 8] = 0
            drop = base - model(xo)[0, 3]
            patch = a.map[t0 : t0 + 2, y0 : y0 + 8, x0 : x0 + 8]
            torch.testing.assert_close(patch, drop.expand_as(patch), rtol=1e-5, atol=1e-6)


def test_image_model_maps_and_bad_input():
    model = randomize(
        build_model("tiny_resnet2d", num_classes=3, widths=[8, 16], depths=[1, 1]), seed=3, std=0.2, add=True
    )
    x = torch.randn(1, 3, 16, 16)
    for a in (
        saliency(model, x, 0),
        integrated_gradients(model, x, 0, n_steps=8),
        layer_gradcam(model, x, 0, "layer2"),
        occlusion(model, x, 0, window=(1, 4, 4)),
    ):
        assert a.map.shape == (1, 16, 16), a.method
    with pytest.raises(ValueError, match="class index in"):
        saliency(model, x, 3)
    with pytest.raises(ValueError, match="one input"):
        saliency(model, torch.randn(2, 3, 16, 16), 0)
    model.train()
    with pytest.raises(ValueError, match="eval mode"):
        saliency(model, x, 0)
    model.eval()


def _block_input(model, x, name):
    got = {}
    h = model.get_submodule(name).register_forward_pre_hook(lambda m, a: got.setdefault("x", a[0].detach()))
    try:
        with torch.no_grad():
            model(x)
    finally:
        h.remove()
    return got["x"]


def test_jacobian_row_equals_the_dense_jacobian(recorded):
    model, x, rec = recorded
    name = rec.blocks[0]  # the NL block (grid 4×8×8)
    op = model.get_submodule(name)
    x_in = _block_input(model, x, name)  # (1, 16, 4, 8, 8)
    jac = torch.autograd.functional.jacobian(lambda v: (op(v) - v)[0, :, 1, 2, 5], x_in)  # (C, 1, C, 4, 8, 8)
    expected = jac.square().sum((0, 1, 2)).sqrt()  # (4, 8, 8)
    row = jacobian_row(model, x, name, (1, 2, 5), chunk=5)
    assert row.kind == "jacobian" and not row.normalized and row.weights.shape == (1, 1, 1, 4, 8, 8)
    torch.testing.assert_close(row.weights[0, 0, 0], expected, rtol=1e-4, atol=1e-6)
    assert row.geometry.key.grid == (4, 8, 8) and _hooks(model) == 0


def test_jacobian_row_of_a_per_frame_block_stays_in_its_frame(recorded):
    model, x, rec = recorded
    row = jacobian_row(model, x, rec.blocks[1], (2, 1, 1))  # Spatial Bias, inside PerFrame
    w = row.weights[0, 0, 0]  # (4, 4, 4) on the video grid
    assert row.query_grid == (4, 4, 4) and w.shape == (4, 4, 4)
    assert w[2].abs().sum() > 0 and w[[0, 1, 3]].abs().max() == 0
    with pytest.raises(ValueError, match="outside the query grid"):
        jacobian_row(model, x, rec.blocks[1], (4, 0, 0))
