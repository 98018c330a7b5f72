"""A ``Scene``: everything the views of one query show, resolved once from (clip frames, Affinity, query).

Both back ends draw from a Scene, so an OpenCV image and a plotly figure of it show the same content: the
panels (which key-grid frames, which model-input frame each shows), the query's row after the group reduction,
its top-k key cells, and one color scale shared by all frames.

Conventions: ``weights`` is the query's row (Tk, Hk, Wk) — one Affinity row of batch item ``batch`` with the
groups reduced by ``groups`` ("mean", "max" or one group index). Top-k cells are taken among the *shown* frames
(the paper's Fig. 3 draws the 20 strongest links among the 4 frames it shows); for signed weights (linear
contributions) they are the k largest |weight|, and cells below ``min_fraction`` of the strongest |weight| are
left out (1e-20 weights are not links worth drawing). A key cell that covers the query's own position is
*self-attention*: views draw it as a ring around the query, not as a zero-length arrow.

Frames shown: all, a list, or a count N — then the query's own key frame and the N − 1 other key frames that hold
the most of the row's mass (never a frame chosen by spacing alone); ``frames_note`` says which were picked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity
from nlviz.render.scale import ColorScale, make_scale, weight_label

#: kinds whose weights can be negative: ranked by |weight|, drawn on a symmetric scale
SIGNED_KINDS = ("linear_contribution", "jacobian")


def geometry_of(aff: Affinity, frames: np.ndarray) -> AffinityGeometry:
    """The Affinity's geometry, or (when it has none) one that tiles the clip's frames evenly."""
    t, h, w = frames.shape[:3]
    geo = aff.geometry
    if geo is None:
        size = (t, h, w)
        return AffinityGeometry(GridGeometry(size, tuple(aff.query_grid)), GridGeometry(size, tuple(aff.key_grid)))
    if tuple(geo.key.input_size) != (t, h, w):
        raise ValueError(
            f"the clip frames {(t, h, w)} (T, H, W) are not the model input {tuple(geo.key.input_size)} this "
            "Affinity was captured on; pass the frames the model saw"
        )
    return geo


def group_text(aff: Affinity, groups: str | int) -> str:
    g = aff.groups
    if g == 1:
        return ""
    return f"group {groups} of {g}" if isinstance(groups, int) else f"{groups} of {g} groups"


def query_row(aff: Affinity, query: int, groups: str | int = "mean", batch: int = 0) -> np.ndarray:
    """The row (Tk, Hk, Wk) float64 of query index ``query`` with groups reduced ("mean", "max" or an index)."""
    b, g, q = aff.weights.shape[:3]
    if not 0 <= batch < b:
        raise ValueError(f"batch={batch} out of range: the Affinity holds {b} clip(s)")
    if not 0 <= query < q:
        raise ValueError(f"query index {query} out of range: the Affinity holds {q} query row(s)")
    w = aff.weights[batch, :, query].double()  # (G, Tk, Hk, Wk)
    if groups == "mean":
        return w.mean(0).numpy()
    if groups == "max":
        return w.amax(0).numpy()
    if isinstance(groups, int) and not isinstance(groups, bool) and 0 <= groups < g:
        return w[groups].numpy()
    raise ValueError(f"groups={groups!r}: use 'mean', 'max' or a group index in [0, {g - 1}]")


def choose_frames(key_t: int, frames: Any, mass: np.ndarray | None = None, query_t: int = 0) -> list[int]:
    """Key-grid frames to show: ``"all"``, a list, or a count N: key frame ``query_t`` and the N − 1 others with
    the most ``mass`` (Tk,) (evenly spaced when no mass is given), in time order."""
    if frames == "all" or frames is None:
        return list(range(key_t))
    if isinstance(frames, int) and not isinstance(frames, bool):
        if frames < 1:
            raise ValueError(f"frames={frames} must be at least 1")
        if mass is None:
            return sorted({int(round(v)) for v in np.linspace(0, key_t - 1, min(frames, key_t))})
        order = [int(t) for t in np.argsort(-np.asarray(mass, float), kind="stable") if int(t) != query_t]
        return sorted({int(query_t), *order[: max(0, min(frames, key_t) - 1)]})
    chosen = sorted({int(t) for t in frames})
    bad = [t for t in chosen if not 0 <= t < key_t]
    if bad:
        raise ValueError(f"frames {bad} outside the key grid's {key_t} frame(s) (valid: 0..{key_t - 1})")
    return chosen


@dataclass
class Scene:
    """One query's resolved view content (see the module docstring)."""

    frames: np.ndarray  # (T_in, H, W, 3) uint8 model-input frames
    geometry: AffinityGeometry
    weights: np.ndarray  # (Tk, Hk, Wk) float64
    query_cell: tuple[int, int, int]
    key_frames: tuple[int, ...]  # key-grid t of each panel
    input_frames: tuple[int, ...]  # model-input frame shown in each panel
    query_panel: int
    top_cells: np.ndarray  # (k, 3) key cells (t, y, x), strongest first
    top_weights: np.ndarray  # (k,)
    scale: ColorScale
    kind: str
    normalized: bool
    title: str = ""
    self_key: np.ndarray | None = None  # (k,) bool: the top cell covers the query's own position
    frames_note: str = ""  # which frames a subset shows and why
    min_fraction: float = 0.0  # top cells below this fraction of the strongest |weight| were left out

    @property
    def query_center(self) -> np.ndarray:
        """(t, y, x) of the query cell's center in model-input pixel coordinates."""
        return self.geometry.query.cell_center([self.query_cell])[0]

    @property
    def query_box(self) -> tuple[float, float, float, float]:
        """(y0, x0, y1, x1) pixel edges of the query cell in the model input."""
        b = self.geometry.query.cell_box([self.query_cell])[0]
        return tuple(float(v) for v in (b[2], b[3], b[4], b[5]))  # type: ignore[return-value]

    def panel_of(self, key_t: int) -> int:
        return self.key_frames.index(int(key_t))

    def frame_map(self, panel: int) -> np.ndarray:
        """The row's (Hk, Wk) map in the key frame of ``panel``."""
        return self.weights[self.key_frames[panel]]


