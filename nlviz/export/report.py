"""``nlviz report``'s files: a :class:`nlviz.analysis.reports.Report` written as markdown, CSV, JSON, one PNG per
metric and one offline HTML page, with per-clip state for ``--resume`` and ``--shard`` / ``--merge``.

    rep = run_report(["st_nl_embedded", "st_bat3d"], ["synthetic:64"], "out/", resume=True)
    rep = merge_dirs(["out0/", "out1/"], "out/")      # shards of one run → exactly the full run's files

Its files are written by :mod:`nlviz.export.report_text`. OUT holds ``report.md``, ``report.csv``, ``report.json`` (the header, every per-model × block mean with its
interval, and every clip's values, so a report can be merged or re-read), ``report.html`` (self-contained: inline
SVG, no script, no CDN), ``plots/<metric>.png`` and ``.nlviz-report/`` (``header.json`` and one JSON per clip as
it is computed: what ``--resume`` keeps). Every file is written atomically; bytes depend only on the content
(sorted keys, fixed float formatting, no timestamps or paths of OUT), so a deterministic run gives byte-identical
files and merged shards give the full run's files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nlviz.analysis.reports import Report, report, report_from_dict
from nlviz.export.files import clean_temps, json_text, write_text
from nlviz.export.report_text import write_report

STATE = ".nlviz-report"


def _clip_path(out: Path, clip_id: str) -> Path:
    return out / STATE / "clips" / f"{clip_id}.json"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a valid JSON file ({e}); delete it or rerun without --resume") from None


def _saved_clips(out: Path, header: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Clip records saved in ``out`` by a run with this header: clips with an error are not kept (retried)."""
    ids = {it["id"]: it for it in header["inputs"]}
    saved = {}
    folder = out / STATE / "clips"
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        rec = _read_json(p)
        if not isinstance(rec, dict) or rec.get("id") not in ids or rec.get("input") != ids[rec["id"]]["source"]:
            continue
        if all(m.get("status") == "done" for m in rec.get("models", {}).values()):
            saved[rec["id"]] = rec
    return saved


_WORKER: dict[str, Any] = {}


def _init_worker(entries: list[Any], config: dict[str, Any], device: Any) -> None:
    import torch

    from nlviz.analysis.report_inputs import load_models
    from nlviz.analysis.reports import ReportConfig

    torch.set_num_threads(1)
    _WORKER["lms"] = load_models(entries, device)
    _WORKER["config"] = ReportConfig(**config)


def _work(item: Any) -> dict[str, Any]:
    from nlviz.analysis.reports import clip_record

    return clip_record(_WORKER["lms"], item, _WORKER["config"])


