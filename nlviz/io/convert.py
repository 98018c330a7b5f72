"""Block-level state-dict converters from public layouts to nlviz's operator parameter names.

``convert_state_dict(sd, source)`` maps one block's state dict (keys relative to the block) from a public
layout to the names our operator uses. Sources register themselves in ``nlviz/io/sources/`` (one file per
operator family). Unknown or leftover keys raise a KeyError-like ValueError that names them: there are no
silent partial conversions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from torch import Tensor

from nlviz.registry import Registry

SOURCES = Registry("state-dict source")

StateDict = dict[str, Tensor]


def strip_prefix(sd: Mapping[str, Tensor], prefix: str = "module.") -> StateDict:
    """Drop a DataParallel-style prefix when every key has it."""
    if sd and all(k.startswith(prefix) for k in sd):
        return {k[len(prefix) :]: v for k, v in sd.items()}
    return dict(sd)


def rename(sd: Mapping[str, Tensor], rules: list[tuple[str, str]], source: str) -> StateDict:
    """Rename every key by the first matching regex rule ``(pattern, replacement)``.

    A key no rule matches is an error naming all such keys, so a wrong source never converts partially.
    A rule whose replacement is ``""`` drops the key (e.g. BN's ``num_batches_tracked``).
    """
    out: StateDict = {}
    leftover = []
    for key, value in sd.items():
        for pattern, repl in rules:
            if re.fullmatch(pattern, key):
                if repl:
                    out[re.sub(pattern, repl, key)] = value
                break
        else:
            leftover.append(key)
    if leftover:
        raise ValueError(f"convert_state_dict(source={source!r}): unexpected key(s) {sorted(leftover)}")
    return out


def convert_state_dict(state_dict: Mapping[str, Tensor], source: str) -> StateDict:
    """Convert one block's state dict from ``source`` to nlviz names.

    Sources: mmcv, pytorchvideo, slowfast, alexhex7 (non-local); timm, bat (BA-Transform); cgnl;
    spatialbias. ``nlviz.io.SOURCES.names()`` lists them.
    """
    _load_sources()
    fn: Callable[[Mapping[str, Tensor]], StateDict] = SOURCES.get(source)
    return fn(strip_prefix(state_dict))


def _load_sources() -> None:
    from nlviz.io.sources import bat, cgnl, nonlocal_block, spatial_bias  # noqa: F401
