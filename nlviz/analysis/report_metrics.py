"""The numbers ``nlviz report`` computes on one clip: per recorded block, statistics of K sampled query rows; per
model, whether it was right and by how much. Every statistic is the one defined elsewhere in this package.

Per block (each the mean over the clip's sampled queries, every group read as a distribution and the groups
averaged, as :func:`nlviz.analysis.block_stats` does; unnormalized and signed kinds — dot product,
concatenation, CGNL and Spatial Bias linear contributions — are read as |w| / Σ|w|, :mod:`.mass`):

- ``cosine_attention`` / ``cosine_input`` / ``cosine_output`` / ``cosine_context``: GCNet's query-independence
  (Cao et al. 2019, Table 1): mean cosine distance between the attention rows of different sampled queries,
  beside the same distance between the block's input features, its output features, and output − input (for a
  residual block, the term it adds: GCNet's "output before fusion") at those positions
  (:func:`.independence.mean_cosine_distance`);
- ``js_spread``: the JS divergence of each row against the queries' mean row (:mod:`.independence`; the Analysis
  page's pairwise "query independence (JS)" measures the same thing between pairs of rows);
- ``entropy``, ``topk_mass``, ``spatial_distance`` (input pixels), ``temporal_distance`` (input frames):
  :mod:`.concentration`, :mod:`.distance`; ``other_frame_mass`` (the cross-frame share) = 1 − same-frame mass,
  :mod:`.temporal`;
- with ground-truth masks (synthetic clips): for queries on the ``target`` object, ``partner_mass`` — the share of
  their attention to other frames (images: to the whole image) that lands on its partner, the cue — its
  ``partner_chance`` (a uniform row) and ``partner_lift`` = mass / chance (:func:`.objects.object_report`).

Temporal figures are NaN for single-frame inputs; a figure a clip cannot define (no query on the target, a
per-frame block's cross-frame mass) is NaN and left out of the means over clips.

Per model: ``top1`` (1 if the arg-max logit is the label) and ``margin`` = p(label) − max p(other class) of the
softmax, in [−1, 1] (> 0 exactly when right); NaN without a label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nlviz.analysis.independence import cosine_independence, js_spread, mean_cosine_distance
from nlviz.analysis.objects import object_report
from nlviz.analysis.rows import pick_queries
from nlviz.analysis.summary import STAT_LABELS, block_stats


@dataclass(frozen=True)
class Metric:
    """One report figure: ``label`` (short, for tables and charts), ``help`` (what it is), ``level`` (block or
    model), ``proportion`` (a 0/1 per clip, given a Wilson interval instead of the bootstrap) and ``bounds`` (the
    range it lives in, for charts; None = open)."""

    label: str
    help: str
    level: str = "block"
    proportion: bool = False
    bounds: tuple[float, float] | None = (0.0, 1.0)


METRICS: dict[str, Metric] = {
    "top1": Metric(
        "top-1", "share of clips whose arg-max logit is the label (Wilson 95 % interval)", "model", proportion=True
    ),
    "margin": Metric(
        "margin",
        "p(label) − max p(other class) of the softmax, in [−1, 1]; > 0 when right",
        "model",
        bounds=(-1.0, 1.0),
    ),
    "cosine_attention": Metric(
        "cos dist (attention)",
        "GCNet's query-independence: mean cosine distance 1 − cos between the attention rows (|w| shares) of "
        "different sampled queries; 0 = every query attends alike",
        bounds=None,
    ),
    "cosine_input": Metric(
        "cos dist (input)", "the same distance between the block's input feature vectors at those queries", bounds=None
    ),
    "cosine_output": Metric(
        "cos dist (output)",
        "the same distance between the block's output feature vectors at those queries",
        bounds=None,
    ),
    "cosine_context": Metric(
        "cos dist (out − in)",
        "the same distance between output − input (a residual block's added term: GCNet's output before fusion)",
        bounds=None,
    ),
    "js_spread": Metric(
        "JS spread",
        "mean Jensen–Shannon divergence (÷ log 2) of each query's row against the mean row of the sampled queries",
    ),
    "entropy": Metric("entropy", STAT_LABELS["entropy"]),
    "topk_mass": Metric("top-k mass", STAT_LABELS["topk_mass"]),
    "spatial_distance": Metric("distance (px)", STAT_LABELS["spatial_distance"], bounds=None),
    "temporal_distance": Metric("distance (frames)", STAT_LABELS["temporal_distance"], bounds=None),
    "other_frame_mass": Metric(
        "cross-frame share", "share of a query's mass on frames other than its own (1 − same-frame mass)"
    ),
    "partner_mass": Metric(
        "on-object mass (cue)",
        "queries on the target: share of their other-frame attention (images: all of it) on its partner, the cue",
    ),
    "partner_chance": Metric("chance (cue)", "the same share for a uniform row (the cue's share of those cells)"),
    "partner_lift": Metric(
        "on-object × chance", "on-object mass ÷ its chance, per clip (1 = no preference)", bounds=None
    ),
}
MODEL_METRICS = tuple(n for n, m in METRICS.items() if m.level == "model")
BLOCK_METRICS = tuple(n for n, m in METRICS.items() if m.level == "block")
TEMPORAL = ("temporal_distance", "other_frame_mass")
#: the statistics :func:`nlviz.analysis.block_stats` gives (read from it, never recomputed)
_BLOCK_STATS = ("entropy", "topk_mass", "spatial_distance", "temporal_distance")


def metric_label(name: str, k: int | None = None) -> str:
    """The short label of a report metric (``top-k`` with its k filled in)."""
    label = METRICS[name].label
    return label.replace("top-k", f"top-{k}") if k is not None else label


def clip_seed(seed: int, index: int) -> int:
    """The query-sampling seed of clip ``index``: a function of (seed, index) only, so that a shard, a resumed run
    and the full run draw the same queries on the same clip."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def sample_cells(rec: Any, block: str, queries: int, seed: int) -> Tensor:
    """(K, 3) query cells of ``block``: ``queries`` of them drawn without replacement (all when the grid is
    smaller), row-major (:func:`nlviz.analysis.pick_queries`)."""
    return pick_queries(rec, block, sample=queries, seed=seed)


