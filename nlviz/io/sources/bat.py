"""BAT block state dicts: timm's ``BatNonLocalAttn`` and the official BA-Transform code → nlviz ``bat`` names.

Our names (``nlviz.ops.bat.BAT``): ``reduce``, ``embed``, ``mix``, ``restore`` (each ``conv.*`` + ``bn.*``),
``conv_p``, ``conv_q`` and, with the temporal transform, ``conv_t``.

- ``timm``: ``conv1.conv``/``conv1.bn``, ``ba.conv1.{conv,bn}``, ``ba.conv_p``, ``ba.conv_q``,
  ``ba.conv2.{conv,bn}``, ``conv2.{conv,bn}``. timm's 1×1 convs have no bias, so a ``*.conv.bias`` key is
  not a timm key (and a model built with ``bias=True`` cannot be exported to timm).
- ``bat``: the official ``BATBlock`` (BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py``;
  the video repo's 3D block has the same names plus ``batransform.conv_t``): ``conv1.0`` (conv, with bias),
  ``conv1.1`` (BN), ``batransform.conv1.{0,1}``, ``batransform.conv_{p,q,t}``, ``batransform.conv2.{0,1}``,
  ``conv2.{0,1}``. Whole-model keys look like ``layer{2,3}.nl{i}.<these>``; strip that prefix first.

``to_timm`` and ``to_bat`` are the inverse mappings (nlviz names → the public layout).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from torch import Tensor

from nlviz.io.convert import SOURCES, StateDict, rename

_CONV = r"(weight|bias)"
_CONV_NO_BIAS = r"(weight)"
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"

# (their prefix, our prefix, suffix pattern)
_TIMM = [
    ("conv1.conv", "reduce.conv", _CONV_NO_BIAS),
    ("conv1.bn", "reduce.bn", _BN),
    ("ba.conv1.conv", "embed.conv", _CONV_NO_BIAS),
    ("ba.conv1.bn", "embed.bn", _BN),
    ("ba.conv_p", "conv_p", _CONV),
    ("ba.conv_q", "conv_q", _CONV),
    ("ba.conv2.conv", "mix.conv", _CONV_NO_BIAS),
    ("ba.conv2.bn", "mix.bn", _BN),
    ("conv2.conv", "restore.conv", _CONV_NO_BIAS),
    ("conv2.bn", "restore.bn", _BN),
]
_BAT = [
    ("conv1.0", "reduce.conv", _CONV),
    ("conv1.1", "reduce.bn", _BN),
    ("batransform.conv1.0", "embed.conv", _CONV),
    ("batransform.conv1.1", "embed.bn", _BN),
    ("batransform.conv_p", "conv_p", _CONV),
    ("batransform.conv_q", "conv_q", _CONV),
    ("batransform.conv_t", "conv_t", _CONV),
    ("batransform.conv2.0", "mix.conv", _CONV),
    ("batransform.conv2.1", "mix.bn", _BN),
    ("conv2.0", "restore.conv", _CONV),
    ("conv2.1", "restore.bn", _BN),
]


def _rules(table: list[tuple[str, str, str]], inverse: bool) -> list[tuple[str, str]]:
    pairs = [(ours, theirs) if inverse else (theirs, ours) for theirs, ours, _ in table]
    return [(re.escape(src) + r"\." + suffix, dst + r".\1") for (src, dst), (_, _, suffix) in zip(pairs, table)]


@SOURCES.register("timm")
def from_timm(sd: Mapping[str, Tensor]) -> StateDict:
    """timm ``BatNonLocalAttn`` block → nlviz ``bat`` (build the op with ``bias=False``)."""
    return rename(sd, _rules(_TIMM, inverse=False), "timm")


@SOURCES.register("bat")
def from_bat(sd: Mapping[str, Tensor]) -> StateDict:
    """Official BA-Transform ``BATBlock`` (image or video code) → nlviz ``bat`` (``bias=True``)."""
    return rename(sd, _rules(_BAT, inverse=False), "bat")


def to_timm(sd: Mapping[str, Tensor]) -> StateDict:
    """nlviz ``bat`` (built with ``bias=False``, ``dim=2``) → timm ``BatNonLocalAttn`` names."""
    return rename(sd, _rules(_TIMM, inverse=True), "nlviz→timm")


def to_bat(sd: Mapping[str, Tensor]) -> StateDict:
    """nlviz ``bat`` (built with ``bias=True``) → the official ``BATBlock`` names."""
    return rename(sd, _rules(_BAT, inverse=True), "nlviz→bat")
