"""Read JSON — a file, or text from a flag or an environment variable — with errors a user can act on (the file
or flag named, what is wrong with it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_json(
    path: str | os.PathLike,
    *,
    missing: str = "file not found",
    invalid: str = "not valid JSON",
    error: type[ValueError] = ValueError,
) -> Any:
    """The JSON value stored in ``path``.

    Raises:
        ``error`` (a ValueError subclass): ``"{path}: {missing}"`` when there is no such file,
            ``"{path}: {invalid} ({parser message})"`` when its text is not JSON.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except json.JSONDecodeError as e:
        raise error(f"{path}: {invalid} ({e})") from None


def parse_json(text: str, where: str, kind: type = object, *, hint: str = "") -> Any:
    """The JSON value of ``text`` (a flag's or a variable's), which must be a ``kind`` (dict, list, ...).

    Raises:
        ValueError: ``"{where} is not valid JSON (...)"`` or ``"{where} must be a JSON {kind}, got ..."``, each
            followed by ``hint`` (what to write instead) when given.
    """
    tail = f"; {hint}" if hint else ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where} is not valid JSON ({e.msg}){tail}") from None
    if not isinstance(value, kind):
        names = {dict: "object", list: "list"}
        raise ValueError(f"{where} must be a JSON {names.get(kind, kind.__name__)}, got {type(value).__name__}{tail}")
    return value
