"""The numbers behind a view, for files: top-k weights as JSON, full rows as NPZ arrays.

JSON (one object per model × block × input): what the weights are (kind, label, normalized), the grids, and
per query its cell, its center in model-input pixels, its source frames and box (when the clip geometry is
known), the color-scale range, the shown key frames, the top-k key cells with weights and centers, its
statistics (:func:`nlviz.analysis.query_numbers`) and temporal profile (:func:`nlviz.analysis.query_profile`:
mass per key frame) — the numbers the app shows for the same query. Floats are written with 7 significant
digits, so identical inputs give identical bytes; undefined statistics (an all-zero row) are ``null``.

NPZ: ``weights`` (G, Q, Tk, Hk, Wk) float32 (batch item 0, every group), ``queries`` (Q, 3), ``topk_cells``
(Q, k, 3) and ``topk_weights`` (Q, k) of the reduced rows (−1 / NaN padding when a query has fewer), and the
BA-Transform matrices ``P``, ``Q`` (, ``T``) when the block has them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlviz.ops.base import Affinity
from nlviz.render.scene import Scene

#: 2: per-query ``stats``; ``temporal_profile`` is the mass per key frame (groups averaged)
FORMAT_VERSION = 2


def num(v: float) -> float:
    """A float rounded to 7 significant digits (stable JSON text)."""
    return float(f"{float(v):.7g}")


def nums(a: Any) -> list:
    return [num(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def maybe_num(v: float) -> float | None:
    """:func:`num`, or None for NaN/inf (JSON has no NaN)."""
    return num(v) if np.isfinite(v) else None


def query_record(scene: Scene, index: int, aff: Affinity, *, k: int = 20, group: int | None = None) -> dict[str, Any]:
    """The JSON record of query ``index`` of ``aff`` (shown as ``scene``): cell, center, source box, scale, shown
    frames, top-k, statistics and temporal profile."""
    from nlviz.analysis import query_numbers, query_profile

    geo = scene.geometry
    centers = geo.key.cell_center(scene.top_cells)  # (k, 3)
    top = [
        {
            "cell": [int(v) for v in cell],
            "weight": num(w),
            "center": nums(c[1:]),
            "frame": int(geo.key.cell_frames(int(cell[0]))[0]),
        }
        for cell, w, c in zip(scene.top_cells, scene.top_weights, centers)
    ]
    rec: dict[str, Any] = {
        "index": index,
        "cell": list(scene.query_cell),
        "center": nums(scene.query_center),
        "scale": [num(scene.scale.vmin), num(scene.scale.vmax)],
        "shown_key_frames": list(scene.key_frames),
        "shown_input_frames": list(scene.input_frames),
        "topk": top,
        "stats": {name: maybe_num(v) for name, v in query_numbers(aff, index, k=k, group=group).items()},
        "temporal_profile": [maybe_num(v) for v in query_profile(aff, index, group=group).tolist()],
        "row_sum": num(scene.weights.sum()),
    }
    if geo.source is not None:
        src = geo.to_source_box([scene.query_cell])[0]
        rec["source"] = {"frames": [int(f) for f in src["frames"]], "box": nums(src["box"])}
    return rec


def affinity_record(
    aff: Affinity, scenes: list[Scene], *, k: int = 20, group: int | None = None, **info: Any
) -> dict[str, Any]:
    """The JSON object of one block's queries (``scenes[i]`` shows query i); ``k`` is the top-k mass's k, ``group``
    the group statistics are read for (None: the mean over groups); ``info`` (model, block, input, ...) is
    stored as given."""
    first = scenes[0] if scenes else None
    return {
        "nlviz_export": FORMAT_VERSION,
        **info,
        "kind": aff.kind,
        "normalized": bool(aff.normalized),
        "weights_label": first.scale.label if first else "",
        "groups": int(aff.groups),
        "query_grid": list(aff.query_grid),
        "key_grid": list(aff.key_grid),
        "input_size": list(first.geometry.key.input_size) if first else None,
        "stats_k": int(min(k, aff.rows().shape[-1])),
        "queries": [query_record(s, i, aff, k=k, group=group) for i, s in enumerate(scenes)],
    }


def affinity_arrays(aff: Affinity, scenes: list[Scene]) -> dict[str, np.ndarray]:
    """Full rows and top-k as arrays (see the module docstring)."""
    k = max((len(s.top_weights) for s in scenes), default=0)
    cells = np.full((len(scenes), k, 3), -1, dtype=np.int64)
    weights = np.full((len(scenes), k), np.nan, dtype=np.float32)
    for i, s in enumerate(scenes):
        cells[i, : len(s.top_weights)] = s.top_cells
        weights[i, : len(s.top_weights)] = s.top_weights
    out = {
        "weights": aff.weights[0].float().numpy(),  # (G, Q, Tk, Hk, Wk)
        "queries": aff.queries.numpy().astype(np.int64),
        "topk_cells": cells,
        "topk_weights": weights,
    }
    for key in ("P", "Q", "T"):
        if key in aff.extras:
            out[key] = aff.extras[key][0].float().numpy()
    return out
