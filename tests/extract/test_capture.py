"""nlviz.capture: hook lifecycle (as captum tests it), exact rows, per-frame blocks, thread isolation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import nlviz
from nlviz.models import build_model
from support.randomize import randomize


def _all_hooks(model):
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


@pytest.fixture
def c2d():
    blocks = [
        {"op": "nonlocal", "stage": 2, "index": 0, "options": {"mode": "embedded_gaussian", "sub_sample": True}},
        {"op": "spatial_bias", "stage": 3, "index": 0},
    ]
    return randomize(
        build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=blocks), seed=3, std=0.2, add=True
    )


def test_no_hooks_remain_on_every_exit_path(c2d, monkeypatch):
    x = torch.randn(1, 3, 4, 16, 16)
    assert _all_hooks(c2d) == 0
    with nlviz.capture(c2d) as rec:
        c2d(x)
    assert _all_hooks(c2d) == 0 and len(rec.blocks) == 2
    with pytest.raises(ValueError), nlviz.capture(c2d):
        assert _all_hooks(c2d) > 0
        c2d(torch.randn(1, 3, 4, 16))  # a forward that raises (wrong rank)
    assert _all_hooks(c2d) == 0
    op = c2d.get_submodule(rec.blocks[1])

    def boom(*a):
        raise RuntimeError("operator failed mid-forward")

    monkeypatch.setattr(op, "forward", boom)
    with pytest.raises(RuntimeError, match="mid-forward"), nlviz.capture(c2d):
        c2d(x)  # raises inside the second block, after the first block's hook ran
    assert _all_hooks(c2d) == 0
    with pytest.raises(KeyError), nlviz.capture(c2d):
        raise KeyError("inside the with")
    assert _all_hooks(c2d) == 0


def test_rows_equal_brute_force_from_module_weights(c2d):
    x = torch.randn(2, 3, 4, 16, 16)
    with nlviz.capture(c2d) as rec:
        c2d(x)
    name = rec.blocks[0]
    op = c2d.get_submodule(name)
    # brute force: recompute the block's input by running the net up to it, then softmax(θ_i·φ_j / √C')
    feats = {}
    h = op.register_forward_pre_hook(lambda m, a: feats.setdefault("x", a[0]))
    try:
        c2d(x)
    finally:
        h.remove()
    xin = feats["x"]
    theta = op.theta(xin).flatten(2)  # (B, C', N)
    phi = torch.nn.functional.max_pool3d(op.phi(xin), (1, 2, 2)).flatten(2)  # (B, C', Nk)
    full = torch.softmax(torch.einsum("bcn,bck->bnk", theta, phi) / theta.shape[1] ** 0.5, -1)
    qgrid, kgrid = rec.grids(name)
    queries = [(0, 0, 0), (3, 7, 5), (2, 4, 4)]
    aff = rec.affinity(name, queries)
    flat = [(t * qgrid[1] + y) * qgrid[2] + xx for t, y, xx in queries]
    torch.testing.assert_close(aff.rows()[:, 0], full[:, flat], rtol=1e-5, atol=1e-6)
    assert aff.block == name and aff.kind == "softmax" and aff.key_grid == kgrid == (4, 4, 4)


def test_per_frame_block_on_the_video_grid(c2d):
    x = torch.randn(2, 3, 4, 16, 16)
    with nlviz.capture(c2d) as rec:
        c2d(x)
    name = rec.blocks[1]
    assert name.endswith(".op")
    qgrid, kgrid = rec.grids(name)
    assert qgrid[0] == 4 and kgrid[0] == 4
    aff = rec.affinity(name, [(1, 2, 3), (3, 0, 0)])
    assert aff.weights.shape == (2, 3, 2, *kgrid)
    w = aff.weights
    assert w[:, :, 0, [0, 2, 3]].abs().max() == 0 and w[:, :, 1, :3].abs().max() == 0
    # the in-frame rows are the op's own rows for that frame (batch index b·T + t)
    r = rec.record(name)
    inner = r.op.affinity(r.inputs, [(0, 2, 3)])
    torch.testing.assert_close(w[:, :, 0, 1], inner.weights[1::4, :, 0, 0])


def test_geometry_round_trip(c2d):
    with nlviz.capture(c2d) as rec:
        c2d(torch.randn(1, 3, 4, 16, 16))
    geo = rec.affinity(rec.blocks[0], [(0, 0, 0)]).geometry
    assert geo.query.input_size == (4, 16, 16) and geo.query.stride == (1.0, 2.0, 2.0)
    assert geo.key.stride == (1.0, 4.0, 4.0)
    for t, y, x in [(0, 0, 0), (3, 15, 15), (2, 9, 4)]:
        cell = geo.query.cell_at(t, y, x)[0]
        t0, t1, y0, x0, y1, x1 = geo.query.cell_box([cell])[0]
        assert t0 <= t < t1 and y0 <= y < y1 and x0 <= x < x1
    cells = np.array([[0, 0, 0], [3, 7, 7], [1, 2, 5]])
    centers = geo.query.cell_center(cells)
    np.testing.assert_array_equal(geo.query.cell_at(*np.round(centers).T), cells)
    with pytest.raises(ValueError, match="outside the model input"):
        geo.query.cell_at(0, 16, 0)


def test_unknown_block_and_unrecorded_block(c2d):
    with pytest.raises(ValueError, match="operator blocks of this model"):
        with nlviz.capture(c2d, blocks=["layer9.nl0"]):
            pass
    with nlviz.capture(c2d) as rec:
        pass
    with pytest.raises(ValueError, match="none ran"):
        rec.affinity("layer2.nl0")


def test_concurrent_captures_do_not_mix(c2d):
    """8 threads capture one shared model with different clips; each gets exactly its single-threaded result."""
    n = 8
    xs = [torch.randn(1, 3, 4, 16, 16) * (1 + i) for i in range(n)]
    expected = []
    for x in xs:
        with nlviz.capture(c2d) as rec:
            c2d(x)
        expected.append({b: rec.affinity(b, [(1, 3, 3), (3, 0, 1)]).weights for b in rec.blocks})
    barrier = threading.Barrier(n)
    results: dict[int, dict[str, torch.Tensor]] = {}
    errors = []

    def work(i):
        try:
            with nlviz.capture(c2d) as rec:
                barrier.wait()  # all captures are open: all n sets of hooks are on the model
                for _ in range(3):
                    c2d(xs[i])
                barrier.wait()
            results[i] = {b: rec.affinity(b, [(1, 3, 3), (3, 0, 1)]).weights for b in rec.blocks}
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(n):
        assert results[i].keys() == expected[i].keys()
        for b in expected[i]:
            torch.testing.assert_close(results[i][b], expected[i][b], rtol=0, atol=0)
    assert not torch.allclose(expected[0]["layer2.nl0"], expected[1]["layer2.nl0"])
    assert _all_hooks(c2d) == 0


def test_per_frame_extras_use_the_3d_layout():
    """BAT run per frame exposes P/Q as (B, G, T, H, H) like a 3D block (was (B, T, G, ...) before the fix)."""
    spec = {"op": "bat", "stage": 2, "index": 0, "options": {"block_size": 2, "groups": 2, "dim": 2}}
    m2 = randomize(build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=[spec]), seed=3, std=0.2, add=True)
    spec3 = {**spec, "options": {**spec["options"], "dim": 3}}
    m3 = randomize(
        build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=[spec3]), seed=3, std=0.2, add=True
    )
    x = torch.randn(2, 3, 3, 8, 8)
    shapes = []
    for m in (m2, m3):
        with nlviz.capture(m) as rec:
            m(x)
        aff = rec.affinity(rec.blocks[0], [(1, 0, 1)])
        shapes.append((aff.extras["P"].shape, aff.extras["Q"].shape))
    assert shapes[0] == shapes[1] == ((2, 2, 3, 4, 4), (2, 2, 3, 4, 4))


def test_capture_in_training_mode_leaves_batchnorm_statistics_as_the_forward_alone_does():
    """The hook recomputes a block's inputs with the block's own BatchNorm layers (BAT's reduce and embed, SB's
    compression); in training mode that used to update their running statistics twice (fails before the fix)."""
    import copy

    torch.manual_seed(0)
    model = nlviz.models.build_model(
        "tiny_c2d",
        num_classes=4,
        widths=[8, 8, 16],
        blocks=[{"op": "bat", "stage": 3, "index": 0, "options": {"block_size": 4, "groups": 2, "dim": 3}}],
    ).train()
    twin = copy.deepcopy(model)
    x = torch.randn(2, 3, 4, 32, 32)
    model(x)
    with nlviz.capture(twin) as rec:
        twin(x)
    assert rec.blocks == ["layer3.nl0"]
    for (name, a), (_, b) in zip(model.state_dict().items(), twin.state_dict().items()):
        assert torch.equal(a, b), name
