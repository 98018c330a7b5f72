"""State-dict layouts of one non-local block (Wang et al. 2018) in public code ↔ ``nlviz.ops.nonlocal``.

Our names (see :class:`nlviz.ops.nonlocal_block.NonLocalBlock`): ``theta``, ``phi``, ``g``, ``conv_out``
(W_z, with bias), ``norm`` (BatchNorm after W_z) and ``concat_project`` (w_f, bias-free).

| source       | θ / φ / g                               | W_z               | norm         | w_f                     |
|--------------|-----------------------------------------|-------------------|--------------|-------------------------|
| mmcv         | theta.conv, phi(.0).conv, g(.0).conv    | conv_out.conv     | conv_out.bn  | concat_project.conv     |
| pytorchvideo | conv_theta, conv_phi, conv_g            | conv_out          | norm         |                         |
| slowfast     | conv_theta, conv_phi, conv_g            | conv_out          | bn (or norm) |                         |
| slowfast C2  | theta_w/_b, phi_w/_b, g_w/_b            | out_w/_b          | bn_s/_b/_rm/_riv |                     |
| alexhex7     | theta, phi(.0), g(.0)                   | W.0 (W if no BN)  | W.1          | concat_project.0        |

(``.0`` appears when the block subsamples after the conv.) mmcv's W_z has no bias when followed by a norm:
``from_mmcv`` adds a zero bias, and ``to_mmcv`` folds our bias into the BN running mean, which is exact
(BN(Wy + b) with mean μ equals BN(Wy) with mean μ − b, in eval and in train mode). Caffe2 blobs (block-relative,
e.g. ``theta_w`` from ``nonlocal_conv3_1_theta_w``) may be numpy arrays; ``*_momentum`` solver blobs are
dropped. ``to_*`` are the inverses (ours → public layout); ``INVERSE`` maps a source name to its inverse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor

from nlviz.io.convert import SOURCES, StateDict, rename

_WB = r"(weight|bias)"
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


def from_mmcv(sd: Mapping[str, Tensor]) -> StateDict:
    """mmcv / mmaction2 ``NonLocal1d/2d/3d`` → ours."""
    out = rename(
        sd,
        [
            (rf"theta\.conv\.{_WB}", r"theta.\1"),
            (rf"(phi|g)(?:\.0)?\.conv\.{_WB}", r"\1.\2"),
            (rf"conv_out\.conv\.{_WB}", r"conv_out.\1"),
            (rf"conv_out\.bn\.{_BN}", r"norm.\1"),
            (r"concat_project\.conv\.weight", "concat_project.weight"),
        ],
        "mmcv",
    )
    if "conv_out.weight" in out and "conv_out.bias" not in out:
        w = out["conv_out.weight"]
        out["conv_out.bias"] = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
    return out


def to_mmcv(sd: Mapping[str, Tensor], *, sub_sample: bool) -> StateDict:
    """Ours → mmcv (``sub_sample`` decides ``phi.0.conv`` vs ``phi.conv``); W_z's bias folds into BN."""
    sd = dict(sd)
    if "norm.running_mean" in sd and "conv_out.bias" in sd:
        sd["norm.running_mean"] = sd["norm.running_mean"] - sd.pop("conv_out.bias")
    sub = ".0" if sub_sample else ""
    return rename(
        sd,
        [
            (rf"theta\.{_WB}", r"theta.conv.\1"),
            (rf"(phi|g)\.{_WB}", rf"\1{sub}.conv.\2"),
            (rf"conv_out\.{_WB}", r"conv_out.conv.\1"),
            (rf"norm\.{_BN}", r"conv_out.bn.\1"),
            (r"concat_project\.weight", "concat_project.conv.weight"),
        ],
        "mmcv (inverse)",
    )


def from_pytorchvideo(sd: Mapping[str, Tensor]) -> StateDict:
    """pytorchvideo ``NonLocal`` (``create_nonlocal``) → ours."""
    rules = [
        (rf"conv_(theta|phi|g)\.{_WB}", r"\1.\2"),
        (rf"conv_out\.{_WB}", r"conv_out.\1"),
        (rf"norm\.{_BN}", r"norm.\1"),
    ]
    return rename(sd, rules, "pytorchvideo")


def to_pytorchvideo(sd: Mapping[str, Tensor]) -> StateDict:
    """Ours → pytorchvideo."""
    rules = [
        (rf"(theta|phi|g)\.{_WB}", r"conv_\1.\2"),
        (rf"conv_out\.{_WB}", r"conv_out.\1"),
        (rf"norm\.{_BN}", r"norm.\1"),
    ]
    return rename(sd, rules, "pytorchvideo (inverse)")


