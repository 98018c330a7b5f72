"""``nlviz report``'s files: a :class:`nlviz.analysis.reports.Report` written as markdown, CSV, JSON, one PNG per
metric and one offline HTML page, with per-clip state for ``--resume`` and ``--shard`` / ``--merge``.

    rep = run_report(["st_nl_embedded", "st_bat3d"], ["synthetic:64"], "out/", resume=True)
    rep = merge_dirs(["out0/", "out1/"], "out/")      # shards of one run → exactly the full run's files

OUT holds ``report.md``, ``report.csv``, ``report.json`` (the header, every per-model × block mean with its
interval, and every clip's values, so a report can be merged or re-read), ``report.html`` (self-contained: inline
SVG, no script, no CDN), ``plots/<metric>.png`` and ``.nlviz-report/`` (``header.json`` and one JSON per clip as
it is computed: what ``--resume`` keeps). Every file is written atomically; bytes depend only on the content
(sorted keys, fixed float formatting, no timestamps or paths of OUT), so a deterministic run gives byte-identical
files and merged shards give the full run's files.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nlviz.analysis.intervals import Interval
from nlviz.analysis.report_metrics import BLOCK_METRICS, METRICS, MODEL_METRICS, metric_label
from nlviz.analysis.reports import Report, report, report_from_dict
from nlviz.export.files import clean_temps, json_text, write_bytes, write_text

STATE = ".nlviz-report"
#: the markdown/HTML tables: (title, metric names); model metrics get one row per model, block metrics one per block
SECTIONS = (
    ("Accuracy", ("top1", "margin")),
    ("Query-independence (GCNet, Table 1)", ("cosine_attention", "cosine_input", "cosine_output", "cosine_context")),
    ("Concentration", ("js_spread", "entropy", "topk_mass")),
    ("Reach", ("spatial_distance", "temporal_distance", "other_frame_mass")),
    (
        "On the object (synthetic masks: queries on the target, mass on the cue)",
        ("partner_mass", "partner_chance", "partner_lift"),
    ),
)
CI_TEXT = (
    "Every figure is a mean over clips (each clip's value is the mean over its sampled queries, groups averaged) "
    "with a 95 % interval over clips: percentile bootstrap ({resamples} resamples, numpy PCG64 seeded with {seed}); "
    "top-1 has the Wilson score interval. n/a: the metric is undefined for that row (no frames besides the "
    "query's, no masks, a baseline without blocks)."
)
SIGNED_TEXT = (
    "Rows of unnormalized or signed kinds (dot product, concatenation, CGNL and Spatial Bias linear contributions) are "
    "read as |w| / Σ|w| — the share of the row's absolute weight on each key — for every distribution metric "
    "(cosine and JS distances, entropy, top-k, distances, cross-frame and on-object mass)."
)


# ---------------------------------------------------------------------- numbers → text
def _sig(x: float | None, digits: int = 6) -> float | None:
    """A float rounded to ``digits`` significant digits (None for NaN/None): the JSON summary's fixed format."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def _ival_json(iv: Interval) -> dict[str, Any]:
    return {"mean": _sig(iv.mean), "lo": _sig(iv.lo), "hi": _sig(iv.hi), "n": iv.n}


def cell(iv: Interval) -> str:
    """``0.123 [0.101, 0.150]`` (3 significant digits; round-off below 1e-9 shows as 0), or ``n/a``."""
    from nlviz.render.interval_chart import interval_text

    return interval_text(iv.mean, iv.lo, iv.hi)


def _row_name(row: dict[str, Any]) -> str:
    return row["model"] if row["block"] is None else f"{row['model']} / {row['block']}"


# ---------------------------------------------------------------------- the formats
def report_json(rep: Report) -> dict[str, Any]:
    """Header, totals, the interval method, per-row means (6 significant digits) and every clip's record."""
    rows = [
        {k: row[k] for k in ("model", "block", "kind", "clips")}
        | {"metrics": {n: _ival_json(iv) for n, iv in row["metrics"].items()}}
        for row in rep.rows
    ]
    return rep.header() | {
        "clips_total": len(rep.items),
        "clips_done": len(rep.clips),
        "complete": rep.complete,
        "intervals": {
            "level": 0.95,
            "method": "percentile bootstrap over clips (numpy default_rng(seed), PCG64); top-1: Wilson score",
            "resamples": rep.config.resamples,
            "seed": rep.config.seed,
        },
        "rows": rows,
        "errors": rep.errors,
        "clips": rep.clips,
    }


def report_csv(rep: Report) -> str:
    """One line per model × block: model, block, kind, clips, then per metric its mean, lo, hi and n."""
    names = [*MODEL_METRICS, *BLOCK_METRICS]
    head = ["model", "block", "kind", "clips"] + [f"{n}{s}" for n in names for s in ("", "_lo", "_hi", "_n")]

    def f(x: float) -> str:
        return "" if not math.isfinite(x) else f"{x:.6g}"

    lines = [",".join(head)]
    for row in rep.rows:
        vals = [row["model"], row["block"] or "", row["kind"] or "", str(row["clips"])]
        for n in names:
            iv = row["metrics"].get(n)
            vals += ["", "", "", "0"] if iv is None else [f(iv.mean), f(iv.lo), f(iv.hi), str(iv.n)]
        lines.append(",".join(_csv_field(v) for v in vals))
    return "\n".join(lines) + "\n"


