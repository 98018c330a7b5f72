"""BA-Transform (BAT) matrices per group, and the effective separable map of a query.

Within a group g, output cell (i, j) of frame t reads input cell (a, b) with weight P̃[i, a] · Q̃[b, j] (times
T̃[t, t'] with the temporal transform): rows of P̃ and columns of Q̃ sum to 1. The view shows, per group, P̃ with
the query's row i outlined, Q̃ with its column j outlined, T̃ (when present) with row t, and the effective map
— the Affinity row in the query's frame, which is the outer product P̃[i, :] ⊗ Q̃[:, j]. ``bat_image``
(OpenCV) and ``bat_figure`` (plotly) draw the same :class:`BatView`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nlviz.ops.base import Affinity
from nlviz.render import cv_draw, plotly_parts
from nlviz.render.heatmap import coloraxis
from nlviz.render.layout import BACKGROUND, stack
from nlviz.render.scale import ColorScale, make_scale, weight_label

MATRIX_LABEL = "P̃ / Q̃ / T̃ entry (rows of P̃, T̃ and columns of Q̃ sum to 1)"


@dataclass
class BatView:
    """Batch item 0's matrices at the query's frame: ``P`` (G, H, H), ``Q`` (G, W, W), ``T`` (G, T, T) or None,
    ``effective`` (G, H, W) the query's row in its frame per group; ``query_cell`` (t, i, j)."""

    P: np.ndarray
    Q: np.ndarray
    T: np.ndarray | None
    effective: np.ndarray
    query_cell: tuple[int, int, int]
    matrix_scale: ColorScale
    effective_scale: ColorScale
    title: str = ""

    @property
    def groups(self) -> int:
        return self.P.shape[0]

    def columns(self) -> list[tuple[str, np.ndarray, str]]:
        """(name, (G, n, m) stack, scale) of each column of the view."""
        cols = [("P̃ (out row i × in row a)", self.P, "m"), ("Q̃ (in col b × out col j)", self.Q, "m")]
        if self.T is not None:
            cols.append(("T̃ (out t × in t')", self.T, "m"))
        return cols + [("effective map P̃[i,:]·Q̃[:,j]", self.effective, "e")]

    def marks(self, column: int) -> tuple[str, int, int] | None:
        """What to outline in a column: ("row", i) / ("col", j) / ("cell", i, j)."""
        t, i, j = self.query_cell
        name = self.columns()[column][0]
        if name.startswith("P"):
            return ("row", i, -1)
        if name.startswith("Q"):
            return ("col", j, -1)
        if name.startswith("T"):
            return ("row", t, -1)
        return ("cell", i, j)


def bat_view(aff: Affinity, query: int = 0, *, batch: int = 0, cmap: str = "auto", title: str = "") -> BatView:
    """The BatView of query index ``query`` of a BAT block's Affinity (needs ``extras`` P and Q)."""
    if "P" not in aff.extras or "Q" not in aff.extras:
        raise ValueError(f"block {aff.block or '?'} (kind {aff.kind!r}) has no BA-Transform matrices P and Q")
    t, i, j = (int(v) for v in aff.queries[query].tolist())
    mats = {k: aff.extras[k][batch].double() for k in ("P", "Q", "T") if k in aff.extras}
    if mats["P"].dim() == 4:  # video (3D or per-frame block): (G, T, H, H)
        p, q = mats["P"][:, t].numpy(), mats["Q"][:, t].numpy()  # (G, H, H), (G, W, W)
    else:
        p, q = mats["P"].numpy(), mats["Q"].numpy()
    tm = mats["T"].numpy() if "T" in mats else None
    eff = aff.weights[batch, :, query, t].double().numpy()  # (G, Hk, Wk)
    stack_ = [p, q] + ([tm] if tm is not None else [])
    m_scale = make_scale(np.concatenate([a.ravel() for a in stack_]), MATRIX_LABEL, cmap=cmap, signed=False)
    e_scale = make_scale(eff, weight_label(aff.kind, aff.normalized, "per group"), cmap=cmap, signed=False)
    return BatView(
        p, q, tm, eff, (t, i, j), m_scale, e_scale, title or f"BA-Transform, query cell (t,y,x)=({t},{i},{j})"
    )


