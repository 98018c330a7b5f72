"""The one way nlviz renames checkpoint keys: a :class:`KeyMap` declared once, used both ways.

A key map is a list of ``(theirs, ours)`` key templates (their key in a public layout, our key in nlviz) from which
both directions are derived: :meth:`KeyMap.to_ours` (public layout → nlviz names) and :meth:`KeyMap.to_theirs`
(the inverse, to export). A template is a literal key but for

- **slots**, which stand for the same text on both sides, in the same order: ``<i>`` digits (a block index),
  ``<d>`` one digit (a stage), ``<p>`` ``weight`` or ``bias``, ``<bn>`` a BatchNorm entry, ``<a|b|c>`` one of the
  listed words. ``("s2.pathway0_res<i>.branch1.weight", "layer1.<i>.downsample.0.weight")`` renames
  ``s2.pathway0_res3.branch1.weight`` to ``layer1.3.downsample.0.weight`` and back;
- **choices** ``[name]``, on their side only: text our names do not record. ``phi[sub_sample].conv.<p>`` with
  the choice ``sub_sample = Choice({True: ".0", False: ""})`` reads ``phi.0.conv.weight`` and ``phi.conv.weight``
  and writes the form the export keyword ``sub_sample=`` picks.

What is not a rename is declared beside the templates: ``drop`` (regexes of their keys import ignores, e.g. solver
state), ``drop_ours`` (regexes of our keys export leaves out) and one value fix-up per direction, both on our
names: ``on_import`` (applied to the converted state) and ``on_export`` (applied to our state before renaming).
A key that no template or drop matches is a ValueError naming it: a key map never converts part of a state dict.
When several templates match one of our keys, export uses the first (list the preferred public names first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from nlviz.registry import check_options

StateDict = dict[str, Tensor]
#: a value fix-up: our-named state dict in, our-named state dict out
Fix = Callable[[StateDict], StateDict]

#: named slots → the text they stand for (a slot ``<a|b>`` stands for one of its words)
SLOTS = {
    "<i>": r"\d+",
    "<d>": r"\d",
    "<p>": "weight|bias",
    "<bn>": "weight|bias|running_mean|running_var|num_batches_tracked",
}
_TOKEN = re.compile(r"(<[^<>]*>|\[\w+\])")
_REQUIRED = object()
_SHOWN = 12


@dataclass(frozen=True)
class Choice:
    """Text of their keys that our names do not record, chosen on export by the keyword of the same name.

    Attributes:
        forms: choice value → the text it puts in their keys (import accepts every form).
        default: the choice when the keyword is not given: a value, or a function of our state dict
            (e.g. ``W.0`` when the block has a norm); without one the keyword is required.
    """

    forms: Mapping[Any, str]
    default: Any = _REQUIRED

    def form(self, name: str, options: Mapping[str, Any], state: Mapping[str, Tensor], where: str) -> str:
        """The text to write for keyword ``name`` given ``options`` (or the default) and our ``state``."""
        if name in options:
            value = options[name]
        elif self.default is _REQUIRED:
            raise ValueError(f"{where}: pass {name}= (one of {list(self.forms)}): the public keys depend on it")
        else:
            value = self.default(state) if callable(self.default) else self.default
        if value not in self.forms:
            raise ValueError(f"{where}: {name}={value!r} is not supported; allowed: {list(self.forms)}")
        return self.forms[value]


def _is_slot(part: str) -> bool:
    return part.startswith("<") and part.endswith(">")


def _is_choice(part: str) -> bool:
    return part.startswith("[") and part.endswith("]")


class _Template:
    """One side of a template pair: parses it, turns it into a regex, fills it from a match."""

    def __init__(self, text: str, choices: Mapping[str, Choice]) -> None:
        self.text = text
        self.parts = [p for p in _TOKEN.split(text) if p]
        for part in self.parts:
            if _is_slot(part) and part not in SLOTS and "|" not in part:
                raise ValueError(f"template {text!r}: unknown slot {part}; slots: {[*SLOTS, '<a|b>']}")
            if _is_choice(part) and part[1:-1] not in choices:
                raise ValueError(f"template {text!r}: choice {part} is not declared; declared: {sorted(choices)}")
        self.choices = choices

    @property
    def slots(self) -> list[str]:
        return [p for p in self.parts if _is_slot(p)]

    def regex(self, capture: bool) -> str:
        """The keys this template stands for; slots are groups when ``capture``, choices never are."""
        out = []
        for part in self.parts:
            if _is_slot(part):
                words = SLOTS.get(part) or "|".join(map(re.escape, part[1:-1].split("|")))
                out.append(f"({words})" if capture else f"(?:{words})")
            elif _is_choice(part):
                out.append("(?:" + "|".join(map(re.escape, self.choices[part[1:-1]].forms.values())) + ")")
            else:
                out.append(re.escape(part))
        return "".join(out)

    def fill(self, values: Iterator[str], chosen: Mapping[str, str]) -> str:
        """The key with the slots' ``values`` (in order) and the ``chosen`` text of each choice."""
        return "".join(next(values) if _is_slot(p) else chosen[p[1:-1]] if _is_choice(p) else p for p in self.parts)


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    target: _Template


