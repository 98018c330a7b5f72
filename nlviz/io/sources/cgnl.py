"""Key map ``cgnl``: the official CGNL block (KaiyuYue/cgnl-network.pytorch, ``SpatialCGNL`` and ``SpatialCGNLx``)
↔ :class:`nlviz.ops.cgnl.CGNL`.

Official block keys (relative to the block, e.g. ``layer3.5.`` in the released R-50): ``t``, ``p``, ``g``
(bias-free 1×1 convs C→C'), ``z`` (grouped 1×1 conv C'→C, no bias) and ``gn`` (GroupNorm, weight and bias;
no buffers). Both kernels share these keys; the kernel, groups (8) and order (3) are not in the weights.
The official block is 2D: the weights load into ``CGNL(..., dim=2)``.
"""

from __future__ import annotations

from nlviz.io.keymap import KeyMap
from nlviz.io.registries import SOURCES

#: official name → nlviz name (the repository's plain ``SpatialNL`` block uses them too)
NAMES = {"t": "theta", "p": "phi", "g": "g", "z": "conv_out"}

CGNL_BLOCK = SOURCES.register(
    "cgnl",
    KeyMap("cgnl", [*((f"{t}.weight", f"{ours}.weight") for t, ours in NAMES.items()), ("gn.<p>", "norm.<p>")]),
)
