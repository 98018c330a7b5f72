"""The records of whole-model conversion: a public ``Checkpoint`` as read, the ``Layout`` that knows its keys, and
what a layout's ``build`` returns (``Converted``: an nlviz arch, its arguments and the weights under our names).

Layouts register at their definition: ``LAYOUT = LAYOUTS.register(NAME, Layout(...))``
(:data:`nlviz.io.registries.LAYOUTS`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from nlviz.io.keymap import KeyMap, StateDict


@dataclass
class Checkpoint:
    """A public checkpoint as read: ``state`` (tensors, ``module.`` stripped) and the config ``text`` it carries
    (mmengine's ``meta.cfg``, SlowFast's ``cfg``, ...; empty when none)."""

    path: Path
    state: dict[str, Tensor]
    text: str = ""

    @property
    def filename(self) -> str:
        return self.path.name.lower()


@dataclass
class Converted:
    """The result of a layout's ``build``: ``build_model(arch, **args)`` + ``state`` (our names) + card fields."""

    arch: str
    args: dict[str, Any]
    state: dict[str, Tensor]
    card: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """A whole-model checkpoint layout.

    Attributes:
        name: format name (``nlviz convert --from NAME``).
        summary: which checkpoints this is, one line.
        keys: the key map of everything but the operator blocks (backbone, head), both ways.
        specific: regexes (full match) of its operator keys; among layouts that know every key, the most
            specific wins.
        variants: ``name → meaning`` of conventions not visible in the keys (``--from NAME:VARIANT``).
        build: ``(checkpoint, variant or None) → Converted``.
        export: ``model → state dict in this layout`` (the inverse, for round trips).
        generic: chosen only when no other layout recognizes operator keys (plain backbones).
    """

    name: str
    summary: str
    keys: KeyMap
    specific: tuple[str, ...]
    variants: Mapping[str, str]
    build: Callable[[Checkpoint, str | None], Converted]
    export: Callable[[nn.Module], StateDict]
    generic: bool = False

    @property
    def patterns(self) -> tuple[str, ...]:
        """Regexes of every key the layout knows (its key map's and its operator keys); detection ranks by them."""
        return (*self.keys.patterns(), *self.specific)

    def score(self, keys: Iterable[str]) -> tuple[int, int]:
        """(keys recognized, operator keys recognized)."""
        known = [k for k in keys if self.knows(k)]
        specific = _alternation(self.specific)
        return len(known), sum(bool(self.specific) and specific.fullmatch(k) is not None for k in known)

    def knows(self, key: str) -> bool:
        return _alternation(self.patterns).fullmatch(key) is not None


@functools.lru_cache(maxsize=64)
def _alternation(patterns: tuple[str, ...]) -> re.Pattern:
    """One compiled regex matching any of ``patterns`` (detection runs them over every key of a file)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)")
