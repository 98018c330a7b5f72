"""Read a JSON file with errors a user can act on (the file named, what is wrong with it)."""

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
