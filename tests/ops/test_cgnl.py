"""CGNL: compact form vs the explicit pairwise kernel, the Taylor series, the affinity contract, the converter."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from nlviz import ops
from nlviz.io import convert_state_dict
from nlviz.io.sources.cgnl import CGNL_BLOCK
from nlviz.ops.cgnl import CGNL, explicit_kernel, kernel_terms

OFFICIAL_KEYS = {"t.weight", "p.weight", "g.weight", "z.weight", "gn.weight", "gn.bias"}
SHAPES = {1: (2, 16, 7), 2: (2, 16, 3, 4), 3: (2, 16, 2, 3, 2)}


def _op(dim=2, dtype=torch.float32, **options):
    """A CGNL(16) with random weights everywhere, GroupNorm included (so nothing passes vacuously)."""
    op = CGNL(16, groups=options.pop("groups", 2), dim=dim, **options).to(dtype).eval()
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in op.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype) * 0.4)
    return op


def _alpha2(p, gamma):
    """α_p² = β (2γ)^p / p!, β = exp(−2γ) (the paper's simplified β)."""
    return math.exp(-2 * gamma) * (2 * gamma) ** p / math.factorial(p)


def _embed_by_hand(op, x):
    """θ, φ, g from the module's conv weights (not its forward): (B, G, Cg, N) each."""
    b, gr = x.shape[0], op.groups
    xf = x.flatten(2)  # (B, C, N)
    out = []
    for conv in (op.theta, op.phi, op.g):
        e = torch.einsum("oc,bcn->bon", conv.weight.flatten(1), xf)  # (B, C', N)
        out.append(e.reshape(b, gr, -1, xf.shape[-1]))
    return out


def _brute_weights(op, x):
    """weights[b, g, i, j] = Σ_c Σ_c' f(θ_ci, φ_c'j) g_c'j, f written out from the paper, all pairs."""
    t, p, g = _embed_by_hand(op, x)
    tp = t[:, :, :, :, None, None]  # (B, G, c, i, 1, 1)
    pp = p[:, :, None, None, :, :]  # (B, G, 1, 1, c', j)
    if op.kernel == "dot_product":
        f = tp * pp
    else:
        f = sum(_alpha2(k, op.gamma) * (tp * pp) ** k for k in range(op.order + 1))
    if op.use_scale:
        f = f / math.sqrt(t.shape[2] * t.shape[3])
    return torch.einsum("bgcidj,bgdj->bgij", f, g)  # (B, G, N, N)


CASES = [
    ("dot_product", False, 1),
    ("dot_product", True, 2),
    ("dot_product", False, 3),
    ("gaussian", False, 1),
    ("gaussian", True, 2),
    ("gaussian", False, 3),
]


@pytest.mark.parametrize("kernel,use_scale,dim", CASES)
def test_identity_at_init_and_shape(kernel, use_scale, dim):
    op = CGNL(16, kernel=kernel, groups=2, use_scale=use_scale, dim=dim)
    x = torch.randn(SHAPES[dim])
    y = op(x)
    assert y.shape == x.shape
    assert torch.equal(y, x)  # GroupNorm γ = β = 0 → exactly the residual


@pytest.mark.parametrize("kernel,use_scale,dim", CASES)
def test_compact_matches_explicit_forward(kernel, use_scale, dim):
    x = torch.randn(SHAPES[dim])
    op = _op(dim, kernel=kernel, use_scale=use_scale, gamma=0.2)
    with torch.no_grad():
        fast, ref = op(x), op.forward_explicit(x)
        y_fast = op._mix(*op._embed(x))
        y_ref = op._mix_explicit(*op._embed(x))
    assert (y_fast - y_ref).abs().max() <= 1e-5 * max(1.0, y_ref.abs().max().item())
    assert (fast - ref).abs().max() <= 1e-5
    x64 = x.double()
    op64 = _op(dim, torch.float64, kernel=kernel, use_scale=use_scale, gamma=0.2)
    assert (op64(x64) - op64.forward_explicit(x64)).abs().max() <= 1e-12


@pytest.mark.parametrize("kernel", ["dot_product", "gaussian"])
def test_compact_matches_explicit_gradients(kernel):
    op = _op(2, torch.float64, kernel=kernel, gamma=0.2, use_scale=True)
    x = torch.randn(SHAPES[2], dtype=torch.float64, requires_grad=True)
    w = torch.randn(SHAPES[2], dtype=torch.float64)
    grads = []
    for fwd in (op.forward, op.forward_explicit):
        op.zero_grad()
        x.grad = None
        (fwd(x) * w).sum().backward()
        grads.append([x.grad.clone()] + [p.grad.clone() for p in op.parameters()])
    for a, b in zip(*grads):
        assert a.abs().max() > 0 and (a - b).abs().max() <= 1e-10 * max(1.0, b.abs().max().item())
    # before the GroupNorm (which hides |s| for the dot kernel, see the sign test): gradients of y itself
    theta, phi, g = (t.detach().requires_grad_() for t in op._embed(x.detach()))
    cot = torch.randn(theta.shape, dtype=torch.float64)
    fast = torch.autograd.grad((op._mix(theta, phi, g) * cot).sum(), (theta, phi, g))
    ref = torch.autograd.grad((op._mix_explicit(theta, phi, g) * cot).sum(), (theta, phi, g))
    for a, b in zip(fast, ref):
        assert b.abs().max() > 1e-3 and (a - b).abs().max() <= 1e-12 * b.abs().max()
    assert torch.autograd.gradcheck(op._mix, (theta, phi, g))
    assert torch.autograd.gradcheck(op, (x.detach().requires_grad_(),))


def test_taylor_coefficients_match_official_convention():
    """p runs 0..P (P + 1 terms, p = 0 included), α_p² = β (2γ)^p / p!, β = exp(−2γ)."""
    terms = kernel_terms("gaussian", 3, 1e-4)
    assert [p for p, _ in terms] == [0, 1, 2, 3]
    for p, w in terms:
        assert w == pytest.approx(_alpha2(p, 1e-4), rel=1e-15)
    assert kernel_terms("dot_product", 3, 1e-4) == [(1, 1.0)]


def test_taylor_form_equals_explicit_series():
    """The compact Taylor form == Σ_p α_p² Σ_{c',j} (θ_ci φ_c'j)^p g_c'j, the series summed pair by pair."""
    op = _op(2, torch.float64, kernel="gaussian", order=5, gamma=0.3)
    t, p, g = _embed_by_hand(op, torch.randn(SHAPES[2], dtype=torch.float64))
    series = sum(
        _alpha2(k, 0.3) * torch.einsum("bgcimj,bgmj->bgci", (t[..., None, None] * p[:, :, None, None]) ** k, g)
        for k in range(6)
    )
    assert (op._mix(t, p, g) - series).abs().max() <= 1e-12 * series.abs().max()


def test_taylor_converges_to_the_closed_form_kernel():
    """Order P → ∞ gives f = β·exp(2γab); the error stays under the Lagrange remainder bound."""
    gamma = 0.05
    a, b = torch.randn(2, 40, dtype=torch.float64).mul(3).unbind(0)
    closed = math.exp(-2 * gamma) * torch.exp(2 * gamma * a[:, None] * b[None, :])  # (M, M)
    u = (2 * gamma * a[:, None] * b[None, :]).abs()
    errors = []
    for order in range(1, 9):
        taylor = explicit_kernel(a, b, kernel_terms("gaussian", order, gamma))
        bound = math.exp(-2 * gamma) * u ** (order + 1) / math.factorial(order + 1) * torch.exp(u)
        assert ((taylor - closed).abs() <= bound + 1e-15).all()
        errors.append((taylor - closed).abs().max().item())
    assert all(e1 > e2 for e1, e2 in zip(errors, errors[1:]))


def test_simplified_beta_vs_true_rbf():
    """Released γ = 1e-4, P = 3. Exactly, β·exp(2γab) = exp(−γ(a − b)²) · exp(γ(a² + b² − 2)); the Taylor
    form differs from β·exp(2γab) by at most u⁴/4!·eᵘ relative, u = 2γ|ab| (≈ 1.1e-10 for |a|, |b| ≤ 6).
    So the documented tolerance to the true RBF is exp(γ·max|a² + b² − 2|) − 1 (≈ 7e-3 at |a|, |b| ≤ 6)."""
    gamma = 1e-4
    a = b = torch.linspace(-6, 6, 25, dtype=torch.float64)
    f = explicit_kernel(a, b, kernel_terms("gaussian", 3, gamma))
    rbf = torch.exp(-gamma * (a[:, None] - b[None, :]) ** 2)
    excess = gamma * (a[:, None] ** 2 + b[None, :] ** 2 - 2)
    u = (2 * gamma * a[:, None] * b[None, :]).abs()
    remainder = u**4 / 24 * torch.exp(u)
    assert ((f / (rbf * torch.exp(excess)) - 1).abs() <= remainder + 1e-15).all()
    assert (f / rbf - 1).abs().max() <= math.exp(excess.abs().max().item()) - 1 + remainder.max()


@pytest.mark.parametrize("kernel,use_scale,dim", CASES)
def test_affinity_rows_and_decomposition(kernel, use_scale, dim):
    x = torch.randn(SHAPES[dim])
    op = _op(dim, kernel=kernel, use_scale=use_scale, gamma=0.2)
    inputs = op.affinity_inputs(x)
    assert set(inputs.tensors) == {"theta", "phi", "g"}  # never N×N
    aff = op.affinity(inputs)
    n = math.prod(aff.key_grid)
    assert aff.weights.shape == (2, 2, n, *aff.key_grid)
    assert aff.kind == "linear_contribution" and not aff.normalized and op.num_groups(inputs) == 2
    brute = _brute_weights(op, x)  # (B, G, N, N)
    rows = aff.rows()
    assert (rows - brute).abs().max() <= 1e-5 * max(1.0, brute.abs().max().item())
    with torch.no_grad():
        agg = op.aggregate(x)
    v = op.values(inputs)
    assert agg.shape == (2, 2, 1, n) and v.shape == (2, 2, 1, n) and torch.equal(v, torch.ones_like(v))
    recon = torch.einsum("bgqk,bgck->bgcq", rows, v)
    assert (recon - agg).abs().max() <= 1e-5 * max(1.0, agg.abs().max().item())
    keys = aff.extras["key_maps"]
    assert keys.shape == (2, 2, len(op.terms), *aff.key_grid)


def test_dot_rows_are_one_map_and_gaussian_rows_span_p_plus_1():
    """Analysis finding: dot-kernel rows = (θ_i channel sum) × one key map; gaussian rows have rank ≤ P + 1."""
    x = torch.randn(1, 16, 5, 6, dtype=torch.float64)
    dot = _op(2, torch.float64, kernel="dot_product")
    aff = dot.affinity(x)
    rows = aff.rows()[0]  # (G, N, N)
    theta_sum = dot.affinity_inputs(x)["theta"].sum(2)[0]  # (G, N)
    key_map = aff.extras["key_maps"].flatten(3)[0, :, 0]  # (G, N)
    assert (rows - theta_sum[:, :, None] * key_map[:, None, :]).abs().max() <= 1e-12
    assert all(torch.linalg.matrix_rank(r).item() == 1 for r in rows)
    gauss = _op(2, torch.float64, kernel="gaussian", order=2, gamma=0.5)
    ranks = [torch.linalg.matrix_rank(r).item() for r in gauss.affinity(x).rows()[0]]
    assert ranks == [3, 3]


def test_dot_output_sees_only_the_sign_of_s():
    """Finding (docstring): GroupNorm over the kernel's own groups divides out |s_g| for the dot kernel."""
    op = _op(2, torch.float64, kernel="dot_product")
    x = torch.randn(2, 16, 5, 6, dtype=torch.float64)
    with torch.no_grad():
        theta, phi, g = op._embed(x)
        s = torch.einsum("bgcn,bgcn->bg", phi, g)  # (B, G)
        assert s.abs().min() > 1  # so GN's eps (1e-5) acts as eps/s² < 1e-5
        base = op(x)
        sign_only = op._out(x, torch.sign(s)[..., None, None] * theta)
        assert (base - sign_only).abs().max() <= 1e-4
        op.phi.weight.mul_(5.0)  # s × 5: the output barely moves
        assert (op(x) - base).abs().max() <= 1e-6
        op.phi.weight.mul_(-1.0)  # s × −5: every group flips sign, the output changes at O(1)
        assert (op(x) - base).abs().max() >= 0.1


def test_device_agnostic_on_meta():
    """No hard-coded device: the block runs on the meta device (stands in for CUDA on this machine)."""
    op = CGNL(16, kernel="gaussian", groups=4).to("meta")
    x = torch.empty(2, 16, 3, 3, device="meta")
    assert op(x).device.type == "meta" and op(x).shape == x.shape


def _official_like(sd, x, kernel, groups, order, gamma):
    """The official block's math, step by step from its keys: per group flatten (channel, position), att = p·g,
    then att · t (gaussian: P + 1 stacked powers). Written here from the paper's equations."""
    t, p, g = (F.conv2d(x, sd[f"{k}.weight"]) for k in "tpg")
    b, c, h, w = t.shape
    outs = []
    for ts, ps, gs in zip(*(z.split(c // groups, 1) for z in (t, p, g))):
        tf, pf, gf = (z.reshape(b, 1, -1) for z in (ts, ps, gs))  # (B, 1, M)
        if kernel == "dot_product":
            att = torch.bmm(pf, gf.transpose(1, 2))  # (B, 1, 1)
            outs.append(torch.bmm(att, tf).reshape(ts.shape))
        else:
            al = torch.tensor([math.sqrt(_alpha2(k, gamma)) for k in range(order + 1)], dtype=x.dtype)
            tt = torch.cat([tf**k * al[k] for k in range(order + 1)], 1)  # (B, P+1, M)
            pt = torch.cat([pf**k * al[k] for k in range(order + 1)], 1)
            att = torch.bmm(pt, gf.transpose(1, 2)).reshape(b, 1, order + 1)
            outs.append(torch.bmm(att, tt).reshape(ts.shape))
    z = F.conv2d(torch.cat(outs, 1), sd["z.weight"], groups=groups)
    return F.group_norm(z, groups, sd["gn.weight"], sd["gn.bias"]) + x


@pytest.mark.parametrize("kernel", ["dot_product", "gaussian"])
def test_converter_round_trip_and_official_layout_parity(kernel):
    ours = _op(2, kernel=kernel, groups=4, order=3, gamma=0.1)
    official = CGNL_BLOCK.to_theirs(ours.state_dict())
    assert set(official) == OFFICIAL_KEYS
    prefixed = {f"module.{k}": v for k, v in official.items()}
    back = convert_state_dict(prefixed, "cgnl")
    assert back.keys() == ours.state_dict().keys()
    assert all(torch.equal(back[k], v) for k, v in ours.state_dict().items())
    fresh = CGNL(16, kernel=kernel, groups=4, order=3, gamma=0.1)
    fresh.load_state_dict(back, strict=True)
    x = torch.randn(2, 16, 3, 5)
    with torch.no_grad():
        err = (fresh(x) - _official_like(official, x, kernel, 4, 3, 0.1)).abs().max()
    assert err <= 1e-5


def test_converter_unknown_keys_are_named():
    sd = CGNL_BLOCK.to_theirs(CGNL(16, groups=2).state_dict())
    with pytest.raises(ValueError, match=r"cgnl.*'t\.bias'"):
        convert_state_dict({**sd, "t.bias": torch.zeros(8)}, "cgnl")
    with pytest.raises(ValueError, match=r"'bn\.weight'"):
        convert_state_dict({**sd, "bn.weight": torch.zeros(16)}, "cgnl")
    with pytest.raises(ValueError, match=r"nlviz → cgnl.*'gn\.weight'"):
        CGNL_BLOCK.to_theirs(sd)  # already official names


@pytest.mark.parametrize(
    "options,match",
    [
        ({"kernel": "rbf"}, r"kernel='rbf'.*allowed: \['dot_product', 'gaussian'\]"),
        ({"dim": 4}, r"dim=4.*allowed: \[1, 2, 3\]"),
        ({"groups": 3}, r"in_channels/reduction=8 is not divisible by groups=3"),
        ({"reduction": 3}, r"in_channels=16 is not divisible by reduction=3"),
        ({"groups": 0}, r"groups=0 must be a positive integer"),
        ({"order": 0}, r"order=0 must be an integer >= 1"),
        ({"gamma": -1.0}, r"gamma=-1.0 must be a finite number > 0"),
    ],
)
def test_bad_options_raise(options, match):
    with pytest.raises(ValueError, match=match):
        ops.create("cgnl", 16, **options)


def test_bad_inputs_raise():
    op = CGNL(16, groups=2)
    with pytest.raises(ValueError, match="in_channels=16 but got 8 channels"):
        op(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match=r"dim=2.*\(B, C, H, W\).*\(1, 16, 4\)"):
        op(torch.randn(1, 16, 4))
    with pytest.raises(ValueError, match="unknown option"):
        ops.create("cgnl", 16, groupz=2)