def _csv_field(v: str) -> str:
    return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in ',"\n') else v


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def summary_lines(rep: Report) -> list[str]:
    c = rep.config
    done = len(rep.clips)
    total = len(rep.items)
    state = "" if rep.complete else f" — partial: {done} of {total} clips (a shard, or an interrupted run)"
    models = ", ".join(m["name"] for m in rep.models)
    return [
        f"{done} clips{state}; models: {models}.",
        f"{c.queries} query cells sampled per clip and block (seeded by clip), top-{c.k} mass, target cells at least "
        f"{c.min_cover:g} covered.",
    ]


def table(rep: Report, names: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one table, each metric's mean and interval as text: model metrics one row per model
    (model, task, clips), block metrics one row per model × block (model, block, kind; baselines left out)."""
    labels = [metric_label(n, rep.config.k) for n in names]
    rows = []
    if all(n in MODEL_METRICS for n in names):
        tasks = {m["label"]: m["task"] or "—" for m in rep.models}
        seen = set()
        for row in rep.rows:
            if row["model"] not in seen:
                seen.add(row["model"])
                vals = [row["model"], tasks[row["model"]], str(row["clips"])]
                rows.append(vals + [cell(row["metrics"][n]) for n in names])
        return ["model", "task", "clips", *labels], rows
    for row in rep.rows:
        if row["block"] is not None:
            rows.append([row["model"], row["block"], row["kind"]] + [cell(row["metrics"][n]) for n in names])
    return ["model", "block", "kind", *labels], rows


def report_markdown(rep: Report) -> str:
    """The tables of :data:`SECTIONS`, the metrics explained, how intervals are computed, and any errors."""
    out = ["# nlviz report", "", *summary_lines(rep), ""]
    for title, names in SECTIONS:
        head, rows = table(rep, names)
        out += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(_md(v) for v in vals) + " |" for vals in rows]
        out.append("")
    out += ["## Metrics", ""]
    out += [f"- **{metric_label(n, rep.config.k)}** (`{n}`): {m.help}." for n, m in METRICS.items()]
    out += ["", "## Intervals and conventions", ""]
    for paragraph in notes(rep):
        out += [paragraph, ""]
    if rep.errors:
        out += ["## Errors", ""] + [f"- {_md(e['model'])} on {_md(e['input'])}: {_md(e['error'])}" for e in rep.errors]
        out.append("")
    return "\n".join(out)


def notes(rep: Report) -> list[str]:
    """How the intervals are computed and how signed rows are read (paragraphs)."""
    out = [CI_TEXT.format(resamples=rep.config.resamples, seed=rep.config.seed), SIGNED_TEXT]
    kinds = sorted({b["kind"] for m in rep.models for b in m["blocks"] if not b["normalized"]})
    if kinds:
        out.append(f"Kinds read as |w| shares in this report: {', '.join(kinds)}.")
    return out


def chart(rep: Report, name: str) -> Any:
    """The :class:`nlviz.render.interval_chart.IntervalChart` of one metric: a bar per model (model metrics) or
    per model × block, colored by model."""
    from nlviz.render.interval_chart import IntervalRow, interval_layout

    groups = {m["label"]: i for i, m in enumerate(rep.models)}
    bars = []
    for row in rep.rows:
        if METRICS[name].level == "block" and row["block"] is None:
            continue
        if METRICS[name].level == "model" and any(b.label == row["model"] for b in bars):
            continue
        iv = row["metrics"][name]
        label = row["model"] if METRICS[name].level == "model" else _row_name(row)
        bars.append(IntervalRow(label, groups[row["model"]], iv.mean, iv.lo, iv.hi, iv.n))
    m = METRICS[name]
    title = f"{metric_label(name, rep.config.k)}: mean over clips, 95 % interval"
    return interval_layout(bars, title=title, note=m.help, bounds=m.bounds)


def report_html(rep: Report) -> str:
    """One self-contained page: the summary, one inline SVG chart per metric (tooltips give n), the tables."""
    from nlviz.render.interval_chart import interval_svg

    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>nlviz report</title>',
        "<style>body{font-family:sans-serif;margin:16px;max-width:1100px}h2{font-size:16px;margin:22px 0 6px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
        "white-space:nowrap}svg{display:block;margin:6px 0 14px}</style>",
        "</head><body>",
        "<h1 style='font-size:20px'>nlviz report</h1>",
        *(f"<p>{e(s)}</p>" for s in [*summary_lines(rep), *notes(rep)]),
    ]
    for title, names in SECTIONS:
        parts.append(f"<h2>{e(title)}</h2>")
        for n in names:
            parts.append(interval_svg(chart(rep, n)))
        head, rows = table(rep, names)
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in vals) + "</tr>" for vals in rows]
        parts.append("</table>")
    if rep.errors:
        parts.append("<h2>Errors</h2><ul>")
        parts += [f"<li>{e(x['model'])} on {e(x['input'])}: {e(x['error'])}</li>" for x in rep.errors]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(rep: Report, out_dir: str | os.PathLike) -> list[Path]:
    """Write every output file of ``rep`` into ``out_dir``; returns their paths (sorted)."""
    from nlviz.data import png_bytes
    from nlviz.render.interval_chart import interval_image

    out = Path(out_dir)
    written = [
        write_text(out / "report.json", json_text(report_json(rep))),
        write_text(out / "report.csv", report_csv(rep)),
        write_text(out / "report.md", report_markdown(rep)),
        write_text(out / "report.html", report_html(rep)),
    ]
    for name in METRICS:
        written.append(write_bytes(out / "plots" / f"{name}.png", png_bytes(interval_image(chart(rep, name)))))
    return sorted(written)


# ---------------------------------------------------------------------- per-clip state: resume, shards, merge
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

    from nlviz.analysis.reports import ReportConfig, load_models

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

    from nlviz.analysis.reports import ReportConfig, load_models, model_info, report_items
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