def make_scene(
    frames: np.ndarray,
    aff: Affinity,
    query: int,
    *,
    k: int = 20,
    show: Any = "all",
    groups: str | int = "mean",
    scale: ColorScale | None = None,
    cmap: str = "auto",
    fixed: tuple[float, float] | None = None,
    batch: int = 0,
    title: str = "",
    min_fraction: float = 0.0,
) -> Scene:
    """Resolve the view of query index ``query`` of ``aff`` on the model-input ``frames`` (T, H, W, 3) uint8.

    Args:
        k: arrows to the k strongest key cells (fewer when the shown frames hold fewer cells).
        show: key-grid frames shown (see :func:`choose_frames`); the query's frame is always added.
        min_fraction: leave out top cells whose |weight| is below this fraction of the strongest one's.
        groups: group reduction ("mean", "max" or an index).
        scale: a color scale to use (e.g. one shared by several queries); by default the row's own, over
            all its key frames (``fixed`` = (vmin, vmax) forces the range, ``cmap`` the colormap).
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    geo = geometry_of(aff, frames)
    row = query_row(aff, query, groups, batch)  # (Tk, Hk, Wk)
    if not np.isfinite(row).all():
        raise ValueError(
            f"block {aff.block or '?'}: query {query} has NaN/inf weights (the model's activations on this input "
            "are not finite), nothing to show"
        )
    qcell = tuple(int(v) for v in aff.queries[query].tolist())
    q_frame = geo.query.cell_frames(qcell[0])[0]
    q_key_t = int(geo.key.cell_at(q_frame, 0, 0)[0][0])
    mass = np.abs(row).sum((-2, -1))  # (Tk,)
    shown = sorted(set(choose_frames(aff.key_grid[0], show, mass, q_key_t)) | {q_key_t})
    inputs = tuple(int(geo.key.cell_frames(t)[0]) for t in shown)
    signed = bool((row < 0).any()) or aff.kind in SIGNED_KINDS
    cells, weights = _topk(row, shown, k, signed)
    if min_fraction > 0 and len(weights):
        keep = np.abs(weights) >= min_fraction * np.abs(weights).max()
        cells, weights = cells[keep], weights[keep]
    note = ""
    if len(shown) < aff.key_grid[0]:
        share = float(mass[shown].sum() / mass.sum()) if mass.sum() > 0 else float("nan")
        note = (
            f"frames shown: {', '.join(str(f) for f in inputs)} of {geo.key.input_size[0]} — the query's frame and "
            f"the frames with the most attention ({share:.0%} of the row's mass)"
        )
    if scale is None:
        label = weight_label(aff.kind, aff.normalized, group_text(aff, groups))
        scale = make_scale(row, label, cmap=cmap, fixed=fixed, signed=signed if fixed is None else None)
    return Scene(
        frames=frames,
        geometry=geo,
        weights=row,
        query_cell=qcell,
        key_frames=tuple(shown),
        input_frames=inputs,
        query_panel=shown.index(q_key_t),
        top_cells=cells,
        top_weights=weights,
        scale=scale,
        kind=aff.kind,
        normalized=aff.normalized,
        title=title,
        self_key=_self_keys(cells, geo, qcell),
        frames_note=note,
        min_fraction=float(min_fraction),
    )


def _self_keys(cells: np.ndarray, geo: AffinityGeometry, qcell: tuple[int, int, int]) -> np.ndarray:
    """(k,) bool: key cells whose center lies in the query cell's box (the query attending to itself)."""
    if not len(cells):
        return np.zeros(0, dtype=bool)
    t0, t1, y0, x0, y1, x1 = geo.query.cell_box([qcell])[0]
    c = geo.key.cell_center(cells)  # (k, 3) input (t, y, x); pixel centers at integers
    return (
        (c[:, 0] + 0.5 >= t0)
        & (c[:, 0] + 0.5 < t1)
        & (c[:, 1] + 0.5 >= y0)
        & (c[:, 1] + 0.5 < y1)
        & (c[:, 2] + 0.5 >= x0)
        & (c[:, 2] + 0.5 < x1)
    )