def _in_workers(
    entries: list[Any], todo: list[Any], config: Any, device: Any, workers: int, progress: bool, save: Any
) -> dict[str, dict[str, Any]]:
    """Clip records of ``todo`` computed by ``workers`` processes (each loads the models once), saved as they come."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    from nlviz.run import LoadedModel

    if any(isinstance(e, LoadedModel) for e in entries):
        raise ValueError("workers > 1 need models by name (zoo names, checkpoints, factories), not loaded modules")
    out: dict[str, dict[str, Any]] = {}
    bar = tqdm(total=len(todo), desc=f"nlviz report ({workers} workers)", unit="clip", disable=not progress)
    try:
        with ProcessPoolExecutor(
            min(workers, len(todo)),
            mp_context=mp.get_context("spawn"),
            initializer=_init_worker,
            initargs=(entries, config.to_dict(), device),
        ) as pool:
            for fut in as_completed([pool.submit(_work, it) for it in todo]):
                rec = fut.result()
                save(rec)
                out[rec["id"]] = rec
                bar.update(1)
    finally:
        bar.close()
    return out


def run_report(
    models: Iterable[Any],
    inputs: Iterable[str],
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    shard: Any = None,
    workers: int = 1,
    progress: bool = True,
    **options: Any,
) -> Report:
    """:func:`nlviz.analysis.report` with its per-clip records saved in ``OUT/.nlviz-report/`` as they are computed,
    then every output file written (see the module docstring). ``options`` are report's (queries, k, seed,
    min_cover, resamples, device).

    ``resume=True`` keeps the clips a previous run with the same models, inputs and settings finished (clips with
    an error are tried again) and refuses a run with other settings. Without it the clips this run covers are
    recomputed. Several shards may write into one OUT: the files then cover every clip saved there so far.
    ``workers`` processes share the clips. Every model runs with one torch thread (here and in each worker), so
    the numbers, and the files' bytes, do not depend on ``workers`` or on the machine's cores.
    """
    import torch

    from nlviz.analysis.report_inputs import load_models, model_info, report_items
    from nlviz.analysis.reports import ReportConfig
    from nlviz.run.sources import parse_shard

    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"--workers {workers!r}: must be a positive number of processes")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    models = list(models)
    device = options.pop("device", None)
    sh = parse_shard(shard)
    lms = load_models(models, device)  # loaded once; a bad model name fails before any clip
    items = report_items(list(inputs))
    config = ReportConfig(**options)
    header = Report(config, [model_info(lm) for lm in lms], items).header()
    head_path = out / STATE / "header.json"
    old = _read_json(head_path)
    if resume and old is not None and old != header:
        raise ValueError(
            f"{out}: --resume with other models, inputs or settings than the run that wrote it ({head_path}); "
            "rerun without --resume or use another --out"
        )
    saved = _saved_clips(out, header) if old == header else {}
    if old is not None and old != header:  # a new run in an old OUT: its clips are not this run's
        for p in (out / STATE / "clips").glob("*.json"):
            p.unlink()
    clean_temps(out / STATE / "clips")
    write_text(head_path, json_text(header))
    done = saved if resume else {}

    def save(rec: dict[str, Any]) -> None:
        write_text(_clip_path(out, rec["id"]), json_text(rec))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mine = items if sh is None else items[sh[0] :: sh[1]]
        todo = [it for it in mine if it.id not in done]
        pool = workers > 1 and len(todo) > 1
        if pool:
            done = {**done, **_in_workers(models, todo, config, device, workers, progress, save)}
        rep = report(lms, items, shard=sh, progress=progress and not pool, done=done, on_clip=save, **options)
    finally:
        torch.set_num_threads(threads)
    keep = {c["id"]: c for c in rep.clips}
    for cid, rec in _saved_clips(out, header).items():  # other shards' clips saved in the same OUT
        keep.setdefault(cid, rec)
    full = Report(rep.config, rep.models, rep.items, sorted(keep.values(), key=lambda c: c["index"]), rep.shard)
    write_report(full, out)
    return full


def read_report(folder: str | os.PathLike) -> Report:
    """The report a finished run wrote in ``folder`` (its ``report.json``)."""
    path = Path(folder) / "report.json"
    d = _read_json(path)
    if d is None:
        raise ValueError(f"{path}: not found (finish that run, or --resume it, before merging)")
    try:
        return report_from_dict(d)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: not an nlviz report ({e})") from None


def merge_dirs(folders: Iterable[str | os.PathLike], out_dir: str | os.PathLike) -> Report:
    """Merge the reports of shards of one run (their folders) and write the full report into ``out_dir``.

    Raises:
        ValueError: a folder without a report, reports of different runs, or clips missing from every shard.
    """
    from nlviz.analysis.reports import merge_reports

    folders = list(folders)
    if not folders:
        raise ValueError("--merge needs the output folders of the shards (--merge DIR1 DIR2 ...)")
    try:
        rep = merge_reports([read_report(f) for f in folders])
    except ValueError as e:
        raise ValueError(f"{e} (merging {', '.join(str(f) for f in folders)})") from None
    if not rep.complete:
        have = {c["id"] for c in rep.clips}
        missing = [it.source for it in rep.items if it.id not in have]
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ValueError(
            f"merge: {len(missing)} of {len(rep.items)} clips are in none of the shards ({', '.join(missing[:5])}{more}): "
            "add the missing shard's folder"
        )
    write_report(rep, out_dir)
    return rep
