"""Quantitative attention analysis on Affinities and Recordings (pure functions; one concept per module).

- per query, and averaged over a block: ``spatial_distance`` / ``temporal_distance`` (input pixels / frames),
  ``normalized_entropy``, ``topk_mass``, ``temporal_profile``, ``same_frame_mass``; ``query_stats``,
  ``query_numbers`` / ``query_profile`` (one query's plain numbers, groups averaged: what every view shows),
  ``block_stats`` (chunked over all or sampled queries), ``STAT_LABELS``;
- ``received_weight``: the weight every key cell receives over many query rows;
- ``query_independence`` / ``pairwise_js``: mean Jensen–Shannon divergence between rows of different queries;
  ``js_spread`` (rows against their mean) and GCNet's cosine distance (``cosine_independence`` of rows,
  ``mean_cosine_distance`` of any vectors, e.g. the block's input and output features);
- ``on_object_mass`` / ``object_report``: attention mass on ground-truth objects (synthetic masks);
- ``report`` (``reports``, ``report_metrics``, ``intervals``): per model and block, every statistic above and
  GCNet's cosine query-independence over a dataset of clips, with 95 % intervals (``nlviz report``);
- ``attention_rollout``: attention rollout across operator blocks for a few query rows, exact or top-k bounded;
- captum attributions on the input grid (``integrated_gradients``, ``saliency``, ``layer_gradcam``,
  ``occlusion``) and the ``jacobian_row`` influence of a block's query;
- ``attribution_agreement``: Spearman ρ and top-k IoU between a query's attention and an attribution map.

Unnormalized kinds are read as |w| / Σ|w| (:mod:`nlviz.analysis.mass`). Submodules load on first use
(captum only inside the attribution functions).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "row_mass": "mass",
    "grid_mass": "mass",
    "spatial_distance": "distance",
    "temporal_distance": "distance",
    "normalized_entropy": "concentration",
    "topk_mass": "concentration",
    "temporal_profile": "temporal",
    "same_frame_mass": "temporal",
    "other_frame_mass": "temporal",
    "query_stats": "summary",
    "query_numbers": "summary",
    "query_profile": "summary",
    "STATS": "summary",
    "TEMPORAL_STATS": "summary",
    "STAT_LABELS": "summary",
    "stat_label": "summary",
    "received_weight": "received",
    "block_stats": "summary",
    "BlockStats": "summary",
    "iter_rows": "rows",
    "pick_queries": "rows",
    "js_divergence": "independence",
    "pairwise_js": "independence",
    "query_independence": "independence",
    "js_spread": "independence",
    "mean_cosine_distance": "independence",
    "cosine_independence": "independence",
    "object_coverage": "objects",
    "object_queries": "objects",
    "on_object_mass": "objects",
    "object_report": "objects",
    "task_object_mass": "objects",
    "ObjectMass": "objects",
    "attention_rollout": "rollout",
    "report": "reports",
    "merge_reports": "reports",
    "Report": "reports",
    "ReportConfig": "reports",
    "METRICS": "report_metrics",
    "bootstrap_ci": "intervals",
    "wilson_ci": "intervals",
    "spread": "grids",
    "average": "grids",
    "Attribution": "attribution",
    "integrated_gradients": "attribution",
    "saliency": "attribution",
    "layer_gradcam": "attribution",
    "occlusion": "attribution",
    "jacobian_row": "jacobian",
    "spearman": "agreement",
    "topk_iou": "agreement",
    "attribution_agreement": "agreement",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nlviz.analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nlviz.analysis.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
