"""The non-local block: fast paths vs the explicit reference (values and gradients), the affinity contract
recomputed by brute force from the module's own weights, zero-init, and errors for bad input."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from nlviz import ops
from nlviz.ops.nonlocal_block import NonLocalBlock

MODES = ["gaussian", "embedded_gaussian", "dot_product", "concatenation"]
# odd spatial sizes so subsampling floors; 3D keeps time unpooled
SHAPES = {1: (2, 6, 7), 2: (2, 6, 5, 3), 3: (1, 6, 2, 3, 5)}
KERNEL = {1: 2, 2: (2, 2), 3: (1, 2, 2)}
QUERY_GRID = {1: (1, 1, 7), 2: (1, 5, 3), 3: (2, 3, 5)}
KEY_GRID_SUB = {1: (1, 1, 3), 2: (1, 2, 1), 3: (2, 1, 2)}  # floor of odd sizes
POOLS = [(False, "after_conv"), (True, "after_conv"), (True, "before_conv")]
CASES = [(m, d, s, p) for m in MODES for d in (1, 2, 3) for s, p in POOLS]
IDS = [f"{m}-{d}d-{'sub-' + p if s else 'full'}" for m, d, s, p in CASES]


def _op(mode, dim, sub_sample, pool, dtype=torch.float32, **kw):
    """A block with every weight random (the zero-init norm too) in eval mode."""
    op = ops.create("nonlocal", 6, mode=mode, dim=dim, sub_sample=sub_sample, pool=pool, **kw).to(dtype).eval()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in op.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=dtype) * 0.5)
        if op.norm is not None:
            op.norm.running_mean.copy_(torch.randn(6, generator=g, dtype=dtype) * 0.1)
            op.norm.running_var.copy_(torch.rand(6, generator=g, dtype=dtype) + 0.5)
    return op


@pytest.mark.parametrize("mode,dim,sub_sample,pool", CASES, ids=IDS)
def test_fast_equals_reference_values_and_grads(mode, dim, sub_sample, pool):
    op = _op(mode, dim, sub_sample, pool, torch.float64)
    x = torch.randn(SHAPES[dim], dtype=torch.float64, requires_grad=True)
    fast, ref = op(x), op.forward_reference(x)
    torch.testing.assert_close(fast, ref, rtol=0, atol=1e-12)
    assert fast.shape == x.shape
    upstream = torch.randn_like(fast)
    params = [x, *op.parameters()]
    g_fast = torch.autograd.grad(fast, params, upstream)
    g_ref = torch.autograd.grad(ref, params, upstream)
    for a, b in zip(g_fast, g_ref):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
    # the fast path's analytic gradient against finite differences
    assert torch.autograd.gradcheck(op, (x,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["gaussian", "embedded_gaussian"])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_softmax_fused_and_explicit_paths_agree(mode, dim, monkeypatch):
    """Softmax modes switch from two BLAS products to fused SDPA above SOFTMAX_EXPLICIT_BYTES: both are exact."""
    import nlviz.ops.nonlocal_block as nl

    op = _op(mode, dim, True, "after_conv", torch.float64)
    x = torch.randn(SHAPES[dim], dtype=torch.float64, requires_grad=True)
    ref = op.forward_reference(x)
    upstream = torch.randn_like(ref)
    g_ref = torch.autograd.grad(ref, [x, *op.parameters()], upstream)
    for limit in (nl.SOFTMAX_EXPLICIT_BYTES, 0):  # explicit (these shapes are tiny), then forced fused
        monkeypatch.setattr(nl, "SOFTMAX_EXPLICIT_BYTES", limit)
        out = op(x)
        torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
        for a, b in zip(torch.autograd.grad(out, [x, *op.parameters()], upstream), g_ref):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-10)
        with torch.no_grad():  # float32 within the contract's 1e-5
            torch.testing.assert_close(copy.deepcopy(op).float()(x.float()), ref.float(), rtol=0, atol=1e-5)


def test_float32_fast_path_within_1e5_and_trains(monkeypatch):
    """Float32 through SDPA / associativity / query chunks matches the reference, and chunked concatenation trains."""
    import nlviz.ops.nonlocal_block as nl

    x = torch.randn(2, 6, 8, 9)
    for mode in MODES:
        op = _op(mode, 2, True, "after_conv")
        with torch.no_grad():
            torch.testing.assert_close(op(x), op.forward_reference(x), rtol=0, atol=1e-5)
    # 5 queries × B=2 × 4×4 keys per chunk: 15 chunks; float64 is exact, float32 within the contract's 1e-5
    # (conv_out.bias's gradient is 0 in exact arithmetic, BN removes it: float32 leaves ~1e-6 of noise there)
    monkeypatch.setattr(nl, "CONCAT_CHUNK_BYTES", 5 * 2 * 16 * 4)
    for dtype, atol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        op = _op("concatenation", 2, True, "after_conv", dtype).train()
        op(x.to(dtype)).square().mean().backward()
        fast = [p.grad.clone() for p in op.parameters()]
        op.zero_grad()
        op.forward_reference(x.to(dtype)).square().mean().backward()
        for a, p in zip(fast, op.parameters()):
            torch.testing.assert_close(a, p.grad, rtol=0, atol=atol)
    op = _op("concatenation", 2, True, "after_conv", torch.float64)
    assert torch.autograd.gradcheck(op, (torch.randn(2, 6, 8, 9, dtype=torch.float64, requires_grad=True),))


@pytest.mark.parametrize("norm", ["bn", None])
@pytest.mark.parametrize("mode", MODES)
def test_identity_at_init(mode, norm):
    op = ops.create("nonlocal", 6, mode=mode, dim=3, sub_sample=True, norm=norm)
    x = torch.randn(2, 6, 2, 4, 4)
    for train in (True, False):
        op.train(train)
        with torch.no_grad():
            assert torch.equal(op(x), x)
    assert op.identity_at_init


def _brute_rows(op: NonLocalBlock, x: torch.Tensor) -> torch.Tensor:
    """All (B, N_q, N_k) weights written out from the module's weights, one (i, j) pair at a time."""

    def conv(m, t):  # 1×1 conv as a matrix product over channels: (B, C, *grid) → (B, C', N)
        return torch.einsum("oc,bcn->bon", m.weight.flatten(1), t.flatten(2)) + m.bias[None, :, None]

    pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[op.dim]
    k = KERNEL[op.dim]
    down = (lambda t: pool(t, k, k)) if op.sub_sample else (lambda t: t)

    def keys(m):
        if op.pool_order == "before_conv":
            return conv(m, down(x))
        return down(conv(m, x).reshape(x.shape[0], -1, *x.shape[2:])).flatten(2)

    if op.mode == "gaussian":
        theta, phi = x.flatten(2), down(x).flatten(2)
    else:
        theta, phi = conv(op.theta, x), keys(op.phi)
    b, _, nq = theta.shape
    nk = phi.shape[-1]
    f = torch.empty(b, nq, nk, dtype=torch.float64)
    for bi in range(b):
        for i in range(nq):
            for j in range(nk):
                ti, pj = theta[bi, :, i].double(), phi[bi, :, j].double()
                if op.mode == "concatenation":
                    f[bi, i, j] = torch.relu(op.concat_project.weight.flatten().double() @ torch.cat((ti, pj)))
                else:
                    f[bi, i, j] = ti @ pj
    if op.mode == "gaussian":
        return f.softmax(-1)
    if op.mode == "embedded_gaussian":
        return (f * (op.inter_channels**-0.5 if op.use_scale else 1.0)).softmax(-1)
    return f / nk


