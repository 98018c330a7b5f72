"""Input sources as a batch job lists them: files, globs, folders, ``frames:DIR`` and ``synthetic:N``, each one
:class:`Item` with a stable id; and ``--shard I/N``. Shared by ``nlviz export`` and ``nlviz report``.

- a glob expands to its matches in natural order; a folder to its video and image files (not recursive);
  ``synthetic:N`` to ``synthetic:0 … synthetic:N-1`` (clips of a model's synthetic task);
- ids are file-name-safe and unique (``synthetic-3``, ``clip_mp4``, ``clip_mp4-2`` for a second file of that name).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Item:
    """One input: ``index`` in the full input list, ``id`` (its output folder name) and ``source``."""

    index: int
    id: str
    source: str


def is_media(p: Path) -> bool:
    """A video or image file (not hidden) that a folder input expands to."""
    from nlviz.data import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

    return p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS


def expand_inputs(inputs: list[str]) -> list[Item]:
    """Expand globs, folders and ``synthetic:N`` into Items with unique, stable ids (see the module docstring)."""
    from nlviz.data.files import natural_key

    sources: list[str] = []
    for raw in inputs:
        s = str(raw)
        if s.startswith("synthetic:"):
            n = s.split(":", 1)[1]
            if not n.isdigit() or int(n) < 1:
                raise ValueError(f"input {s!r}: write synthetic:N with N a positive number of clips")
            sources += [f"synthetic:{i}" for i in range(int(n))]
        elif s.startswith("frames:"):
            sources.append(s)
        elif any(c in s for c in "*?["):
            found = sorted(glob.glob(s, recursive=True), key=natural_key)
            if not found:
                raise ValueError(f"input {s!r}: the pattern matches no file")
            sources += found
        elif Path(s).is_dir():
            found = sorted((p for p in Path(s).iterdir() if is_media(p)), key=lambda p: natural_key(p.name))
            if not found:
                raise ValueError(
                    f"input {s!r}: the folder holds no video or image files (for a folder of frames write frames:{s})"
                )
            sources += [str(p) for p in found]
        else:
            sources.append(s)  # a missing file becomes an error entry in the manifest
    items, seen = [], set()
    for i, src in enumerate(sources):
        base = src.replace(":", "-") if src.startswith("synthetic:") else _id_of(src)
        uid, n = base, 2
        while uid in seen:
            uid, n = f"{base}-{n}", n + 1
        seen.add(uid)
        items.append(Item(i, uid, src))
    return items


def _id_of(source: str) -> str:
    from nlviz.run.loaded import safe_name

    p = Path(source.split(":", 1)[1] if source.startswith("frames:") else source)
    return safe_name(p.name.replace(".", "_"))


def parse_shard(shard: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"I/N"`` or (I, N) → (I, N) with 0 ≤ I < N; None stays None (no sharding)."""
    if shard is None:
        return None
    if isinstance(shard, tuple):
        i, n = shard
    else:
        try:
            i, n = (int(v) for v in str(shard).split("/"))
        except ValueError:
            raise ValueError(f"--shard {shard!r}: write I/N, e.g. 0/4 (inputs I, I+N, I+2N, ...)") from None
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard {i}/{n}: need N >= 1 and 0 <= I < N (shards are numbered from 0)")
    return i, n
