"""Spatial Bias (Go & Ryu 2023): step-by-step parity, official op order via the converter, affinity rows."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from nlviz import ops
from nlviz.io import convert_state_dict
from nlviz.io.sources.spatial_bias import SB_BOTTLENECK
from nlviz.ops.spatial_bias import SpatialBias, SpatialBiasBottleneck
from support.randomize import randomize

ATOL = 1e-5


# --- a step-by-step evaluation (explicit loops and formulas, no nlviz helpers) ----------------------------


def _bn(x, bn):
    shape = (1, -1, 1, 1)
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (x - bn.running_mean.view(shape)) * scale.view(shape) + bn.bias.view(shape)


def _conv1x1(x, weight):
    return torch.einsum("oc,bchw->bohw", weight[:, :, 0, 0], x)


def _adaptive_pool(u, s):
    b, c, h, w = u.shape
    z = torch.zeros(b, c, s, s)
    for i in range(s):
        y0, y1 = math.floor(i * h / s), math.ceil((i + 1) * h / s)
        for j in range(s):
            x0, x1 = math.floor(j * w / s), math.ceil((j + 1) * w / s)
            z[:, :, i, j] = u[:, :, y0:y1, x0:x1].mean(dim=(2, 3))
    return z


def _conv1d_over_channels(z, weight, bias):
    """z (B, R, S, S): s[b, p, k] = bias[p] + Σ_q Σ_t W[p, q, t] · z[b, k + t, q] (positions p, q row-major)."""
    b, r, s, _ = z.shape
    flat = z.reshape(b, r, s * s)  # (B, R, S²)
    taps = weight.shape[-1]
    out = torch.zeros(b, s * s, r - taps + 1)
    for k in range(r - taps + 1):
        for t in range(taps):
            out[:, :, k] += torch.einsum("pq,bq->bp", weight[:, :, t], flat[:, k + t])
        out[:, :, k] += bias
    return out


def _to_maps(s_out, side):
    """Bias map k at coarse cell (py, px) is s[:, py·S + px, k] (a transpose, not a raw view)."""
    b, _, k = s_out.shape
    maps = torch.zeros(b, k, side, side)
    for kk in range(k):
        for py in range(side):
            for px in range(side):
                maps[:, kk, py, px] = s_out[:, py * side + px, kk]
    return maps


def _bilinear(img, ho, wo):
    """align_corners=False: src = (dst + 0.5)·in/out − 0.5, clamped at 0; neighbour index clamped at in − 1."""
    b, c, h, w = img.shape
    out = torch.zeros(b, c, ho, wo)
    for yo in range(ho):
        sy = max((yo + 0.5) * h / ho - 0.5, 0.0)
        y0 = int(sy)
        y1, ly = min(y0 + 1, h - 1), sy - y0
        for xo in range(wo):
            sx = max((xo + 0.5) * w / wo - 0.5, 0.0)
            x0 = int(sx)
            x1, lx = min(x0 + 1, w - 1), sx - x0
            out[:, :, yo, xo] = (
                (1 - ly) * (1 - lx) * img[:, :, y0, x0]
                + (1 - ly) * lx * img[:, :, y0, x1]
                + ly * (1 - lx) * img[:, :, y1, x0]
                + ly * lx * img[:, :, y1, x1]
            )
    return out


def _reference_bias(sb, a, ho, wo):
    u = F.relu(_bn(_conv1x1(a, sb.reduce.weight), sb.reduce_bn))
    z = _adaptive_pool(u, sb.pool_size)
    s_out = _conv1d_over_channels(z, sb.mix.weight, sb.mix.bias)
    return _bilinear(_to_maps(s_out, sb.pool_size), ho, wo)


def _reference_block(op, x):
    a = F.relu(_bn(_conv1x1(x, op.conv1.weight), op.bn1))
    out = F.conv2d(a, op.conv2.weight, stride=op.stride, padding=1)
    bias = _reference_bias(op.sb, a, *out.shape[-2:])
    out = F.relu(_bn(torch.cat([out, bias], 1), op.bn2))
    out = _bn(_conv1x1(out, op.conv3.weight), op.bn3)
    if op.shortcut is not None:
        x = _bn(F.conv2d(x, op.shortcut.conv.weight, stride=op.stride), op.shortcut.bn)
    return F.relu(out + x)


PARITY = [  # (batch, channels, H, W, options)
    (1, 16, 6, 9, {}),  # B=1, non-square, smaller than the 10×10 pool
    (2, 16, 12, 11, {}),  # larger than the pool
    (2, 16, 7, 5, {"stride": 2}),  # odd sizes, strided conv2 and projection shortcut
    (1, 8, 9, 4, {"planes": 4, "out_channels": 12, "pool_size": 4}),
]


@pytest.mark.parametrize("b,c,h,w,options", PARITY)
def test_forward_matches_step_by_step(b, c, h, w, options):
    op = randomize(SpatialBiasBottleneck(c, **options), seed=1, std=0.3, mean_std=0.1)
    x = torch.randn(b, c, h, w)
    with torch.no_grad():
        y, ref = op(x), _reference_block(op, x)
    assert y.shape == (b, op.out_channels, (h - 1) // op.stride + 1, (w - 1) // op.stride + 1)
    err = (y - ref).abs().max().item()
    assert err <= ATOL, f"max |ours - step-by-step| = {err:.2e}"


def test_sb_module_alone_b1_non_square_and_size():
    sb = randomize(SpatialBias(7), seed=1, std=0.3, mean_std=0.1)
    a = torch.randn(1, 7, 5, 13)
    with torch.no_grad():
        same, other = sb(a), sb(a, size=(3, 17))
        ref = _reference_bias(sb, a, 3, 17)
    assert same.shape == (1, 3, 5, 13) and other.shape == (1, 3, 3, 17)
    assert (other - ref).abs().max().item() <= ATOL
    with pytest.raises(ValueError, match=r"\(B, 7, H, W\).*\(1, 6, 5, 13\)"):
        sb(torch.randn(1, 6, 5, 13))


def test_batch_of_one_equals_row_of_batch():
    op = randomize(SpatialBiasBottleneck(16), seed=1, std=0.3, mean_std=0.1)
    x = torch.randn(3, 16, 6, 8)
    with torch.no_grad():
        torch.testing.assert_close(op(x[1:2]), op(x)[1:2], rtol=0, atol=1e-6)


def test_stride_two_shapes_and_grids():
    op = randomize(SpatialBiasBottleneck(32, stride=2), seed=1, std=0.3, mean_std=0.1)
    x = torch.randn(2, 32, 7, 10)
    with torch.no_grad():
        assert op(x).shape == (2, 32, 4, 5)
        aff = op.affinity(x, [(0, 3, 4)])
    assert aff.query_grid == (1, 4, 5) and aff.key_grid == (1, 7, 10)
    assert aff.weights.shape == (2, 3, 1, 1, 7, 10) and aff.extras["bias_offset"].shape == (1, 4, 5)
    assert op.shortcut is not None and SpatialBiasBottleneck(32).shortcut is None


# --- the official op order, through the converter ---------------------------------------------------------


def _official_state_dict(inplanes, planes, downsample, seed=3):
    g = torch.Generator().manual_seed(seed)
    shapes = {
        "conv1.weight": (planes, inplanes, 1, 1),
        "conv2.weight": (planes, planes, 3, 3),
        "conv3.weight": (4 * planes, planes + 3, 1, 1),
        "SB.feature_reduction.0.weight": (5, planes, 1, 1),
        "SB.sb_conv.weight": (100, 100, 3),
        "SB.sb_conv.bias": (100,),
    }
    bns = {"bn1": planes, "bn2": planes + 3, "bn3": 4 * planes, "SB.feature_reduction.1": 5}
    if downsample:
        shapes["downsample.0.weight"] = (4 * planes, inplanes, 1, 1)
        bns["downsample.1"] = 4 * planes
    sd = {k: torch.randn(s, generator=g) * 0.3 for k, s in shapes.items()}
    for name, n in bns.items():
        sd |= {
            f"{name}.weight": torch.randn(n, generator=g),
            f"{name}.bias": torch.randn(n, generator=g) * 0.1,
            f"{name}.running_mean": torch.randn(n, generator=g) * 0.1,
            f"{name}.running_var": torch.rand(n, generator=g) + 0.5,
            f"{name}.num_batches_tracked": torch.tensor(7),
        }
    return sd


def _official_forward(sd, x, stride):
    """The official Bottleneck + Spatial_bias op sequence (eval BN), square maps and batch > 1 as it requires."""

    def bn(t, name):
        return F.batch_norm(
            t,
            sd[f"{name}.running_mean"],
            sd[f"{name}.running_var"],
            sd[f"{name}.weight"],
            sd[f"{name}.bias"],
            training=False,
        )

    out = F.relu(bn(F.conv2d(x, sd["conv1.weight"]), "bn1"))
    g = F.relu(bn(F.conv2d(out, sd["SB.feature_reduction.0.weight"]), "SB.feature_reduction.1"))
    g = F.adaptive_avg_pool2d(g, 10)  # (B, 5, 10, 10)
    g = g.reshape(g.shape[0], 5, 1, 100).squeeze().permute(0, 2, 1)  # (B, 100, 5)
    g = F.conv1d(g, sd["SB.sb_conv.weight"], sd["SB.sb_conv.bias"]).unsqueeze(2)  # (B, 100, 1, 3)
    g = g.permute(0, 3, 2, 1).reshape(x.shape[0], 3, 10, 10)
    out = F.conv2d(out, sd["conv2.weight"], stride=stride, padding=1)
    g = F.interpolate(g, scale_factor=out.shape[2] / 10, mode="bilinear", align_corners=False)
    out = F.relu(bn(torch.cat([out, g], 1), "bn2"))
    out = bn(F.conv2d(out, sd["conv3.weight"]), "bn3")
    res = (
        x
        if "downsample.0.weight" not in sd
        else bn(F.conv2d(x, sd["downsample.0.weight"], stride=stride), "downsample.1")
    )
    return F.relu(out + res)


@pytest.mark.parametrize("inplanes,planes,stride,side", [(64, 16, 1, 14), (32, 16, 2, 12)])
def test_official_layout_parity_and_round_trip(inplanes, planes, stride, side):
    sd = _official_state_dict(inplanes, planes, downsample=stride != 1 or inplanes != 4 * planes)
    op = SpatialBiasBottleneck(inplanes, planes=planes, stride=stride, out_channels=4 * planes).eval()
    op.load_state_dict(convert_state_dict(sd, "spatialbias"), strict=True)
    x = torch.randn(2, inplanes, side, side)
    with torch.no_grad():
        err = (op(x) - _official_forward(sd, x, stride)).abs().max().item()
    assert err <= ATOL, f"max |ours - official op order| = {err:.2e}"
    back = SB_BOTTLENECK.to_theirs(op.state_dict())
    assert set(back) == set(sd)
    assert all(torch.equal(back[k], sd[k]) for k in sd)


def test_converter_unknown_keys_are_named():
    sd = _official_state_dict(64, 16, downsample=False)
    sd["SB.extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"spatialbias.*SB\.extra\.weight"):
        convert_state_dict(sd, "spatialbias")
    with pytest.raises(ValueError, match=r"nlviz → spatialbias.*nope"):
        SB_BOTTLENECK.to_theirs({"nope": torch.zeros(1)})
    # DataParallel prefix is stripped
    prefixed = {f"module.{k}": v for k, v in _official_state_dict(64, 16, downsample=False).items()}
    assert "sb.mix.bias" in convert_state_dict(prefixed, "spatialbias")


# --- the affinity: exact linear contributions -------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,options",
    [((1, 16, 6, 9), {}), ((2, 16, 7, 5), {"stride": 2}), ((2, 8, 12, 11), {"pool_size": 4, "conv_bias": False})],
)
def test_rows_match_jacobian_and_decompose(shape, options):
    op = randomize(SpatialBiasBottleneck(shape[1], **options), seed=1, std=0.3, mean_std=0.1)
    x = torch.randn(shape)
    with torch.no_grad():
        inputs = op.affinity_inputs(x)
        aff = op.affinity(inputs)
        agg = op.aggregate(x)
    u, size = inputs["u"], aff.query_grid[1:]
    # brute force: the Jacobian of the bias maps w.r.t. u is M (the maps are affine in u)
    jac = torch.autograd.functional.jacobian(lambda t: op.sb.from_compressed(t, size), u)
    b, r, h, w = u.shape
    jac = jac.reshape(b, op.sb.bias_channels, size[0] * size[1], b, r, h * w)
    m = jac[0, :, :, 0]  # (K, Nq, R, Nk)
    for i in range(b):  # no cross-sample terms; the same M for every sample
        for j in range(b):
            expect = m if i == j else torch.zeros_like(m)
            torch.testing.assert_close(jac[i, :, :, j], expect, rtol=0, atol=1e-7)
    brute = torch.einsum("kicj,bcj->bkij", m, u.flatten(2))
    err_rows = (aff.rows() - brute).abs().max().item()
    assert err_rows <= ATOL, f"max |rows - Jacobian rows| = {err_rows:.2e}"
    # decomposition: aggregate = Σ_j w_ij · 1, and aggregate + β = the bias maps of the forward path
    err_dec = (aff.rows().sum(-1).unsqueeze(2) - agg).abs().max().item()
    assert err_dec <= ATOL, f"max |Σ_j w_ij - aggregate| = {err_dec:.2e}"
    maps = {}
    handle = op.sb.register_forward_hook(lambda mod, args, out: maps.setdefault("sb", out))
    try:
        with torch.no_grad():
            op(x)
    finally:
        handle.remove()
    full = agg.reshape(maps["sb"].shape) + aff.extras["bias_offset"]
    assert (full - maps["sb"]).abs().max().item() <= ATOL
    if not options.get("conv_bias", True):
        assert aff.extras["bias_offset"].abs().max() == 0
    assert aff.kind == "linear_contribution" and not aff.normalized and aff.groups == 3


def test_rows_of_subsets_and_chunks_are_identical():
    op = randomize(SpatialBiasBottleneck(16), seed=1, std=0.3, mean_std=0.1)
    inputs = op.affinity_inputs(torch.randn(2, 16, 6, 7))
    full = op.affinity(inputs).rows()
    picks = [(0, 5, 6), (0, 0, 0), (0, 3, 2)]
    sub = op.affinity(inputs, picks, max_bytes=1).rows()
    idx = [5 * 7 + 6, 0, 3 * 7 + 2]
    assert torch.equal(sub, full[:, :, idx])


def test_gradcheck_float64():
    op = randomize(SpatialBiasBottleneck(8, pool_size=4), seed=1, std=0.3, mean_std=0.1).double()
    x = torch.randn(1, 8, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(op, (x,), eps=1e-6, atol=1e-5)
    op.train()  # batch statistics in bn layers
    x2 = torch.randn(2, 8, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(op, (x2,), eps=1e-6, atol=1e-5)


def test_init_is_not_identity_unless_zero_init_residual():
    x = torch.randn(2, 16, 6, 6)
    default = SpatialBiasBottleneck(16).eval()
    assert default.identity_at_init is False
    assert default.bn3.weight.eq(1).all()  # the official init: every BN γ = 1
    with torch.no_grad():
        assert (default(x) - F.relu(x)).abs().max() > 1e-2
        zeroed = SpatialBiasBottleneck(16, zero_init_residual=True).eval()
        torch.testing.assert_close(zeroed(x), F.relu(x), rtol=0, atol=0)


def test_create_and_default_planes():
    op = ops.create("spatial_bias", 32, stride=1)
    assert op.conv1.out_channels == 8 and op.bn2.num_features == 11 and op.sb.mix.in_channels == 100
    assert sum(p.numel() for p in op.sb.parameters()) == 5 * 8 + 10 + 100 * 100 * 3 + 100


@pytest.mark.parametrize(
    "options,match",
    [
        ({"dim": 3}, r"dim=3.*per frame"),
        ({"planes": 0}, r"planes=0"),
        ({"stride": 0}, r"stride=0"),
        ({"pool_size": 0}, r"pool_size=0"),
        ({"kernel_size": 6}, r"kernel_size=6.*reduced_channels=5"),
        ({"out_channels": -1}, r"out_channels=-1"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        SpatialBiasBottleneck(16, **options)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"planes=0.*C >= 4"):
        SpatialBiasBottleneck(3)
    op = SpatialBiasBottleneck(16)
    with pytest.raises(ValueError, match=r"in_channels=16 but got 12"):
        op(torch.randn(1, 12, 5, 5))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\).*\(1, 16, 2, 5, 5\)"):
        op(torch.randn(1, 16, 2, 5, 5))
    with pytest.raises(ValueError, match=r"unknown option.*bias_maps"):
        ops.create("spatial_bias", 16, bias_maps=3)
