"""The error raised for bad input files: it names the file and says what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A file or folder that cannot be used as input (missing, unreadable, truncated, empty, wrong kind).

    ``path`` is the offending file and ``problem`` the sentence that describes it; ``str(err)`` is
    ``"<path>: <problem>"``. It subclasses ValueError so callers that catch bad values catch it too.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
