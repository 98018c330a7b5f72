"""Block-level conversion: ``convert_state_dict(sd, source)`` maps one block's state dict (keys relative to the
block) from a public layout to the names our operator uses.

Each source is a two-way :class:`~nlviz.io.keymap.KeyMap` registered in :data:`~nlviz.io.registries.SOURCES`
by its file in ``nlviz/io/sources/`` (one per operator family); ``SOURCES.get(name).to_theirs(sd, ...)`` is
the inverse. Unknown or leftover keys raise a ValueError that names them: there are no silent partial conversions.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from nlviz.io.keymap import KeyMap, StateDict
from nlviz.io.registries import SOURCES


def strip_prefix(sd: Mapping[str, Tensor], prefix: str = "module.") -> StateDict:
    """Drop a DataParallel-style prefix when every key has it."""
    if sd and all(k.startswith(prefix) for k in sd):
        return {k[len(prefix) :]: v for k, v in sd.items()}
    return dict(sd)


def convert_state_dict(state_dict: Mapping[str, Tensor], source: str) -> StateDict:
    """Convert one block's state dict from ``source`` to nlviz names (a ``module.`` prefix is stripped first).

    Sources: mmcv, pytorchvideo, slowfast, alexhex7 (non-local); timm, bat (BA-Transform); cgnl;
    spatialbias. ``nlviz.io.SOURCES.names()`` lists them.
    """
    keymap: KeyMap = SOURCES.get(source)
    return keymap.to_ours(strip_prefix(state_dict), where=f"convert_state_dict(source={source!r})")