def _tile(matrix: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Nearest-neighbour resize of (n, m) so the long side is ``size`` px; returns (index image, px per entry)."""
    n, m = matrix.shape
    f = size / max(n, m)
    iy = np.minimum((np.arange(int(round(n * f))) / f).astype(int), n - 1)
    ix = np.minimum((np.arange(int(round(m * f))) / f).astype(int), m - 1)
    return matrix[iy][:, ix], f


def bat_image(view: BatView, *, tile: int = 128) -> np.ndarray:
    """Groups as rows, [P̃, Q̃, (T̃), effective map] as columns; query row/column outlined; two colorbars."""
    import cv2

    cols = view.columns()
    gap, head, left = 10, 18, 28
    widths = [_tile(m[0], tile)[0].shape[1] for _, m, _ in cols]
    w = left + sum(widths) + gap * (len(cols) + 1)
    h = head + view.groups * (tile + gap) + gap
    canvas = np.empty((h, w, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    x = left + gap
    for c, (name, mats, which) in enumerate(cols):
        scale = view.matrix_scale if which == "m" else view.effective_scale
        cv_draw.text(canvas, name, (head - 5, x), max_width=widths[c] + gap - 2)
        for g in range(view.groups):
            img, f = _tile(mats[g], tile)
            y = head + g * (tile + gap)
            canvas[y : y + img.shape[0], x : x + img.shape[1]] = scale.colors(img)
            kind, a, b = view.marks(c)
            n, m = mats[g].shape
            if kind == "row":
                box = (y + a * f, x, y + (a + 1) * f, x + m * f)
            elif kind == "col":
                box = (y, x + a * f, y + n * f, x + (a + 1) * f)
            else:
                box = (y + a * f, x + b * f, y + (a + 1) * f, x + (b + 1) * f)
            y0, x0, y1, x1 = (int(round(v)) for v in box)
            cv2.rectangle(canvas, (x0 - 1, y0 - 1), (x1, y1), cv_draw.QUERY_INNER, 1)
            if c == 0:
                cv_draw.text(canvas, f"g{g}", (y + tile // 2, 2))
        x += widths[c] + gap
    title = np.full((22, w, 3), 255, dtype=np.uint8)
    cv_draw.text(title, view.title, (15, 8), max_width=w - 10)
    return stack([title, canvas, cv_draw.colorbar(w, view.matrix_scale), cv_draw.colorbar(w, view.effective_scale)])


def bat_figure(view: BatView) -> Any:
    """The same view as plotly subplots: heatmaps on two shared color axes (matrices, effective maps)."""
    from plotly.subplots import make_subplots

    go = plotly_parts.go()
    cols = view.columns()
    fig = make_subplots(
        rows=view.groups,
        cols=len(cols),
        column_titles=[c[0] for c in cols],
        row_titles=[f"g{g}" for g in range(view.groups)],
        horizontal_spacing=0.04,
        vertical_spacing=0.03,
    )
    for c, (name, mats, which) in enumerate(cols):
        axis = "coloraxis" if which == "m" else "coloraxis2"
        for g in range(view.groups):
            fig.add_trace(
                go.Heatmap(
                    z=mats[g],
                    coloraxis=axis,
                    zsmooth=False,
                    name=f"{name} g{g}",
                    hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>",
                ),
                row=g + 1,
                col=c + 1,
            )
            kind, a, b = view.marks(c)
            n, m = mats[g].shape
            if kind == "row":
                x0, x1, y0, y1 = -0.5, m - 0.5, a - 0.5, a + 0.5
            elif kind == "col":
                x0, x1, y0, y1 = a - 0.5, a + 0.5, -0.5, n - 0.5
            else:
                x0, x1, y0, y1 = b - 0.5, b + 0.5, a - 0.5, a + 0.5
            fig.add_shape(
                type="rect",
                x0=x0,
                x1=x1,
                y0=y0,
                y1=y1,
                line=dict(color="rgb(230,20,20)", width=1.5),
                row=g + 1,
                col=c + 1,
            )
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        coloraxis=coloraxis(view.matrix_scale),
        coloraxis2=coloraxis(view.effective_scale),
        title=view.title,
        height=160 * view.groups + 120,
        width=180 * len(cols) + 100,
        margin=dict(l=40, r=60, t=80, b=20),
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    plotly_parts.colorbars_below(fig, ["coloraxis", "coloraxis2"])
    return fig
