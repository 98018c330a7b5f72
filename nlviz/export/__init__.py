"""The batch exporter: a ViewSpec + inputs → files and ``manifest.json`` (``nlviz export`` and the app use it).

    nlviz.export.run("view.json", ["clips/*.mp4", "synthetic:20"], "out/", workers=2)

Modules: ``batch`` (inputs, manifest, resume, shards, worker processes: :func:`run`), ``viewspec`` (the ViewSpec
JSON), ``job`` (one input: read, run every model, resolve queries, render, write), ``queries`` (ViewSpec queries →
cells), ``outputs`` (the files of one (model, block) and of one input), ``records`` (JSON/NPZ payloads),
``files`` (atomic, reproducible writes). ``report`` writes ``nlviz report``'s files (markdown, CSV, JSON, HTML, PNG;
resume, shards, merge) and ``zoo_table`` the operator-family table of ``checkpoints/README.md``.
"""

from nlviz.export.batch import Item, expand_inputs, load_models, parse_shard, process, run, write_manifest
from nlviz.export.viewspec import QuerySpec, SpecError, ViewSpec

__all__ = [
    "Item",
    "QuerySpec",
    "SpecError",
    "ViewSpec",
    "expand_inputs",
    "load_models",
    "parse_shard",
    "process",
    "run",
    "write_manifest",
]
