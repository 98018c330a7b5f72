"""Which convention a checkpoint was trained with, when its keys cannot show it: ``resolve_variant`` decides from
the keys, the format the user forced, the config stored in the file, the file name or a documented default, and
says where the answer came from (the card records it). Never a silent guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.layouts.records import Checkpoint


def hint(text: str, table: Mapping[str, str]) -> str | None:
    """The first variant whose regex occurs in ``text`` (case-insensitive), else None."""
    for variant, pattern in table.items():
        if text and re.search(pattern, text, flags=re.IGNORECASE):
            return variant
    return None


def resolve_variant(
    layout: str,
    forced: str | None,
    ckpt: Checkpoint,
    *,
    from_keys: str | None = None,
    text_hints: Mapping[str, str] | None = None,
    name_hints: Mapping[str, str] | None = None,
    default: str | None = None,
    choices: Iterable[str] = (),
) -> tuple[str, str]:
    """(variant, where it came from): the keys, the format the user forced, the config stored in the file,
    the file name, or the layout's documented default. Raises when none decides (no silent guess)."""
    choices = list(choices)
    if forced is not None and from_keys is not None and forced != from_keys:
        raise CheckpointError(f"{ckpt.path}: format {layout}:{forced} was asked for but the keys are {from_keys!r}")
    if from_keys is not None:
        return from_keys, "the checkpoint keys"
    if forced is not None:
        return forced, f"the format asked for ({layout}:{forced})"
    found = hint(ckpt.text, text_hints or {})
    if found:
        return found, "the config stored in the checkpoint"
    found = hint(ckpt.filename, name_hints or {})
    if found:
        return found, f"the file name {ckpt.path.name!r}"
    if default is not None:
        return default, f"the {layout} default (nothing in the file says otherwise)"
    raise CheckpointError(
        f"{ckpt.path}: the {layout} keys do not say which convention it was trained with "
        f"({', '.join(choices)}), and neither its stored config nor its file name does; "
        f"pass one explicitly: {', '.join(f'{layout}:{c}' for c in choices)}"
    )


def config_value(text: str, key: str) -> str | None:
    """``key=value`` / ``key: value`` from a stored config (python or YAML), quotes stripped; None if absent."""
    m = re.search(rf"\b{key}\s*[=:]\s*['\"]?([\w.\-]+)", text)
    return m[1] if m else None
