"""State-dict source ``cgnl``: the official CGNL block (KaiyuYue/cgnl-network.pytorch, ``SpatialCGNL`` and
``SpatialCGNLx``) → :class:`nlviz.ops.cgnl.CGNL`.

Official block keys (relative to the block, e.g. ``layer3.5.`` in the released R-50): ``t``, ``p``, ``g``
(bias-free 1×1 convs C→C'), ``z`` (grouped 1×1 conv C'→C, no bias) and ``gn`` (GroupNorm, weight and bias;
no buffers). Both kernels share these keys; the kernel, groups (8) and order (3) are not in the weights.
The official block is 2D: the weights load into ``CGNL(..., dim=2)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from nlviz.io.convert import SOURCES, StateDict, rename

#: official name → nlviz name
NAMES = {"t": "theta", "p": "phi", "g": "g", "z": "conv_out"}

RULES = [(rf"{src}\.weight", f"{dst}.weight") for src, dst in NAMES.items()] + [(r"gn\.(weight|bias)", r"norm.\1")]
INVERSE_RULES = [(rf"{dst}\.weight", f"{src}.weight") for src, dst in NAMES.items()] + [
    (r"norm\.(weight|bias)", r"gn.\1")
]


@SOURCES.register("cgnl")
def from_cgnl(state_dict: Mapping[str, Tensor]) -> StateDict:
    """Official CGNL block keys → nlviz ``CGNL`` keys; any other key raises a ValueError naming it."""
    return rename(state_dict, RULES, "cgnl")


def to_cgnl(state_dict: Mapping[str, Tensor]) -> StateDict:
    """The inverse: nlviz ``CGNL`` keys → official block keys (to load our weights in the official code)."""
    return rename(state_dict, INVERSE_RULES, "cgnl (inverse: nlviz -> official)")
