"""``nlviz.analysis.report`` (this module: ``reports``): what each model's operator blocks attend to, measured over a dataset of clips.

    rep = report(["st_nl_embedded", "st_bat3d"], "synthetic:64", queries=64)
    rep.rows                      # per model × block: every metric's mean over clips with its 95 % interval
    rep.clips                     # per clip: per model its label, top-1, margin and per block every metric

For every clip, each model runs once under ``nlviz.capture(features=True)``; in every recorded block K query
cells are drawn (``queries``, default 64, seeded by ``(seed, clip index)`` so every run, shard and resume draws
the same ones — never the N×N matrix) and the metrics of :mod:`nlviz.analysis.report_metrics` are computed from
their exact rows and the block's input and output features there. Means over clips come with 95 % intervals
(:mod:`nlviz.analysis.intervals`: percentile bootstrap with the report's seed; Wilson for top-1).

Inputs are what ``nlviz export`` takes (``synthetic:N``, files, globs, folders, ``frames:DIR``) plus a
class-per-folder dataset (a folder whose sub-folders are classes: clips get their folder's label, matched to the
model's class names). ``synthetic:I`` is clip I of each model's own task at its card's held-out seed, with masks
(on-object figures) and a label (top-1). A clip that cannot be read or run is recorded with its error (the file
and the problem) and left out of the means.

Pure computation: nothing is written here (``nlviz.export.report`` writes the files; ``done``/``on_clip`` let
it resume and save per-clip results). :func:`merge_reports` joins reports of shards of one run into the full report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from nlviz.analysis.intervals import RESAMPLES, Interval, bootstrap_ci, wilson_ci
from nlviz.analysis.report_inputs import ReportItem, load_models, model_info, report_items
from nlviz.analysis.report_metrics import (
    BLOCK_METRICS,
    METRICS,
    MODEL_METRICS,
    block_values,
    clip_seed,
    model_values,
    sample_cells,
)

REPORT_VERSION = 1


@dataclass(frozen=True)
class ReportConfig:
    """What a report computes: ``queries`` sampled per clip and block, the ``k`` of the top-k mass, the ``seed``
    of the query samples and of the bootstrap, the cover a key cell needs to count as on the target
    (``min_cover``) and the bootstrap's ``resamples``."""

    queries: int = 64
    k: int = 20
    seed: int = 0
    min_cover: float = 0.5
    resamples: int = RESAMPLES

    def __post_init__(self) -> None:
        for name, low in (("queries", 2), ("k", 1), ("seed", 0), ("resamples", 100)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ValueError(f"{name}={v!r} must be an integer >= {low}")
        if not 0 < self.min_cover <= 1:
            raise ValueError(f"min_cover={self.min_cover!r} must be in (0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _label_of(item: ReportItem, lm: Any, sample: Any) -> int | None:
    if sample is not None:
        return int(sample.label)
    if item.label_name is None:
        return None
    classes = lm.spec.classes
    if classes:
        if item.label_name not in classes:
            raise ValueError(
                f"class folder {item.label_name!r} is not a class of model {lm.name!r}; its classes: {list(classes)}"
            )
        return list(classes).index(item.label_name)
    return item.label_index


def model_clip(lm: Any, item: ReportItem, config: ReportConfig) -> dict[str, Any]:
    """One model on one clip: ``{"status": "done", "label", "values": {top1, margin}, "blocks": {block: {metric:
    value}}}`` (None for undefined values), or ``{"status": "error", "error": "<input>: <problem>"}`` when the clip
    cannot be read or the model cannot run on it (anything else is a bug and is raised)."""
    from nlviz.run import forward, read_input, synthetic_sample

    try:
        sample = synthetic_sample(item.source, lm) if item.source.startswith("synthetic:") else None
        clip = sample.to_clip(source=item.source) if sample is not None else read_input(item.source, lm)
        label = _label_of(item, lm, sample)
        fw = forward(lm, clip, features=True)
        seed = clip_seed(config.seed, item.index)
        blocks = {}
        for block in lm.blocks:
            cells = sample_cells(fw.rec, block, config.queries, seed)
            vals = block_values(fw.rec, block, cells, k=config.k, sample=sample, min_cover=config.min_cover)
            blocks[block] = {name: _clean(v) for name, v in vals.items()} | {"queries": len(cells)}
        values = {name: _clean(v) for name, v in model_values(fw.logits, label).items()}
        return {"status": "done", "label": label, "values": values, "blocks": blocks}
    except (ValueError, OSError, RuntimeError) as e:  # a bad clip is recorded with its problem; the run goes on
        msg = str(e)
        where = "" if item.source in msg else f"{item.source}: "
        return {"status": "error", "error": f"{where}{type(e).__name__}: {msg}"}


def clip_record(lms: list[Any], item: ReportItem, config: ReportConfig) -> dict[str, Any]:
    """Every model on one clip: ``{"id", "index", "input", "models": {label: model_clip(...)}}``."""
    return {
        "id": item.id,
        "index": item.index,
        "input": item.source,
        "models": {lm.label: model_clip(lm, item, config) for lm in lms},
    }


def _values(clips: list[dict[str, Any]], label: str, block: str | None, name: str) -> list[float]:
    out = []
    for c in clips:
        m = c["models"].get(label)
        if not m or m["status"] != "done":
            continue
        v = m["values"].get(name) if block is None else m["blocks"].get(block, {}).get(name)
        out.append(math.nan if v is None else float(v))
    return out


def interval(values: list[float], name: str, config: ReportConfig) -> Interval:
    """The mean of one metric over clips with its 95 % interval (Wilson for top-1, else bootstrap)."""
    if METRICS[name].proportion:
        ok = [v for v in values if math.isfinite(v)]
        return wilson_ci(int(sum(ok)), len(ok))
    return bootstrap_ci(values, seed=config.seed, resamples=config.resamples)


def summarize(models: list[dict[str, Any]], clips: list[dict[str, Any]], config: ReportConfig) -> list[dict[str, Any]]:
    """Per model × block (a baseline: one row with ``block`` None): ``{"model", "block", "kind", "clips", "metrics":
    {name: Interval}}``, the model's top-1 and margin in each of its rows."""
    rows = []
    for info in models:
        label = info["label"]
        done = sum(1 for c in clips if c["models"].get(label, {}).get("status") == "done")
        model_ivals = {name: interval(_values(clips, label, None, name), name, config) for name in MODEL_METRICS}
        for b in info["blocks"] or [None]:
            block = b["block"] if b else None
            ivals = dict(model_ivals)
            if block is not None:
                ivals |= {name: interval(_values(clips, label, block, name), name, config) for name in BLOCK_METRICS}
            rows.append(
                {
                    "model": label,
                    "block": block,
                    "kind": b["kind"] if b else None,
                    "clips": done,
                    "metrics": ivals,
                }
            )
    return rows


@dataclass
class Report:
    """A report's inputs, models and per-clip records (sorted by clip index); :attr:`rows` summarizes them.

    ``items`` is the whole dataset; ``clips`` holds the records computed so far (a shard holds every N-th).
    """

    config: ReportConfig
    models: list[dict[str, Any]]
    items: list[ReportItem]
    clips: list[dict[str, Any]] = field(default_factory=list)
    shard: tuple[int, int] | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        return summarize(self.models, self.clips, self.config)

    @property
    def complete(self) -> bool:
        """Every clip of the dataset has a record."""
        return {c["id"] for c in self.clips} == {it.id for it in self.items}

    @property
    def errors(self) -> list[dict[str, str]]:
        """``{"input", "model", "error"}`` of every failed (clip, model), in clip order."""
        return [
            {"input": c["input"], "model": label, "error": m["error"]}
            for c in self.clips
            for label, m in c["models"].items()
            if m["status"] == "error"
        ]

    def header(self) -> dict[str, Any]:
        """What identifies the run (the same for every shard of it): version, config, models, inputs."""
        return {
            "nlviz_report": REPORT_VERSION,
            "config": self.config.to_dict(),
            "models": self.models,
            "inputs": [asdict(it) for it in self.items],
        }


def _check_shard(shard: Any) -> tuple[int, int] | None:
    from nlviz.run.sources import parse_shard

    return parse_shard(shard)


def report(
    models: Iterable[Any],
    input: str | Iterable[str],
    queries: int = 64,
    *,
    k: int = 20,
    seed: int = 0,
    min_cover: float = 0.5,
    resamples: int = RESAMPLES,
    shard: Any = None,
    device: Any = None,
    progress: bool = False,
    done: dict[str, dict[str, Any]] | None = None,
    on_clip: Callable[[dict[str, Any]], None] | None = None,
) -> Report:
    """The report of ``models`` over the clips of ``input`` (see the module docstring).

    Args:
        models: zoo names, checkpoints, factories, UserModels or LoadedModels.
        input: ``synthetic:N``, files, globs, folders, ``frames:DIR``, a class-per-folder dataset (or a list of
            them, or the :class:`ReportItem` list of :func:`report_items`).
        queries: query cells sampled per clip and block (K ≥ 2).
        k: the k of the top-k mass. seed: query sampling and bootstrap seed. min_cover: of the target's cells.
        shard: ``"I/N"`` or (I, N): only clips I, I+N, I+2N, ...
        device: where models run (``auto|cpu|cuda|mps``; None = as loaded).
        progress: a tqdm bar over the clips.
        done: clip id → a record computed before (resume): kept, not recomputed.
        on_clip: called with every newly computed record (to save it).
    """
    from tqdm import tqdm

    config = ReportConfig(queries=queries, k=k, seed=seed, min_cover=min_cover, resamples=resamples)
    sh = _check_shard(shard)
    given = [input] if isinstance(input, str) else list(input)
    items = given if given and all(isinstance(x, ReportItem) for x in given) else report_items(given)
    lms = load_models(models, device)
    infos = [model_info(lm) for lm in lms]
    mine = items if sh is None else items[sh[0] :: sh[1]]
    done = done or {}
    records = []
    bar = tqdm(total=len(mine), desc="nlviz report", unit="clip", disable=not progress)
    errors = 0
    try:
        for it in mine:
            rec = done.get(it.id)
            if rec is None:
                rec = clip_record(lms, it, config)
                if on_clip is not None:
                    on_clip(rec)
            errors += sum(m["status"] == "error" for m in rec["models"].values())
            records.append(rec)
            bar.set_postfix(errors=errors)
            bar.update(1)
    finally:
        bar.close()
    return Report(config, infos, items, records, sh)


def merge_reports(reports: list[Report]) -> Report:
    """The report of the union of ``reports`` — shards of one run (same config, models and inputs) — with every
    clip once, in clip order. Raises a ValueError naming what differs or which clips are computed twice."""
    if not reports:
        raise ValueError("merge: no reports given")
    first = reports[0]
    head = first.header()
    by_id: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(reports):
        other = r.header()
        for key in ("nlviz_report", "config", "models", "inputs"):
            if other[key] != head[key]:
                raise ValueError(f"merge: report {i + 1} has another {key!r} than report 1: not shards of one run")
        for c in r.clips:
            if c["id"] in by_id and by_id[c["id"]] != c:
                raise ValueError(f"merge: clip {c['input']!r} has different results in two of the reports")
            by_id[c["id"]] = c
    clips = sorted(by_id.values(), key=lambda c: c["index"])
    return Report(first.config, first.models, first.items, clips, None)


def report_from_dict(d: dict[str, Any]) -> Report:
    """A report back from its header and clip records (what ``nlviz.export.report`` saves)."""
    if d.get("nlviz_report") != REPORT_VERSION:
        raise ValueError(f"not an nlviz report (version {REPORT_VERSION}): nlviz_report={d.get('nlviz_report')!r}")
    config = ReportConfig(**d["config"])
    items = [ReportItem(**it) for it in d["inputs"]]
    shard = tuple(d["shard"]) if d.get("shard") else None
    return Report(config, d["models"], items, sorted(d.get("clips", []), key=lambda c: c["index"]), shard)  # type: ignore[arg-type]