def _mean(v: Tensor) -> float:
    """The mean of a (B, G) per-group figure over groups (and the batch), NaN skipped."""
    v = v.to(torch.float64)
    return float(v.nanmean()) if (~v.isnan()).any() else math.nan


def block_values(
    rec: Any,
    block: str,
    cells: Tensor,
    *,
    k: int = 20,
    sample: Any = None,
    min_cover: float = 0.5,
) -> dict[str, float]:
    """Every block metric of the module docstring on one clip: name → value (NaN where undefined).

    Args:
        rec: a Recording made with ``capture(..., features=True)`` (else the feature distances are NaN).
        cells: (K, 3) the sampled query cells (:func:`sample_cells`).
        k: the k of the top-k mass.
        sample: the clip's :class:`nlviz.data.SyntheticClip` (masks + objects) for the on-object figures, or None.
    """
    out = dict.fromkeys(BLOCK_METRICS, math.nan)
    temporal = rec.input_size is not None and rec.input_size[0] > 1
    st = block_stats(rec, block, queries=cells, k=k).to_dict()
    for name in _BLOCK_STATS:
        out[name] = st[name]
    out["other_frame_mass"] = 1 - st["same_frame_mass"]
    if not temporal:
        for name in TEMPORAL:
            out[name] = math.nan
    if len(cells) >= 2:
        aff = rec.affinity(block, cells)
        out["cosine_attention"] = _mean(cosine_independence(aff))
        out["js_spread"] = _mean(js_spread(aff))
        if rec.record(block).maps is not None:
            feats = rec.features(block, cells)
            x, y = feats.get("input"), feats.get("output")
            if x is not None:
                out["cosine_input"] = _mean(mean_cosine_distance(x))
            if y is not None:
                out["cosine_output"] = _mean(mean_cosine_distance(y))
            if x is not None and y is not None and x.shape == y.shape:
                out["cosine_context"] = _mean(mean_cosine_distance(y.double() - x.double()))
    if sample is not None and getattr(sample, "masks", None) is not None:
        targets = [o for o in sample.objects.values() if o.role == "target" and o.partner in sample.objects]
        if targets:
            rep = object_report(rec, block, sample, targets[0].id, other_frames=temporal, min_cover=min_cover)
            mass, chance = rep.get("partner", math.nan), rep.get("partner_chance", math.nan)
            out["partner_mass"], out["partner_chance"] = mass, chance
            out["partner_lift"] = mass / chance if chance > 0 else math.nan
    return out


def model_values(logits: Tensor, label: int | None) -> dict[str, float]:
    """``top1`` and ``margin`` of one clip's logits (1, classes) against ``label`` (NaN for both without one)."""
    if label is None:
        return dict.fromkeys(MODEL_METRICS, math.nan)
    p = torch.softmax(logits.detach().double().reshape(-1), 0)  # (classes,)
    if not 0 <= label < len(p):
        raise ValueError(f"label {label} is not a class of a model with {len(p)} logits")
    others = torch.cat([p[:label], p[label + 1 :]])
    best_other = float(others.max()) if len(others) else 0.0
    return {"top1": float(int(p.argmax()) == label), "margin": float(p[label]) - best_other}