def _rules(pairs: Iterable[tuple[_Template, _Template]]) -> list[_Rule]:
    return [_Rule(re.compile(src.regex(capture=True)), dst) for src, dst in pairs]


def _drops(patterns: Sequence[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)")


def unexpected(where: str, keys: Iterable[str]) -> str:
    """The error text for keys nothing maps: ``{where}: unexpected key(s) [...]`` (the first 12, then a count)."""
    keys = sorted(keys)
    more = f" … ({len(keys)} in all)" if len(keys) > _SHOWN else ""
    return f"{where}: unexpected key(s) {keys[:_SHOWN]}{more}"


class KeyMap:
    """Key templates ``(theirs, ours)`` declared once; both directions derived from them.

    Args:
        name: the public layout, for error messages (``"mmcv"``, ``"slowfast"``).
        pairs: ``(their template, our template)``; see the module docstring for slots and choices.
        choices: name → :class:`Choice` for every ``[name]`` in their templates.
        drop: regexes (full match) of their keys that import ignores (solver state).
        drop_ours: regexes of our keys that export leaves out (BN step counters a format has no place for).
        on_import: value fix-up of the converted state (our names), e.g. a zero bias the layout leaves out.
        on_export: value fix-up of our state before it is renamed, e.g. folding that bias elsewhere.
    """

    def __init__(
        self,
        name: str,
        pairs: Iterable[tuple[str, str]],
        *,
        choices: Mapping[str, Choice] | None = None,
        drop: Sequence[str] = (),
        drop_ours: Sequence[str] = (),
        on_import: Fix | None = None,
        on_export: Fix | None = None,
    ) -> None:
        self.name = name
        self.choices = dict(choices or {})
        self.pairs = [(_Template(theirs, self.choices), _Template(ours, {})) for theirs, ours in pairs]
        for theirs, ours in self.pairs:
            if theirs.slots != ours.slots:
                raise ValueError(f"{name}: templates {theirs.text!r} and {ours.text!r} need the same slots in order")
        self.drop, self.drop_ours = tuple(drop), tuple(drop_ours)
        self.on_import, self.on_export = on_import, on_export
        self._import = _rules(self.pairs)
        self._export = _rules((ours, theirs) for theirs, ours in self.pairs)
        self._drop, self._drop_ours = _drops(self.drop), _drops(self.drop_ours)

    def __repr__(self) -> str:
        return f"KeyMap({self.name!r}, {len(self.pairs)} templates)"

    def patterns(self) -> tuple[str, ...]:
        """Regexes (full match, no groups) of every key of theirs this map knows, drops included."""
        return (*(theirs.regex(capture=False) for theirs, _ in self.pairs), *self.drop)

    def pattern(self) -> str:
        """:meth:`patterns` as one alternation, to embed in a whole-model pattern (``layer\\d\\.nl\\d+\\.(?:...)``)."""
        return "|".join(self.patterns())

    def to_ours(self, state: Mapping[str, Tensor], *, where: str | None = None) -> StateDict:
        """Their keys → ours (then ``on_import``). ``where`` names the file or block in errors."""
        out = _apply(state, self._import, self._drop, {}, where or f"{self.name} → nlviz")
        return self.on_import(out) if self.on_import else out

    def to_theirs(self, state: Mapping[str, Tensor], *, where: str | None = None, **options: Any) -> StateDict:
        """Our keys → theirs (``on_export`` first); ``options`` pick the form of each choice (``sub_sample=True``)."""
        where = where or f"nlviz → {self.name}"
        check_options(where, options, set(self.choices))
        chosen = {name: c.form(name, options, state, where) for name, c in self.choices.items()}
        state = self.on_export(dict(state)) if self.on_export else state
        return _apply(state, self._export, self._drop_ours, chosen, where)


def _apply(
    state: Mapping[str, Tensor], rules: list[_Rule], drop: re.Pattern, chosen: Mapping[str, str], where: str
) -> StateDict:
    """Rename every key by the first matching rule; dropped keys go; any other key is an error naming it."""
    out: StateDict = {}
    leftover = []
    for key, value in state.items():
        if drop.fullmatch(key):
            continue
        for rule in rules:
            m = rule.pattern.fullmatch(key)
            if m:
                out[rule.target.fill(iter(m.groups()), chosen)] = value
                break
        else:
            leftover.append(key)
    if leftover:
        raise ValueError(unexpected(where, leftover))
    return out


def same(*templates: str) -> list[tuple[str, str]]:
    """Pairs for keys a layout shares with nlviz unchanged (torchvision's ResNet, timm's backbone)."""
    return [(t, t) for t in templates]
