"""Attention rollout: exact mode equals the dense matrix product; top-k mode stays within its bound."""

from __future__ import annotations

import pytest
import torch

from nlviz.analysis import attention_rollout
from nlviz.analysis.grids import spread_matrices
from nlviz.analysis.mass import row_mass
from nlviz.analysis.rollout import input_grid


def _dense_spread(size, a, b):
    mt, my, mx = spread_matrices(size, a, b)
    return torch.kron(torch.kron(mt, my), mx)  # (Na, Nb)


def _dense_block(rec, block, size):
    """Â = ½·R + ½·A·S_k as a dense (N_q, N_in) matrix (batch 0), from every row of the block."""
    qg, kg = rec.grids(block)
    ing = input_grid(qg, kg)
    a = row_mass(rec.affinity(block)).nan_to_num(0).mean(1)[0]  # (Nq, Nk)
    return 0.5 * _dense_spread(size, qg, ing) + 0.5 * a @ _dense_spread(size, kg, ing), ing


def test_exact_rollout_equals_the_dense_product(recorded):
    _, _, rec = recorded
    size = rec.input_size
    nl, sb = rec.blocks  # NL: grid 4×8×8 with keys 4×4×4; per-frame Spatial Bias: 4×4×4, 3 groups
    a_sb, in_sb = _dense_block(rec, sb, size)  # (64, 64)
    a_nl, in_nl = _dense_block(rec, nl, size)  # (256, 256)
    move = _dense_spread(size, in_sb, rec.grids(nl)[0])  # SB input grid → NL output grid
    dense = a_sb @ move @ a_nl  # (64, 256)
    queries = [(0, 0, 0), (2, 1, 3), (3, 3, 3)]
    got = attention_rollout(rec, queries)
    assert got.kind == "rollout" and got.weights.shape == (1, 1, 3, *in_nl) and got.key_grid == in_nl
    flat = [(t * 4 + y) * 4 + x for t, y, x in queries]
    torch.testing.assert_close(got.rows()[0, 0].double(), dense[flat], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(got.rows().sum(-1).double(), torch.ones(1, 1, 3, dtype=torch.float64))
    assert got.extras["error_bound"].abs().max() == 0
    # one block alone, and the chunked path (a few rows per chunk) gives the same numbers
    alone = attention_rollout(rec, queries, blocks=[sb], max_bytes=10_000)
    torch.testing.assert_close(alone.rows()[0, 0].double(), a_sb[flat], rtol=1e-5, atol=1e-7)
    # residual=1: only the geometric identity is left
    ident = attention_rollout(rec, [(1, 2, 2)], residual=1.0)
    expected = torch.zeros(4, 8, 8)
    expected[1, 4:6, 4:6] = 0.25
    torch.testing.assert_close(ident.weights[0, 0, 0], expected)


def test_topk_rollout_is_within_its_error_bound(recorded):
    _, _, rec = recorded
    queries = [(0, 0, 0), (2, 1, 3)]
    exact = attention_rollout(rec, queries).rows()[0, 0].double()
    for k in (4, 20):
        approx = attention_rollout(rec, queries, top_k=k)
        err = (approx.rows()[0, 0].double() - exact).abs().sum(-1)  # (Q,) L1
        bound = approx.extras["error_bound"][0]
        assert (bound > 0).all() and (err <= bound + 1e-6).all()
    full = attention_rollout(rec, queries, top_k=10_000)
    torch.testing.assert_close(full.rows()[0, 0].double(), exact, rtol=0, atol=1e-7)


def test_rollout_errors(recorded):
    _, _, rec = recorded
    with pytest.raises(ValueError, match="forward order"):
        attention_rollout(rec, [(0, 0, 0)], blocks=list(reversed(rec.blocks)))
    with pytest.raises(ValueError, match="was not recorded"):
        attention_rollout(rec, [(0, 0, 0)], blocks=["layer9.nl0"])
    with pytest.raises(ValueError, match="outside the query grid"):
        attention_rollout(rec, [(0, 9, 0)])
    with pytest.raises(ValueError, match="residual"):
        attention_rollout(rec, [(0, 0, 0)], residual=2.0)