def from_slowfast(sd: Mapping[str, Tensor]) -> StateDict:
    """SlowFast ``Nonlocal`` (PyTorch names, BN as ``bn`` or ``norm``) or its Caffe2 blobs → ours."""
    sd = {k: torch.as_tensor(v) for k, v in sd.items()}
    out = rename(
        sd,
        [
            (rf"conv_(theta|phi|g)\.{_WB}", r"\1.\2"),
            (rf"conv_out\.{_WB}", r"conv_out.\1"),
            (rf"(?:bn|norm)\.{_BN}", r"norm.\1"),
            (r"(theta|phi|g)_w", r"\1.weight"),
            (r"(theta|phi|g)_b", r"\1.bias"),
            (r"out_w", "conv_out.weight"),
            (r"out_b", "conv_out.bias"),
            (r"bn_s", "norm.weight"),
            (r"bn_b", "norm.bias"),
            (r"bn_rm", "norm.running_mean"),
            (r"bn_riv", "norm.running_var"),
            (r".+_momentum", ""),
        ],
        "slowfast",
    )
    if "norm.running_mean" in out and "norm.num_batches_tracked" not in out:
        out["norm.num_batches_tracked"] = torch.tensor(0)
    return out


def to_slowfast(sd: Mapping[str, Tensor], *, caffe2: bool = False, norm_name: str = "bn") -> StateDict:
    """Ours → SlowFast PyTorch names (BN named ``norm_name``: ``bn`` or ``norm``) or block-relative Caffe2 blobs."""
    if norm_name not in ("bn", "norm"):
        raise ValueError(f"norm_name={norm_name!r} is not supported; allowed: ['bn', 'norm']")
    if caffe2:
        bn = {"weight": "s", "bias": "b", "running_mean": "rm", "running_var": "riv"}
        rules = [
            (r"(theta|phi|g)\.weight", r"\1_w"),
            (r"(theta|phi|g)\.bias", r"\1_b"),
            (r"conv_out\.weight", "out_w"),
            (r"conv_out\.bias", "out_b"),
            *[(rf"norm\.{k}", f"bn_{v}") for k, v in bn.items()],
            (r"norm\.num_batches_tracked", ""),
        ]
        return rename(sd, rules, "slowfast caffe2 (inverse)")
    rules = [
        (rf"(theta|phi|g)\.{_WB}", r"conv_\1.\2"),
        (rf"conv_out\.{_WB}", r"conv_out.\1"),
        (rf"norm\.{_BN}", rf"{norm_name}.\1"),
    ]
    return rename(sd, rules, "slowfast (inverse)")


def from_alexhex7(sd: Mapping[str, Tensor]) -> StateDict:
    """AlexHex7/Non-local_pytorch ``NONLocalBlock1D/2D/3D`` (any of its four files) → ours."""
    return rename(
        sd,
        [
            (rf"theta\.{_WB}", r"theta.\1"),
            (rf"(phi|g)(?:\.0)?\.{_WB}", r"\1.\2"),
            (rf"W(?:\.0)?\.{_WB}", r"conv_out.\1"),
            (rf"W\.1\.{_BN}", r"norm.\1"),
            (r"concat_project\.0\.weight", "concat_project.weight"),
        ],
        "alexhex7",
    )


def to_alexhex7(sd: Mapping[str, Tensor], *, sub_sample: bool = True) -> StateDict:
    """Ours → AlexHex7 (its blocks subsample by default: ``phi.0``, ``g.0``; W is ``W.0``+``W.1`` with BN)."""
    sub = ".0" if sub_sample else ""
    w = "W.0" if "norm.weight" in sd else "W"
    return rename(
        sd,
        [
            (rf"theta\.{_WB}", r"theta.\1"),
            (rf"(phi|g)\.{_WB}", rf"\1{sub}.\2"),
            (rf"conv_out\.{_WB}", rf"{w}.\1"),
            (rf"norm\.{_BN}", r"W.1.\1"),
            (r"concat_project\.weight", "concat_project.0.weight"),
        ],
        "alexhex7 (inverse)",
    )


SOURCES.register("mmcv", from_mmcv)
SOURCES.register("pytorchvideo", from_pytorchvideo)
SOURCES.register("slowfast", from_slowfast)
SOURCES.register("alexhex7", from_alexhex7)

#: source name → inverse converter (ours → that layout); see each function for its keyword options.
INVERSE: dict[str, Callable[..., StateDict]] = {
    "mmcv": to_mmcv,
    "pytorchvideo": to_pytorchvideo,
    "slowfast": to_slowfast,
    "alexhex7": to_alexhex7,
}
