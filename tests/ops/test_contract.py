"""The operator contract, checked for every registered operator (registry-driven, as timm's model tests).

A new operator gets tested the day it is registered: `test_every_op_has_a_case` fails until it has a case here.
"""

from __future__ import annotations

import pytest
import torch

from nlviz import ops
from support.randomize import randomize

NL_MODES = ["gaussian", "embedded_gaussian", "dot_product", "concatenation"]

# (name, options, input shape)
CASES = [
    *[("nonlocal", {"mode": m, "dim": 2, "sub_sample": s}, (2, 16, 6, 5)) for m in NL_MODES for s in (False, True)],
    *[("nonlocal", {"mode": m, "dim": 3, "sub_sample": True}, (2, 16, 3, 4, 5)) for m in NL_MODES],
    *[("nonlocal", {"mode": m, "dim": 1}, (2, 16, 9)) for m in NL_MODES],
    ("nonlocal", {"mode": "embedded_gaussian", "dim": 3, "sub_sample": True, "pool": "before_conv"}, (1, 16, 2, 6, 6)),
    ("cgnl", {"kernel": "dot_product", "groups": 4}, (2, 16, 6, 5)),
    ("cgnl", {"kernel": "gaussian", "groups": 2, "order": 3}, (2, 16, 6, 5)),
    ("cgnl", {"kernel": "dot_product", "groups": 4, "dim": 3}, (2, 16, 3, 4, 4)),
    ("bat", {"block_size": 4, "groups": 4, "bias": False}, (2, 32, 8, 12)),
    ("bat", {"block_size": 2, "groups": 2, "normalize": "softmax"}, (1, 16, 4, 4)),
    ("bat", {"block_size": 2, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2}, (2, 16, 4, 4, 6)),
    ("spatial_bias", {}, (2, 32, 12, 12)),
    ("spatial_bias", {}, (1, 32, 10, 14)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for n, o, _ in CASES]


def _build(name, options, channels=16):
    return ops.create(name, channels, **options).eval()


def test_every_op_has_a_case():
    assert set(ops.names()) == {"nonlocal", "cgnl", "bat", "spatial_bias"}
    assert {n for n, _, _ in CASES} == set(ops.names())


@pytest.mark.parametrize("name,options,shape", CASES, ids=IDS)
def test_shape_preserved_and_identity_at_init(name, options, shape):
    x = torch.randn(shape)
    op = _build(name, options, shape[1])
    with torch.no_grad():
        y = op(x)
    assert y.shape == x.shape
    if op.identity_at_init:
        torch.testing.assert_close(y, x, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name,options,shape", CASES, ids=IDS)
def test_decomposition_and_rows(name, options, shape):
    """aggregate[..., i] == Σ_j w_ij · v_j, rows sum to 1 when normalized, subsets and chunks agree."""
    x = torch.randn(shape)
    op = randomize(_build(name, options, shape[1]), seed=1, std=0.3, mean_std=0.1)
    with torch.no_grad():
        inputs = op.affinity_inputs(x)
        aff = op.affinity(inputs)
        agg = op.aggregate(x)
        v = op.values(inputs)
    w = aff.rows()  # (B, G, Nq, Nk)
    assert w.shape[:3] == (shape[0], op.num_groups(inputs), len(aff.queries))
    assert aff.weights.shape[3:] == aff.key_grid
    torch.testing.assert_close(torch.einsum("bgqk,bgck->bgcq", w, v), agg, rtol=1e-4, atol=1e-5)
    assert aff.normalized == op.normalized and aff.kind == op.kind and aff.kind
    if aff.normalized:
        torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)), rtol=0, atol=1e-5)
    # a subset of queries equals the matching rows of the full map; tiny chunks give the same numbers
    picks = aff.queries[[0, len(aff.queries) // 2, -1]]
    sub = op.affinity(inputs, picks, max_bytes=1)
    torch.testing.assert_close(sub.rows(), w[:, :, [0, len(aff.queries) // 2, -1]], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["nonlocal", "cgnl", "bat", "spatial_bias"])
def test_unknown_option_lists_valid(name):
    with pytest.raises(ValueError, match="unknown option.*valid"):
        ops.create(name, 32, no_such_option=1)


def test_unknown_op_lists_valid():
    with pytest.raises(ValueError, match="valid: bat, cgnl, nonlocal, spatial_bias"):
        ops.create("attention", 32)


def test_query_outside_grid_is_an_error():
    op = _build("nonlocal", {"mode": "embedded_gaussian", "dim": 2})
    inputs = op.affinity_inputs(torch.randn(1, 16, 4, 4))
    with pytest.raises(ValueError, match=r"outside the query grid"):
        op.affinity(inputs, [(0, 4, 0)])
    with pytest.raises(ValueError, match=r"\(Q, 3\)"):
        op.affinity(inputs, [(0, 1)])


def test_topk_cells_match_weights():
    op = randomize(_build("nonlocal", {"mode": "embedded_gaussian", "dim": 3}), seed=1, std=0.3, mean_std=0.1)
    x = torch.randn(1, 16, 2, 3, 4)
    aff = op.affinity(x, [(1, 2, 3), (0, 0, 0)])
    top = aff.topk(5)
    assert top.cells.shape == (1, 1, 2, 5, 3) and top.weights.shape == (1, 1, 2, 5)
    t, y, xx = top.cells.unbind(-1)
    gathered = aff.weights[0, 0][torch.arange(2)[:, None], t[0, 0], y[0, 0], xx[0, 0]]
    torch.testing.assert_close(gathered, top.weights[0, 0])
    assert (top.weights[..., :-1] >= top.weights[..., 1:]).all()
    with pytest.raises(ValueError, match="k=0"):
        aff.topk(0)
    fused = aff.fuse("max")
    assert fused.groups == 1 and not fused.normalized


@pytest.mark.parametrize("name", ["nonlocal", "cgnl"])
def test_zero_init_false_starts_active(name):
    """zero_init=False: standard init, the block changes its input at init (and says it is not the identity)."""
    x = torch.randn(2, 16, 6, 5)
    op = ops.create(name, 16, zero_init=False, **({"groups": 4} if name == "cgnl" else {})).eval()
    assert not op.identity_at_init
    with torch.no_grad():
        assert (op(x) - x).abs().max() > 1e-2
    with pytest.raises(ValueError, match="zero_init"):
        ops.create(name, 16, zero_init="yes")
