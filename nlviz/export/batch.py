"""Batch export: a ViewSpec + inputs → files and ``manifest.json`` (``nlviz export`` and the app call :func:`run`).

    nlviz.export.run("view.json", ["clips/*.mp4", "synthetic:20"], "out/", workers=2)

Inputs are files, globs, folders (their video and image files, not recursive), ``frames:DIR`` (one clip from a
folder of frames) or ``synthetic:N`` (N clips of the first model's synthetic task). Each input gets a folder
``OUT/<input id>/`` with the files listed in :mod:`nlviz.export.job`.

Reliability:

- a bad input (missing, empty, corrupt, not a video) is recorded in the manifest with its error and the run
  goes on (its folder is removed); files are written under a temporary name and renamed, so an interrupted run
  leaves no partial file;
- ``manifest.json`` has one entry per input, in input order: ``status`` (done | error | pending), ``outputs``
  (paths relative to OUT), ``seconds``, ``error``. Entries are also kept one file per input in
  ``OUT/.nlviz/entries/`` so that several shards can write into one OUT;
- ``resume=True`` skips inputs already done whose files all exist (inputs with errors are tried again) and
  refuses to continue if the spec changed; ``shard=(i, n)`` processes inputs i, i+n, i+2n, … (0 ≤ i < n);
  ``workers=W`` runs W processes (each loads the models once — models from code too, imported in every
  worker — and uses one torch thread); ``device`` is where they run;
- identical inputs and spec give byte-identical PNG and JSON files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from nlviz.export.viewspec import SpecError, ViewSpec
from nlviz.run.sources import Item, expand_inputs, parse_shard
from nlviz.run.usermodel import UserModel, parse_factory

__all__ = ["Item", "expand_inputs", "load_models", "parse_shard", "process", "read_entry", "run", "write_manifest"]

MANIFEST_VERSION = 1
STATE = ".nlviz"


# ---------------------------------------------------------------------- models (per process)
_MODELS: dict[str, Any] = {}


def _mtimes(entry: str | UserModel) -> str:
    """Modification times of the files an entry is read from (a rewritten file reloads)."""
    if isinstance(entry, str):
        paths = [entry]
    else:
        target, _, is_file = parse_factory(entry.factory)
        paths = [p for p in (target if is_file else None, entry.weights) if p]
    return ",".join(str(os.path.getmtime(p)) if os.path.exists(p) else "" for p in paths)


def load_models(spec: ViewSpec, device: Any = None) -> list[Any]:
    """Load (once per process) and describe every model of the spec, on ``device`` (None: the CPU)."""
    from nlviz.run import BlockError, describe, load_model

    if not spec.models:
        raise SpecError("models", "no model given: pass --model NAME (or 'models' in the ViewSpec)")
    out, labels = [], set()
    for entry in spec.models:
        name = entry if isinstance(entry, str) else entry.display_name
        what = entry if isinstance(entry, str) else json.dumps(entry.to_dict(), sort_keys=True)
        key = f"{what}@{_mtimes(entry)}@{device}"
        if key not in _MODELS:
            _MODELS[key] = load_model(entry, device=device)
        try:
            lm = describe(
                name, _MODELS[key], frames=spec.input_frames, size=spec.input_size, seed=spec.seed, blocks=spec.blocks
            )
        except BlockError as e:
            raise SpecError("blocks", str(e)) from None
        base, n = lm.label, 2
        while lm.label in labels:  # two checkpoints with one file name: keep their outputs apart
            lm.label, n = f"{base}-{n}", n + 1
        labels.add(lm.label)
        out.append(lm)
    return out


def process(item: Item, spec: ViewSpec, out_dir: Path, device: Any = None) -> dict[str, Any]:
    """Render one input on ``device``; never raises for a bad input (the error goes into the returned entry)."""
    from nlviz.export.files import clean_temps
    from nlviz.export.job import render_input

    t0 = time.perf_counter()
    entry: dict[str, Any] = {"id": item.id, "index": item.index, "input": item.source, "outputs": [], "error": None}
    clean_temps(out_dir / item.id)
    try:
        entry["outputs"] = render_input(item.source, item.id, spec, load_models(spec, device), out_dir)
        entry["status"] = "done"
    except Exception as e:  # noqa: BLE001 - batch work records any failure and goes on
        entry["status"] = "error"
        entry["error"] = f"{type(e).__name__}: {e}"
        shutil.rmtree(out_dir / item.id, ignore_errors=True)  # files of a failed input are not kept half-done
    entry["seconds"] = round(time.perf_counter() - t0, 3)
    return entry


_WORKER: dict[str, Any] = {}


def _init_worker(spec_json: str, out_dir: str, device: str | None) -> None:
    import torch

    torch.set_num_threads(1)
    _WORKER["spec"] = ViewSpec.from_dict(json.loads(spec_json))
    _WORKER["out"] = Path(out_dir)
    _WORKER["device"] = device


def _work(item: Item) -> dict[str, Any]:
    return process(item, _WORKER["spec"], _WORKER["out"], _WORKER["device"])


# ---------------------------------------------------------------------- manifest
def _entry_path(out_dir: Path, item_id: str) -> Path:
    return out_dir / STATE / "entries" / f"{item_id}.json"


def read_entry(out_dir: Path, item: Item) -> dict[str, Any] | None:
    p = _entry_path(out_dir, item.id)
    try:
        entry = json.loads(p.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return entry if entry.get("input") == item.source else None


def is_done(out_dir: Path, item: Item) -> bool:
    e = read_entry(out_dir, item)
    return bool(e and e.get("status") == "done" and all((out_dir / o).is_file() for o in e.get("outputs", [])))


def write_manifest(out_dir: Path, spec: ViewSpec, items: list[Item]) -> dict[str, Any]:
    """Rebuild ``manifest.json`` from the per-input entries (inputs without one are ``pending``)."""
    from nlviz.export.files import write_json

    rows = []
    for it in items:
        e = read_entry(out_dir, it) or {
            "id": it.id,
            "index": it.index,
            "input": it.source,
            "status": "pending",
            "outputs": [],
            "seconds": None,
            "error": None,
        }
        rows.append(e)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "error", "pending")}
    manifest = {"nlviz_manifest": MANIFEST_VERSION, "spec": spec.to_dict(), "counts": counts, "inputs": rows}
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def _normalized(stored: Any) -> Any:
    """A stored spec as this nlviz writes it (fields added since, such as ``paper_width``, at their defaults), so
    that ``--resume`` goes on with a run an older nlviz started with the same spec."""
    try:
        return ViewSpec.from_dict(stored).to_dict()
    except (SpecError, TypeError):
        return stored


def _check_spec(out_dir: Path, spec: ViewSpec, resume: bool) -> None:
    from nlviz.export.files import write_text

    path = out_dir / STATE / "spec.json"
    if resume and path.exists() and _normalized(json.loads(path.read_text())) != spec.to_dict():
        raise ValueError(
            f"{out_dir}: --resume with a different ViewSpec than the run that wrote it ({path}); "
            "rerun without --resume or use another --out"
        )
    write_text(path, spec.to_json())


# ---------------------------------------------------------------------- the entry point
def run(
    spec: ViewSpec | dict[str, Any] | str | os.PathLike,
    inputs: list[str] | str,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    shard: tuple[int, int] | str | None = None,
    workers: int = 1,
    progress: bool = True,
    device: Any = None,
) -> dict[str, Any]:
    """Export every input (see the module docstring); returns the manifest (also in ``OUT/manifest.json``).

    ``device`` (``auto|cpu|cuda|cuda:N|mps``; None = cpu) is where every model runs, in each worker too; it is
    not part of the spec, so the same spec exports on any machine.
    """
    from tqdm import tqdm

    from nlviz.export.files import write_json, write_plotly_js

    if isinstance(spec, dict):
        spec = ViewSpec.from_dict(spec)
    elif not isinstance(spec, ViewSpec):
        spec = ViewSpec.load(spec)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers={workers!r} must be a positive integer (processes)")
    sh = parse_shard(shard)
    items = expand_inputs([inputs] if isinstance(inputs, str) else list(inputs))
    if not items:
        raise ValueError("no inputs given: pass --input PATH (files, globs, folders or synthetic:N)")
    if device is not None:
        from nlviz.run import resolve_device

        device = str(resolve_device(device))  # an unavailable device fails here, once, not in every worker
    load_models(spec, device)  # fail early on a bad model, block name or missing task
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_spec(out, spec, resume)
    if "html" in spec.formats and spec.plotlyjs == "shared":
        write_plotly_js(out)
    mine = items if sh is None else items[sh[0] :: sh[1]]
    todo = [it for it in mine if not (resume and is_done(out, it))]
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), desc="nlviz export", unit="input", disable=not progress)
    errors = 0

    def finish(entry: dict[str, Any]) -> None:
        nonlocal errors
        write_json(_entry_path(out, entry["id"]), entry)
        errors += entry["status"] == "error"
        bar.set_postfix(errors=errors)
        bar.update(1)

    try:
        for it in todo:
            _entry_path(out, it.id).unlink(missing_ok=True)
        if workers == 1 or len(todo) <= 1:
            for it in todo:
                finish(process(it, spec, out, device))
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(
                min(workers, len(todo)),
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(spec.to_json(), str(out), device),
            ) as pool:
                for fut in as_completed([pool.submit(_work, it) for it in todo]):
                    finish(fut.result())
    finally:
        bar.close()
        manifest = write_manifest(out, spec, items)
    return manifest
