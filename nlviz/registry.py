"""A small name → object registry (after fvcore's): duplicates raise, a missing name lists what exists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class Registry:
    """Maps names to builders. ``get`` on an unknown name raises a ValueError listing the valid names."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, Any] = {}

    def register(self, name: str | None = None, obj: Any = None) -> Any:
        """Register ``obj`` under ``name``; used bare (``@reg.register("x")``) it decorates."""

        def _do(o: Any) -> Any:
            key = name or o.__name__
            if key in self._items:
                raise ValueError(f"{self.name} registry: {key!r} is already registered")
            self._items[key] = o
            return o

        return _do if obj is None else _do(obj)

    def get(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items)) or "(none)"
            raise ValueError(f"unknown {self.name} {name!r}; valid: {valid}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)


def check_options(where: str, given: dict[str, Any], allowed: Callable[..., Any] | set[str]) -> None:
    """Raise a ValueError naming unknown keyword options and listing the valid ones."""
    import inspect

    if callable(allowed):
        params = inspect.signature(allowed).parameters
        allowed = {n for n, p in params.items() if p.kind == p.KEYWORD_ONLY}
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {unknown}; valid: {sorted(allowed)}")
