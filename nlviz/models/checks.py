"""Validation helpers for config dataclasses: JSON lists in, tuples out, errors that name the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def int_tuple(name: str, value: Any, *, length: int | None = None, minimum: int = 1) -> tuple[int, ...]:
    """A tuple of ints ≥ ``minimum`` (from a list or tuple), of ``length`` items when given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a list of ints, got {value!r}")
    out = tuple(value)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in out):
        raise ValueError(f"{name} must be ints ≥ {minimum}, got {list(out)}")
    if length is not None and len(out) != length:
        raise ValueError(f"{name} needs {length} values (one per stage), got {len(out)}: {list(out)}")
    return out


def pattern(name: str, value: Any, depths: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """A per-stage, per-block 0/1 pattern shaped like ``depths`` (e.g. I3D inflation)."""
    layout = [[0] * d for d in depths]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != len(depths):
        raise ValueError(f"{name} must be one list of 0/1 per stage shaped like {layout}, got {value!r}")
    out = []
    for s, (row, d) in enumerate(zip(value, depths)):
        row = int_tuple(f"{name}[{s}]", row, minimum=0)
        if len(row) != d or any(v not in (0, 1) for v in row):
            raise ValueError(
                f"{name}[{s}] must be {d} values in {{0, 1}} (stage {s + 1} has {d} blocks), got {list(row)}"
            )
        out.append(row)
    return tuple(out)


def positive_int(name: str, value: Any, *, odd: bool = False, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (odd and value % 2 == 0):
        kind = "an odd int" if odd else "an int"
        raise ValueError(f"{name} must be {kind} ≥ {minimum}, got {value!r}")
    return value


def probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def spec_list(value: Any) -> list[dict[str, Any]]:
    """The ``blocks`` insertion list in canonical form (``{"op", "stage", "index", "options"}`` dicts).

    Keys and the operator name are checked here; stage/index are checked against the model when it is built.
    """
    from nlviz.models.insert import BlockSpec

    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Sequence):
        raise ValueError(
            f"blocks must be a list of block specs like {{'op': 'nonlocal', 'stage': 2, 'index': 0}}, got {value!r}"
        )
    return [BlockSpec.parse(v, f"blocks[{k}]").to_dict() for k, v in enumerate(value)]
