"""Which modules of a model are operator blocks, and how their rows are recomputed: nlviz's own operators,
the foreign block classes nlviz knows (:mod:`nlviz.extract.adapters`) and blocks users declare by their roles.

A foreign block is recognized by its class — the defining module's dotted path and the class name — never by
importing its library: ``ClassKey("mmcv.cnn.bricks.non_local", "NonLocal2d")`` matches a module whose class is
``NonLocal2d`` defined in a module named ``mmcv.cnn.bricks.non_local`` or ending in ``.mmcv.cnn.bricks.non_local``
(repositories that are not packages are imported under many paths: ``lib.non_local_dot_product``,
``models.nonlocal_helper`` ...). Only the exact class matches; a subclass of a known class may change its
forward, so it is reported (with how to declare it) and not recorded. A matched class must also have the
attributes its adapter reads, else it is skipped with a warning that names the missing ones. A class whose name
is shared by blocks that are not operators (the official Spatial Bias ``resnet.Bottleneck`` is also torchvision's
and timm's plain bottleneck) is registered with a ``when`` test of the instance: an instance that fails it is
silently not a block.

Blocks are not searched inside a block that matched (a BAT block holds its transform; SB holds its module).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from nlviz.ops.base import NonLocalOp, RowSource


@dataclass(frozen=True)
class ClassKey:
    """A class by where it is defined: ``module`` (dotted path, matched as a suffix) and ``name``."""

    module: str
    name: str

    def matches(self, cls: type) -> bool:
        mod = getattr(cls, "__module__", "") or ""
        return cls.__qualname__ == self.name and (mod == self.module or mod.endswith("." + self.module))

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Known:
    """A foreign block class nlviz recomputes: its key, the adapter factory, the attributes it reads, the
    library it comes from (for messages) and the Affinity kind(s) its rows have."""

    key: ClassKey
    make: Callable[[nn.Module], RowSource]
    requires: tuple[str, ...]
    library: str
    kinds: str
    when: Callable[[nn.Module], bool] | None = None

    def accepts(self, module: nn.Module) -> bool:
        return self.when is None or bool(self.when(module))


_KNOWN: list[Known] = []
_DECLARED: dict[type, Callable[[nn.Module], RowSource]] = {}


def register(
    module: str,
    names: tuple[str, ...] | str,
    *,
    requires: tuple[str, ...] = (),
    library: str,
    kinds: str,
    when: Callable[[nn.Module], bool] | None = None,
) -> Callable[[Callable[[nn.Module], RowSource]], Callable[[nn.Module], RowSource]]:
    """Decorator: ``make(block) -> RowSource`` recomputes blocks of the classes ``names`` defined in ``module``
    (those instances for which ``when(block)`` is true, when given)."""

    def deco(make: Callable[[nn.Module], RowSource]) -> Callable[[nn.Module], RowSource]:
        for name in (names,) if isinstance(names, str) else names:
            key = ClassKey(module, name)
            if any(k.key == key for k in _KNOWN):
                raise ValueError(f"block class {key} is already registered")
            _KNOWN.append(Known(key, make, tuple(requires), library, kinds, when))
        return make

    return deco


def declare_source(cls: type, make: Callable[[nn.Module], RowSource]) -> None:
    """Record blocks of exactly ``cls`` through ``make`` (what :func:`nlviz.extract.declare` registers)."""
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise TypeError(f"declare: {cls!r} is not an nn.Module class")
    _DECLARED[cls] = make


def undeclare(cls: type) -> None:
    """Forget a declaration (tests, notebooks that redefine a class)."""
    _DECLARED.pop(cls, None)


def known_classes() -> list[str]:
    """Every foreign block class nlviz recognizes, as ``library: module.Class (kinds)``."""
    _load()
    return [f"{k.library}: {k.key} ({k.kinds})" for k in _KNOWN]


def find(name: str) -> Known:
    """A known class by its class name or ``module.Class`` (for ``declare(..., like=...)``)."""
    _load()
    hits = [k for k in _KNOWN if name in (k.key.name, str(k.key)) or str(k.key).endswith("." + name)]
    if len(hits) != 1:
        listing = ", ".join(str(k.key) for k in _KNOWN)
        what = "matches several" if hits else "is not"
        raise ValueError(f"{name!r} {what} a known block class; known: {listing}")
    return hits[0]


@dataclass(frozen=True)
class Found:
    """One block of a model: ``name`` (from ``named_modules()``), the ``module``, the row ``source`` (the nlviz
    operator itself, or an adapter bound to the module) and whether it runs per frame inside a video net."""

    name: str
    module: nn.Module
    source: RowSource
    per_frame: bool = False


def _match(module: nn.Module) -> tuple[Callable[[nn.Module], RowSource] | None, str | None]:
    """(adapter factory, None) for a block; (None, a warning) for a near miss; (None, None) otherwise."""
    cls = type(module)
    if cls in _DECLARED:
        return _DECLARED[cls], None
    for k in _KNOWN:
        if k.key.matches(cls) and k.accepts(module):
            missing = [a for a in k.requires if not hasattr(module, a)]
            if missing:
                return None, (
                    f"{cls.__module__}.{cls.__qualname__} looks like {k.library}'s {k.key.name} but has no "
                    f"attribute(s) {missing}: not recorded; declare it by its roles with nlviz.extract.declare"
                )
            return k.make, None
    for base in cls.__mro__[1:]:
        for k in _KNOWN:
            if k.key.matches(base) and k.accepts(module):
                return None, (
                    f"{cls.__module__}.{cls.__qualname__} subclasses {k.library}'s {k.key.name} and may change its "
                    f"forward: not recorded. If its weights are computed as in {k.key.name}, declare it: "
                    f"nlviz.extract.declare({cls.__name__}, like={k.key.name!r})"
                )
    return None, None


def find_blocks(model: nn.Module, *, warn: bool = True) -> list[Found]:
    """The operator blocks of ``model`` in module order (nlviz's own, known foreign classes, declared ones)."""
    from nlviz.models.adapter import PerFrame

    _load()
    found: list[Found] = []
    inside: list[str] = []
    for name, module in model.named_modules():
        if any(name.startswith(p + ".") for p in inside):
            continue
        if isinstance(module, NonLocalOp):
            parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else None
            found.append(Found(name, module, module, isinstance(parent, PerFrame)))
            inside.append(name)
            continue
        make, note = _match(module)
        if make is not None:
            found.append(Found(name, module, make(module)))
            inside.append(name)
        elif note and warn:
            warnings.warn(f"nlviz.capture: {name}: {note}", stacklevel=3)
    return found


def no_blocks_message(model: nn.Module) -> str:
    """What to say when a model has no block nlviz can record."""
    return (
        f"nlviz.capture found no operator block in {type(model).__name__}. It records nlviz's own operators "
        f"(nlviz.ops: {', '.join(_op_names())}) and these classes, matched by class (their libraries are never "
        "imported): " + "; ".join(known_classes()) + ". For a block of your own, declare its roles once: "
        "nlviz.extract.declare(MyBlock, theta='theta', phi='phi', g='g', pairwise='softmax', scale=...) — see "
        "the README, 'Bring your own model'. For an attention module whose forward builds its weights "
        "(softmax over keys), capture(model, fallback=True) records them as it runs (that costs what the "
        "module itself costs)."
    )


def _op_names() -> list[str]:
    from nlviz.ops import names

    return names()


def _load() -> None:
    """Import the adapter modules once (each registers the classes it knows)."""
    import nlviz.extract.adapters  # noqa: F401


def describe(found: list[Found]) -> list[dict[str, Any]]:
    """One line of facts per block (name, class, library, kind): for listings and error messages."""
    out = []
    for f in found:
        cls = type(f.module)
        out.append({"block": f.name, "class": f"{cls.__module__}.{cls.__qualname__}", "kind": f.source.kind})
    return out