@pytest.mark.parametrize("mode,dim,sub_sample,pool", CASES, ids=IDS)
def test_affinity_rows_match_brute_force_and_decompose(mode, dim, sub_sample, pool):
    op = _op(mode, dim, sub_sample, pool)
    x = torch.randn(SHAPES[dim])
    with torch.no_grad():
        aff = op.affinity(x)
        brute = _brute_rows(op, x)
        agg, v = op.aggregate(x), op.values(op.affinity_inputs(x))
    key_grid = KEY_GRID_SUB[dim] if sub_sample else QUERY_GRID[dim]
    assert aff.query_grid == QUERY_GRID[dim] and aff.key_grid == key_grid
    nk = key_grid[0] * key_grid[1] * key_grid[2]
    assert aff.weights.shape == (x.shape[0], 1, len(aff.queries), *key_grid)
    assert (aff.kind, aff.normalized) == {
        "gaussian": ("softmax", True),
        "embedded_gaussian": ("softmax", True),
        "dot_product": ("dot_product", False),
        "concatenation": ("concatenation", False),
    }[mode]
    assert op.family == "nonlocal"
    rows = aff.rows()[:, 0]  # (B, Nq, Nk)
    torch.testing.assert_close(rows.double(), brute, rtol=1e-5, atol=1e-6)
    if aff.normalized:
        torch.testing.assert_close(rows.sum(-1), torch.ones(rows.shape[:2]), rtol=0, atol=1e-6)
    # the fast aggregate is Σ_j w_ij v_j with these weights
    assert agg.shape == (x.shape[0], 1, op.inter_channels, len(aff.queries)) and v.shape[-1] == nk
    torch.testing.assert_close(torch.einsum("bgqk,bgck->bgcq", aff.rows(), v), agg, rtol=1e-5, atol=1e-6)
    # chosen queries: the same rows, computed alone
    picks = aff.queries[[len(aff.queries) - 1, 0]]
    torch.testing.assert_close(
        op.affinity(x, picks).rows(), aff.rows()[:, :, [len(aff.queries) - 1, 0]], rtol=0, atol=0
    )


