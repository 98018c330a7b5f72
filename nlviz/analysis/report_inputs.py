"""What a report reads: the clips of its inputs (:class:`ReportItem`, class-per-folder labels included) and the
models it measures (:func:`load_models`, :func:`model_info`). :mod:`nlviz.analysis.reports` computes the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ReportItem:
    """One clip of the dataset: ``index`` in the full list, ``id`` (file-name-safe, unique), ``source`` (what
    :func:`nlviz.run.read_input` reads) and, in a class-per-folder dataset, its class folder ``label_name`` and
    that folder's position ``label_index`` among the classes."""

    index: int
    id: str
    source: str
    label_name: str | None = None
    label_index: int | None = None


def _class_folders(path: Path) -> list[Path]:
    """The class sub-folders of a class-per-folder dataset, or [] when ``path`` is not one (it holds media files of
    its own, or its sub-folders hold only image frames — a folder of frames is one clip)."""
    from nlviz.run.sources import is_media

    if not path.is_dir() or any(is_media(p) for p in path.iterdir()):
        return []
    subs = sorted((d for d in path.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)
    return [d for d in subs if any(is_media(p) or p.is_dir() for p in d.iterdir())]


def report_items(inputs: Iterable[str]) -> list[ReportItem]:
    """The clips of ``inputs`` in order (see the module docstring), with unique ids.

    Raises:
        ValueError: no inputs, a bad ``synthetic:N``, a glob that matches nothing, an empty folder, a missing file.
    """
    from nlviz.data.files import natural_key
    from nlviz.run.loaded import safe_name
    from nlviz.run.sources import expand_inputs, is_media

    raw = [str(s) for s in inputs]
    if not raw:
        raise ValueError("no inputs given: pass --input synthetic:N, files, globs or folders")
    entries: list[tuple[str, str | None, int | None]] = []
    for s in raw:
        classes = _class_folders(Path(s))
        if classes:
            for label, d in enumerate(classes):
                found = sorted(
                    (p for p in d.iterdir() if not p.name.startswith(".") and (is_media(p) or p.is_dir())),
                    key=lambda p: natural_key(p.name),
                )
                entries += [(str(p) if p.is_file() else f"frames:{p}", d.name, label) for p in found]
            continue
        for it in expand_inputs([s]):
            path = it.source.split(":", 1)[1] if it.source.startswith("frames:") else it.source
            if not it.source.startswith("synthetic:") and not Path(path).exists():
                raise ValueError(f"input {it.source!r}: no such file or folder")
            entries.append((it.source, None, None))
    items, seen = [], set()
    for i, (src, name, label) in enumerate(entries):
        if src.startswith("synthetic:"):
            base = src.replace(":", "-")
        else:
            p = Path(src.split(":", 1)[1] if src.startswith("frames:") else src)
            base = safe_name(f"{name}_{p.name}" if name else p.name.replace(".", "_"))
        uid, n = base, 2
        while uid in seen:
            uid, n = f"{base}-{n}", n + 1
        seen.add(uid)
        items.append(ReportItem(i, uid, src, name, label))
    return items


def load_models(models: Iterable[Any], device: Any = None) -> list[Any]:
    """:class:`nlviz.run.LoadedModel` of every entry (a zoo name, checkpoint, factory ``file.py:build``, a
    :class:`nlviz.run.UserModel`, or a LoadedModel kept as it is), baselines without operator blocks included;
    labels made unique."""
    from nlviz.run import LoadedModel, describe, load_model

    out, labels = [], set()
    for entry in models:
        if isinstance(entry, LoadedModel):
            lm = entry
        else:
            name = entry.display_name if hasattr(entry, "display_name") else str(entry)
            lm = describe(name, load_model(entry, device=device), require_blocks=False)
        base, n = lm.label, 2
        while lm.label in labels:
            lm = replace(lm, label=f"{base}-{n}")
            n += 1
        labels.add(lm.label)
        out.append(lm)
    if not out:
        raise ValueError("no model given: pass --model NAME (repeat it to compare models)")
    return out


def model_info(lm: Any) -> dict[str, Any]:
    """What the report says about a model: names, task, data seed, and per block its class and row kind."""
    from nlviz.extract import find_blocks

    found = {f.name: f for f in find_blocks(lm.model, warn=False)}
    blocks = []
    for b in lm.blocks:
        f = found[b]
        cls = type(f.module)
        blocks.append(
            {
                "block": b,
                "class": f"{cls.__module__}.{cls.__qualname__}",
                "kind": f.source.kind,
                "normalized": bool(f.source.normalized),
                "per_frame": bool(f.per_frame),
            }
        )
    return {
        "name": lm.name,
        "label": lm.label,
        "task": lm.task["name"] if lm.task else None,
        "data_seed": lm.seed if lm.task else None,
        "video": lm.spec.video,
        "blocks": blocks,
    }