def _topk(row: np.ndarray, shown: list[int], k: int, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of the row restricted to the shown frames, through ``Affinity.topk`` (|w| when signed)."""
    sub = torch.from_numpy(row[shown])  # (F, Hk, Wk)
    ranked = sub.abs() if signed else sub
    one = Affinity(
        weights=ranked[None, None, None],
        queries=torch.zeros(1, 3, dtype=torch.long),
        query_grid=(1, 1, 1),
        key_grid=tuple(sub.shape),
        normalized=False,
        kind="",
    )
    top = one.topk(min(k, sub.numel()))
    cells = top.cells[0, 0, 0].numpy().copy()  # (k, 3) with t indexing the shown frames
    values = sub[cells[:, 0], cells[:, 1], cells[:, 2]].numpy()
    cells[:, 0] = np.asarray(shown)[cells[:, 0]]
    return cells, values


def with_scale(scene: Scene, scale: ColorScale) -> Scene:
    return replace(scene, scale=scale)


def shared_scale(
    aff: Affinity,
    groups: str | int = "mean",
    *,
    cmap: str = "auto",
    fixed: tuple[float, float] | None = None,
    batch: int = 0,
) -> ColorScale:
    """One color scale over every query row of ``aff`` (ViewSpec ``normalization="shared"``)."""
    rows = np.stack([query_row(aff, i, groups, batch) for i in range(aff.weights.shape[2])])  # (Q, Tk, Hk, Wk)
    signed = bool((rows < 0).any()) or aff.kind in SIGNED_KINDS
    label = weight_label(aff.kind, aff.normalized, group_text(aff, groups))
    return make_scale(rows, label, cmap=cmap, fixed=fixed, signed=signed if fixed is None else None)