def test_use_scale_default_and_value():
    assert ops.create("nonlocal", 8).scale == pytest.approx(0.5)  # embedded gaussian: 1/√C', C' = 4
    assert ops.create("nonlocal", 8, use_scale=False).scale == 1.0
    for mode in ("gaussian", "dot_product", "concatenation"):
        assert ops.create("nonlocal", 8, mode=mode).scale == 1.0
    assert ops.create("nonlocal", 8, inter_channels=2).inter_channels == 2
    assert ops.create("nonlocal", 8, reduction=4).inter_channels == 2


@pytest.mark.parametrize(
    "options,match",
    [
        ({"mode": "softmax"}, r"mode='softmax' is not supported; allowed: \['gaussian', 'embedded_gaussian'"),
        ({"dim": 4}, r"dim=4 is not supported; allowed: \[1, 2, 3\]"),
        ({"pool": "before"}, r"pool='before' is not supported; allowed: \['after_conv', 'before_conv'\]"),
        ({"norm": "gn"}, r"norm='gn' is not supported; allowed: \['bn', None\]"),
        ({"mode": "dot_product", "use_scale": True}, r"use_scale=True applies only to mode='embedded_gaussian'"),
        ({"reduction": 0}, r"reduction=0 must be a positive integer"),
        ({"sub_sample": "yes"}, r"sub_sample='yes' is not supported"),
        ({"subsample": True}, r"unknown option\(s\) \['subsample'\]"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        ops.create("nonlocal", 8, **options)


def test_bad_input():
    op = ops.create("nonlocal", 8, dim=2, sub_sample=True)
    with pytest.raises(ValueError, match="in_channels=8 but got 4 channels"):
        op(torch.randn(1, 4, 4, 4))
    with pytest.raises(ValueError, match=r"dim=2\) expects a \(B, C, H, W\) tensor, got shape \(1, 8, 2, 4, 4\)"):
        op(torch.randn(1, 8, 2, 4, 4))
    with pytest.raises(ValueError, match=r"sub_sample=True needs spatial sizes >= 2.*\(1, 8, 1, 4\)"):
        op(torch.randn(1, 8, 1, 4))
    with pytest.raises(ValueError, match="in_channels=8 but got 4 channels"):
        op.affinity(torch.randn(1, 4, 4, 4))


def test_concatenation_at_25k_positions_stays_far_below_the_full_matrix():
    """Peak memory of a concatenation forward and backward at N = N_k = 25,088 (C' = 32), in a fresh process.

    The full weights would be 2.5 GB. Chunks of fresh 32 MB temporaries interleaved with small long-lived
    outputs once fragmented the heap up to that size (2.1 GB forward, 5.3 GB with backward); reused buffers
    keep both near one chunk.
    """
    code = (
        "import resource, torch\n"
        "from nlviz import ops\n"
        "torch.set_num_threads(1)\n"
        "op = ops.create('nonlocal', 64, mode='concatenation', dim=3, zero_init=False)\n"
        "x = torch.randn(1, 64, 8, 56, 56, requires_grad=True)\n"
        "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "base = peak()\n"
        "with torch.no_grad():\n"
        "    op.eval()(x)\n"
        "fwd = peak() - base\n"
        "op.train()(x).sum().backward()\n"
        "print(fwd, peak() - base)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    fwd_mb, bwd_mb = map(float, out.split())
    assert fwd_mb < 300 and bwd_mb < 500, (fwd_mb, bwd_mb)
