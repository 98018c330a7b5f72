"""BAT block key maps: timm's ``BatNonLocalAttn`` and the official BA-Transform code ↔ nlviz ``bat`` names.

Our names (``nlviz.ops.bat.BAT``): ``reduce``, ``embed``, ``mix``, ``restore`` (each ``conv.*`` + ``bn.*``),
``conv_p``, ``conv_q`` and, with the temporal transform, ``conv_t``.

- ``timm``: ``conv1.conv``/``conv1.bn``, ``ba.conv1.{conv,bn}``, ``ba.conv_p``, ``ba.conv_q``,
  ``ba.conv2.{conv,bn}``, ``conv2.{conv,bn}``. timm's 1×1 convs have no bias, so a ``*.conv.bias`` key is
  not a timm key (build the op with ``bias=False``; a model built with ``bias=True`` cannot be exported to timm).
- ``bat``: the official ``BATBlock`` (BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py``;
  the video repo's 3D block has the same names plus ``batransform.conv_t``): ``conv1.0`` (conv, with bias),
  ``conv1.1`` (BN), ``batransform.conv1.{0,1}``, ``batransform.conv_{p,q,t}``, ``batransform.conv2.{0,1}``,
  ``conv2.{0,1}`` (build the op with ``bias=True``). Whole-model keys look like ``layer{2,3}.nl{i}.<these>``;
  strip that prefix first.
"""

from __future__ import annotations

from nlviz.io.keymap import KeyMap
from nlviz.io.registries import SOURCES

#: our conv-BN module → its name in (timm, the official code)
_CONV_BN = {
    "reduce": ("conv1", "conv1"),
    "embed": ("ba.conv1", "batransform.conv1"),
    "mix": ("ba.conv2", "batransform.conv2"),
    "restore": ("conv2", "conv2"),
}


def _conv_bn_pairs(layout: int, conv: str, bn: str, entries: str) -> list[tuple[str, str]]:
    """Templates of the four conv-BN modules in ``layout`` (0 timm, 1 official): their conv
    ``NAME.{conv}.{entries}``, their BN ``NAME.{bn}.<bn>``."""
    pairs = []
    for ours, names in _CONV_BN.items():
        pairs.append((f"{names[layout]}.{conv}.{entries}", f"{ours}.conv.{entries}"))
        pairs.append((f"{names[layout]}.{bn}.<bn>", f"{ours}.bn.<bn>"))
    return pairs


TIMM = SOURCES.register(
    "timm", KeyMap("timm", [*_conv_bn_pairs(0, "conv", "bn", "weight"), ("ba.conv_<p|q>.<p>", "conv_<p|q>.<p>")])
)
BAT_BLOCK = SOURCES.register(
    "bat", KeyMap("bat", [*_conv_bn_pairs(1, "0", "1", "<p>"), ("batransform.conv_<p|q|t>.<p>", "conv_<p|q|t>.<p>")])
)
