"""Markdown for benchmark reports: table lines, and rewriting one ``## `` section of a file (bench/README.md)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def table_header(columns: Iterable[str]) -> str:
    """The header and separator lines of a table with these columns."""
    columns = list(columns)
    return f"| {' | '.join(columns)} |\n|{'---|' * len(columns)}"


def table_row(cells: Iterable[object]) -> str:
    return f"| {' | '.join(str(c) for c in cells)} |"


def table(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    return "\n".join([table_header(columns), *(table_row(r) for r in rows)])


def write_section(path: Path, title: str, body: str) -> None:
    """Replace the section ``title`` (a ``## `` heading line) of ``path`` by ``title`` + ``body``, up to the next
    ``## `` heading; append it when absent. Other sections are left as they are; the file is replaced at once."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{title}\n\n{body.strip()}\n"
    if title in text:
        start = text.index(title)
        nxt = text.find("\n## ", start + len(title))
        text = text[:start] + block + (text[nxt:] if nxt >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + block
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
