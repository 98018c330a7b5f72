"""BAT (grouped bilinear attentional transforms): parity with timm, a step-by-step reference of the official
algorithm (2D and 3D with the temporal transform), the affinity contract, normalization axes, errors and
the state-dict converters."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nlviz import ops
from nlviz.io import convert_state_dict
from nlviz.io.sources.bat import BAT_BLOCK, TIMM
from nlviz.ops.bat import BAT
from support.randomize import randomize
from support.refs import import_timm_non_local_attn, load_or_skip, timm_non_local_attn


def _bat(c, **options):
    return randomize(ops.create("bat", c, **options), seed=1, std=0.3, mean_std=0.1)


# ---- parity with timm (bias=False, sigmoid) -------------------------------------------------------------

TIMM_CASES = [  # (B, C, H, W), block_size, groups, C_l
    ((2, 32, 4, 4), 2, 4, 16),
    ((2, 16, 6, 9), 3, 2, 8),  # non-square
    ((1, 16, 8, 4), 4, 2, 8),  # B=1, H > W
    ((2, 24, 5, 5), 5, 3, 12),  # s = H: no Kronecker upsampling
]


def _timm_pair(c, s, k, c_l):
    timm = load_or_skip(timm_non_local_attn)
    ref = randomize(timm.BatNonLocalAttn(c, block_size=s, groups=k, rd_channels=c_l), seed=1, std=0.3, mean_std=0.1)
    ours = BAT(c, block_size=s, groups=k, bias=False, reduced_channels=c_l).eval()
    ours.load_state_dict(convert_state_dict(ref.state_dict(), "timm"), strict=True)
    return ref, ours


@pytest.mark.ref
@pytest.mark.parametrize("shape,s,k,c_l", TIMM_CASES)
def test_parity_timm_block_and_transform(shape, s, k, c_l):
    ref, ours = _timm_pair(shape[1], s, k, c_l)
    x = torch.randn(shape)
    xl = torch.randn(shape[0], c_l, *shape[2:])
    with torch.no_grad():
        assert (ref(x) - x).abs().max() > 0.05  # the branch does real work (not vacuous parity)
        torch.testing.assert_close(ours(x), ref(x), rtol=0, atol=1e-5)
        torch.testing.assert_close(ours.transform(xl), ref.ba(xl), rtol=0, atol=1e-5)


@pytest.mark.ref
def test_timm_state_dict_round_trip():
    ref, ours = _timm_pair(16, 2, 2, 8)
    back = TIMM.to_theirs(ours.state_dict())
    assert set(back) == set(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert torch.equal(back[key], value), key
    ref2 = timm_non_local_attn().BatNonLocalAttn(16, block_size=2, groups=2, rd_channels=8)
    ref2.load_state_dict(back, strict=True)


# ---- a step-by-step reference of the official algorithm (written here; loops, explicit Kronecker) ------


def _naive(op, x):
    """Official BATBlock semantics, one sample / frame / channel at a time, eval mode."""
    three_d = x.dim() == 5
    x5 = x if three_d else x.unsqueeze(2)
    squeeze = (lambda w: w) if three_d else (lambda w: w.unsqueeze(2))  # 2D conv weights get a T axis
    xl = op.reduce(x).reshape(x5.shape[0], op.channels, *x5.shape[2:])  # (B, C_l, T, H, W)
    o = op.embed(op.reduce(x))
    o = o if three_d else o.unsqueeze(2)  # (B, k, T, H, W)
    b_n, c, t_n, h, w = xl.shape
    s, k = op.s, op.k
    wp, wq = squeeze(op.conv_p.weight)[:, :, 0, :, 0], squeeze(op.conv_q.weight)[:, :, 0, 0, :]  # (s·s·k, k, s)

    def norm(m, axis):
        if op.normalize == "softmax":
            return m.softmax(axis)
        return m.sigmoid() / m.sigmoid().sum(axis, keepdim=True)

    y = torch.empty_like(xl)
    for b in range(b_n):
        for t in range(t_n):
            rp = o[b, :, t].reshape(k, s, h // s, w).amax((2, 3))  # (k, s): max over row bands
            cp = o[b, :, t].reshape(k, h, s, w // s).amax((1, 3))  # (k, s): max over column bands
            p = norm((torch.einsum("ocs,cs->o", wp, rp) + op.conv_p.bias).view(k, s, s), 2)  # rows of P
            q = norm((torch.einsum("ocs,cs->o", wq, cp) + op.conv_q.bias).view(k, s, s), 1)  # columns of Q
            for ch in range(c):
                g = ch // (c // k)
                pt, qt = torch.kron(p[g], torch.eye(h // s)), torch.kron(q[g], torch.eye(w // s))
                y[b, ch, t] = pt @ xl[b, ch, t] @ qt
    if op.temporal:
        ts, tk = op.ts, op.tk
        pool = (lambda v: v.mean((2, 3, 4))) if op.temporal_pool == "avg" else (lambda v: v.amax((2, 3, 4)))
        for b in range(b_n):
            tp = pool(o[b].reshape(k, ts, t_n // ts, h, w))  # (k, ts)
            tm = torch.einsum("ocs,cs->o", op.conv_t.weight[:, :, :, 0, 0], tp) + op.conv_t.bias
            tm = norm(tm.view(tk, ts, ts), 2)
            frames = y[b].clone()
            for ch in range(c):
                tt = torch.kron(tm[ch // (c // tk)], torch.eye(t_n // ts))  # (T, T)
                y[b, ch] = torch.einsum("tu,uhw->thw", tt, frames[ch])
    y = y if three_d else y.squeeze(2)
    return op.restore(op.mix(y)) + x


NAIVE_CASES = [  # (options, shape)
    ({"block_size": 2, "groups": 2}, (2, 16, 4, 6)),
    ({"block_size": 2, "groups": 4, "normalize": "softmax", "bias": False}, (1, 16, 6, 4)),
    ({"block_size": 2, "groups": 2, "dim": 3}, (2, 16, 3, 4, 6)),
    ({"block_size": 2, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2}, (2, 16, 4, 4, 2)),
    (
        {
            "block_size": 2,
            "groups": 4,
            "dim": 3,
            "temporal": True,
            "temporal_block_size": 2,
            "temporal_groups": 2,
            "normalize": "softmax",
            "temporal_pool": "max",
        },
        (1, 16, 4, 2, 4),
    ),
    ({"block_size": 2, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 4}, (1, 16, 4, 2, 2)),
]


@pytest.mark.parametrize("options,shape", NAIVE_CASES)
def test_forward_matches_step_by_step_reference(options, shape):
    op = _bat(shape[1], **options)
    x = torch.randn(shape)
    with torch.no_grad():
        torch.testing.assert_close(op(x), _naive(op, x), rtol=0, atol=1e-5)


def test_dim3_without_temporal_is_2d_per_frame():
    op3 = _bat(16, block_size=2, groups=2, dim=3)
    op2 = BAT(16, block_size=2, groups=2, dim=2).eval()
    sd = {k: (v.squeeze(2) if v.dim() == 5 else v) for k, v in op3.state_dict().items()}  # drop the T kernel axis
    op2.load_state_dict(sd, strict=True)
    x = torch.randn(2, 16, 3, 4, 6)
    frames = x.transpose(1, 2).reshape(6, 16, 4, 6)  # fold T into the batch
    with torch.no_grad():
        y2 = op2(frames).reshape(2, 3, 16, 4, 6).transpose(1, 2)
        torch.testing.assert_close(op3(x), y2, rtol=0, atol=1e-5)


def test_gradcheck_float64():
    op = _bat(8, block_size=2, groups=2, dim=3, temporal=True, temporal_block_size=2).double()
    x = torch.randn(1, 8, 2, 2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(op, (x,), eps=1e-6, atol=1e-6)


# ---- the affinity contract ----------------------------------------------------------------------------

CONTRACT_CASES = [
    ({"block_size": 2, "groups": 4}, (2, 32, 4, 4)),
    ({"block_size": 2, "groups": 2, "normalize": "softmax"}, (1, 16, 4, 6)),  # B=1, non-square
    ({"block_size": 3, "groups": 2, "dim": 3}, (2, 16, 2, 6, 3)),
    ({"block_size": 2, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2}, (2, 16, 4, 2, 4)),
    (
        {"block_size": 2, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2, "temporal_groups": 4},
        (1, 16, 2, 4, 2),
    ),
]


def _brute_rows(aff, extras, temporal):
    """w[(t,i,j),(t',a,b)] from the s×s matrices by index arithmetic (no Kronecker product, no kron_eye)."""
    t_n, h, w = aff.query_grid
    p_s, q_s = extras["P_small"], extras["Q_small"]
    if p_s.dim() == 4:  # 2D: add the T axis
        p_s, q_s = p_s.unsqueeze(2), q_s.unsqueeze(2)
    s = p_s.shape[-1]
    rh, rw = h // s, w // s
    cells = torch.cartesian_prod(torch.arange(t_n), torch.arange(h), torch.arange(w))  # (N, 3) row-major
    t, i, j = (cells[:, d][:, None] for d in range(3))  # queries down
    tp, a, b = (cells[:, d][None, :] for d in range(3))  # keys across
    pw = p_s[:, :, tp, i // rh, a // rh] * (i % rh == a % rh)  # (B, G, N, N)
    qw = q_s[:, :, tp, b // rw, j // rw] * (b % rw == j % rw)
    if temporal:
        ts_small = extras["T_small"]
        rt = t_n // ts_small.shape[-1]
        tw = ts_small[:, :, t // rt, tp // rt] * (t % rt == tp % rt)
    else:
        tw = (t == tp).float()
    return tw * pw * qw


@pytest.mark.parametrize("options,shape", CONTRACT_CASES)
def test_affinity_contract(options, shape):
    op = _bat(shape[1], **options)
    x = torch.randn(shape)
    with torch.no_grad():
        inputs = op.affinity_inputs(x)
        aff = op.affinity(inputs)
        agg, v = op.aggregate(x), op.values(inputs)
    grid = (1, *shape[2:]) if len(shape) == 4 else shape[2:]
    n = grid[0] * grid[1] * grid[2]
    g = op.num_groups(inputs)
    assert g == (4 if options.get("temporal_groups") == 4 else options["groups"])
    assert aff.weights.shape == (shape[0], g, n, *grid) and aff.kind == "bilinear" and aff.normalized
    assert agg.shape == v.shape == (shape[0], g, op.channels // g, n)
    w = aff.rows()
    torch.testing.assert_close(torch.einsum("bgqk,bgck->bgcq", w, v), agg, rtol=0, atol=1e-5)
    torch.testing.assert_close(w.sum(-1), torch.ones(shape[0], g, n), rtol=0, atol=1e-5)
    torch.testing.assert_close(w, _brute_rows(aff, aff.extras, op.temporal), rtol=0, atol=1e-6)


def test_extras_shapes_and_normalization_axes():
    op = _bat(16, block_size=2, groups=2, dim=3, temporal=True, temporal_block_size=2)
    ex = op.affinity(torch.randn(2, 16, 4, 6, 4), [(0, 0, 0)]).extras
    assert ex["P"].shape == (2, 2, 4, 6, 6) and ex["Q"].shape == (2, 2, 4, 4, 4) and ex["T"].shape == (2, 2, 4, 4)
    assert ex["P_small"].shape == ex["Q_small"].shape == (2, 2, 4, 2, 2) and ex["T_small"].shape == (2, 2, 2, 2)
    for m, axis in ((ex["P"], -1), (ex["Q"], -2), (ex["T"], -1), (ex["P_small"], -1), (ex["Q_small"], -2)):
        torch.testing.assert_close(m.sum(axis), torch.ones_like(m.sum(axis)), rtol=0, atol=1e-6)
    op2 = _bat(16, block_size=2, groups=2)
    ex2 = op2.affinity(torch.randn(1, 16, 4, 6), [(0, 1, 2)]).extras
    assert ex2["P"].shape == (1, 2, 4, 4) and ex2["Q"].shape == (1, 2, 6, 6) and ex2["P_small"].shape == (1, 2, 2, 2)
    assert "T" not in ex2


@pytest.mark.parametrize("normalize", ["sigmoid", "softmax"])
def test_normalization_of_raw_logits(normalize):
    """P = norm over rows (last axis), Q = norm over columns, of the conv outputs read as [g, i, j]."""
    op = _bat(16, block_size=2, groups=2, normalize=normalize)
    xl = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        o = op.embed(xl)
        lp = op.conv_p(F.adaptive_max_pool2d(o, (2, 1))).view(1, 2, 2, 2)
        lq = op.conv_q(F.adaptive_max_pool2d(o, (1, 2))).view(1, 2, 2, 2)
        mats = op.matrices(xl)
    if normalize == "softmax":
        want_p, want_q = lp.softmax(-1), lq.softmax(-2)
    else:
        want_p, want_q = (
            lp.sigmoid() / lp.sigmoid().sum(-1, keepdim=True),
            lq.sigmoid() / lq.sigmoid().sum(-2, keepdim=True),
        )
    torch.testing.assert_close(mats["P"][:, :, 0], want_p, rtol=0, atol=1e-6)
    torch.testing.assert_close(mats["Q"][:, :, 0], want_q, rtol=0, atol=1e-6)


def test_not_identity_at_init():
    """Like the official code and timm (BN γ=1, ReLU last), the block adds a non-negative, non-zero term."""
    op = ops.create("bat", 16, block_size=2, groups=2).eval()
    assert op.identity_at_init is False
    x = torch.randn(2, 16, 4, 4)
    with torch.no_grad():
        d = op(x) - x
    assert d.min() >= 0 and d.max() > 0.1


# ---- errors ---------------------------------------------------------------------------------------------


def test_bad_inputs_are_errors():
    op = _bat(16, block_size=2, groups=2)
    with pytest.raises(ValueError, match=r"block_size=2 .*H=5 and W=4"):
        op(torch.randn(1, 16, 5, 4))
    with pytest.raises(ValueError, match=r"H=4 and W=3"):
        op.affinity_inputs(torch.randn(1, 16, 4, 3))
    with pytest.raises(ValueError, match="in_channels=16 but got 8"):
        op(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        op(torch.randn(1, 16, 2, 4, 4))
    op3 = _bat(16, block_size=2, groups=2, dim=3, temporal=True, temporal_block_size=2)
    with pytest.raises(ValueError, match="temporal_block_size=2 must divide .* T=3"):
        op3(torch.randn(1, 16, 3, 4, 4))


@pytest.mark.parametrize(
    "options,match",
    [
        ({"groups": 3}, r"C_l=8 must be divisible by groups=3"),
        ({"dim": 3, "temporal": True, "temporal_groups": 3}, r"temporal_groups=3"),
        ({"temporal": True}, "temporal=True needs dim=3"),
        ({"normalize": "l1"}, r"normalize='l1' is not supported; allowed: \['sigmoid', 'softmax'\]"),
        ({"dim": 1}, r"dim=1 is not supported"),
        ({"temporal_pool": "mean"}, r"allowed: \['avg', 'max'\]"),
        ({"block_size": 0}, "block_size=0 must be a positive integer"),
        ({"reduction": 32}, "reduction=32"),
    ],
)
def test_bad_options_are_errors(options, match):
    with pytest.raises(ValueError, match=match):
        ops.create("bat", 16, **{"groups": 2, **options})


# ---- converters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{"dim": 2}, {"dim": 3, "temporal": True, "temporal_block_size": 2}])
def test_official_layout_round_trip(options):
    op = _bat(16, block_size=2, groups=2, **options)
    official = BAT_BLOCK.to_theirs(op.state_dict())
    expected = {
        "conv1.0.bias",
        "conv1.1.running_var",
        "batransform.conv1.0.weight",
        "batransform.conv_p.bias",
        "batransform.conv_q.weight",
        "batransform.conv2.1.weight",
        "conv2.0.weight",
        "conv2.1.bias",
    }
    assert expected <= set(official)
    assert ("batransform.conv_t.weight" in official) == ("temporal" in options)
    back = convert_state_dict({f"module.{k}": v for k, v in official.items()}, "bat")
    assert set(back) == set(op.state_dict())
    assert all(torch.equal(back[k], v) for k, v in op.state_dict().items())
    fresh = BAT(16, block_size=2, groups=2, **options).eval()
    fresh.load_state_dict(BAT_BLOCK.to_ours(official), strict=True)
    x = torch.randn(1, 16, *((2, 4, 4) if options["dim"] == 3 else (4, 4)))
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), op(x), rtol=0, atol=0)


def test_converter_unknown_keys_raise():
    sd = TIMM.to_ours({"conv1.conv.weight": torch.zeros(8, 16, 1, 1)})
    assert list(sd) == ["reduce.conv.weight"]
    with pytest.raises(ValueError, match=r"source='timm'.*'ba\.conv3\.weight'"):
        convert_state_dict({"conv1.conv.weight": torch.zeros(1), "ba.conv3.weight": torch.zeros(1)}, "timm")
    with pytest.raises(ValueError, match=r"conv1\.conv\.bias"):  # timm's 1×1 convs have no bias
        convert_state_dict({"conv1.conv.bias": torch.zeros(1)}, "timm")
    with pytest.raises(ValueError, match=r"source='bat'.*'batransform\.conv_x\.weight'"):
        convert_state_dict({"batransform.conv_x.weight": torch.zeros(1)}, "bat")
    with pytest.raises(ValueError, match=r"nlviz → timm.*reduce\.conv\.bias"):  # bias=True cannot go to timm
        TIMM.to_theirs(_bat(16, block_size=2, groups=2, bias=True).state_dict())


@pytest.mark.ref
def test_timm_helper_leaves_no_stub_behind():
    import sys

    def ours():
        return {k: v for k, v in sys.modules.items() if k.split(".")[0] in ("timm", "torchvision")}

    before = ours()
    assert load_or_skip(import_timm_non_local_attn).BilinearAttnTransform.__name__ == "BilinearAttnTransform"
    assert ours() == before
