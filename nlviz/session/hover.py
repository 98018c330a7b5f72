"""The payload of the Explore page's hover component: what a browser needs to compute a block's exact rows itself
and redraw the per-frame heatmaps and top-k arrows as the pointer moves, without a round trip per row.

    if supported(result, block):
        data = payload(result, block, opts, point)    # JSON: factors, frames, geometry, view options, the pin
        factors = decode(data)                        # the RowFactors back (tests recompute rows from it)

Contents (JSON-serializable; arrays as base64 of little-endian bytes):

- ``factors``: the block's :class:`nlviz.ops.factors.RowFactors` for batch item 0 (float32), on the video's grid for
  per-frame blocks; ``kind``, ``scale``, ``groups``, ``frame_local``, ``query_grid``, ``key_grid``;
- ``panels``: one per key-grid frame, with the model-input frame it shows (the first one the key frame covers);
  ``frames``: those frames as PNG data URLs, upsampled nearest-neighbour by the integer ``zoom`` (frames at least
  ``panel_size`` px wide, as the other views); ``cols`` panels per row;
- ``maps``: the geometry as index tables, so the browser never re-derives a rounding rule: input frame / row /
  column → query cell and key cell (:meth:`nlviz.extract.GridGeometry.cell_at`, the heatmaps' pixel rule), cell
  centers and query cell edges in input pixels, and the panel of each query frame;
- ``view``: top-k, ``min_fraction``, group reduction, weight or share, the color range, overlay opacity, and the
  colormap tables (256×3 uint8; ``seq`` for non-negative rows, ``div`` for signed ones, as
  :func:`nlviz.render.scale.make_scale` picks them); ``label`` says what the weights are;
- ``pin``: the pinned query, input pixel and block cell.

Point = (t, y, x) in model-input pixels, cell = (t, y, x) of the block's query grid. The heavy part (factors,
frames, maps) is memoized on the Result per (block, zoom); ``id`` names it so the browser decodes it once.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np

from nlviz.session.results import Result, clamp_point, query_cell
from nlviz.session.views import ViewOptions

VERSION = 1
#: factors larger than this are not sent (every rerun re-sends the payload): such blocks keep click-to-update
MAX_FACTOR_BYTES = 16 * 2**20
#: panels per row (as the click strip)
COLS = 8


def factors(result: Result, block: str) -> Any:
    """The block's RowFactors for batch item 0 on its (video) grid, or None when its rows need more (CGNL, SB)."""
    from nlviz.ops.factors import per_frame

    key = ("hover_factors", block)
    if key not in result.memo:
        r = result.rec.record(block)
        f = r.op.row_factors(r.inputs)
        if f is not None:
            f = (per_frame(f, r.frames) if r.frames > 1 else f).item(0)
        result.memo[key] = f
    return result.memo[key]


def factor_bytes(f: Any) -> int:
    return sum(v.nbytes for v in f.arrays.values())


def supported(result: Result, block: str) -> bool:
    """The browser can compute this block's rows: it has row factors of a sendable size and a pixel geometry."""
    f = factors(result, block)
    return f is not None and factor_bytes(f) <= MAX_FACTOR_BYTES and result.rec.geometry(block) is not None


def encode(a: np.ndarray) -> dict[str, Any]:
    """An array as ``{"dtype", "shape", "data"}`` with base64 little-endian bytes."""
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    return {"dtype": a.dtype.name, "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}


def decode_array(d: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(d["data"]), dtype=np.dtype(d["dtype"]).newbyteorder("<")).reshape(d["shape"])


def decode(data: dict[str, Any]) -> Any:
    """The RowFactors a payload carries (what the browser computes rows from)."""
    from nlviz.ops.factors import RowFactors

    arrays = {k: decode_array(v)[None] for k, v in data["factors"].items()}  # the batch axis back
    return RowFactors(
        data["kind"],
        tuple(data["query_grid"]),
        tuple(data["key_grid"]),
        arrays,
        scale=data["scale"],
        frame_local=data["frame_local"],
    )


def png_url(image: np.ndarray) -> str:
    """An RGB uint8 image as a PNG data URL."""
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image[..., ::-1]))
    if not ok:  # pragma: no cover - cv2 encodes any uint8 RGB image
        raise ValueError("could not encode a frame as PNG")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


def geometry_maps(result: Result, block: str) -> dict[str, list]:
    """Index tables of the block's geometry (see the module docstring)."""
    geo = result.rec.geometry(block)
    q, k = geo.query, geo.key
    t_in, h, w = q.input_size

    def along(g: Any, axis: int, n: int) -> list[int]:
        p = [np.zeros(n, int)] * 3
        p[axis] = np.arange(n)
        return [int(v) for v in g.cell_at(*p)[:, axis]]

    def centers(g: Any, axis: int) -> list[float]:
        cells = np.zeros((g.grid[axis], 3), int)
        cells[:, axis] = np.arange(g.grid[axis])
        return [float(v) for v in g.cell_center(cells)[:, axis]]

    def edges(g: Any, axis: int) -> list[float]:
        return [float(i * g.stride[axis]) for i in range(g.grid[axis] + 1)]

    key_of_frame = along(k, 0, t_in)
    return {
        "query_t": along(q, 0, t_in),
        "query_y": along(q, 1, h),
        "query_x": along(q, 2, w),
        "key_t": key_of_frame,
        "key_y": along(k, 1, h),
        "key_x": along(k, 2, w),
        "key_center_t": centers(k, 0),
        "key_center_y": centers(k, 1),
        "key_center_x": centers(k, 2),
        "query_center_y": centers(q, 1),
        "query_center_x": centers(q, 2),
        "query_edge_t": edges(q, 0),
        "query_edge_y": edges(q, 1),
        "query_edge_x": edges(q, 2),
        "query_panel": [key_of_frame[q.cell_frames(t)[0]] for t in range(q.grid[0])],
    }


def _heavy(result: Result, block: str, zoom: int) -> dict[str, Any]:
    """Factors, frames and geometry of one block at one zoom (memoized on the Result)."""
    from nlviz.render.layout import upscale

    key = ("hover_payload", block, zoom)
    if key in result.memo:
        return result.memo[key]
    f = factors(result, block)
    geo = result.rec.geometry(block)
    panels = [{"key_t": t, "frame": int(geo.key.cell_frames(t)[0])} for t in range(f.key_grid[0])]
    frames = result.data.clip.frames
    ident = f"{result.model.name}|{result.data.key}|{block}|{zoom}"
    heavy = {
        "version": VERSION,
        "id": hashlib.sha1(ident.encode()).hexdigest()[:16],
        "block": block,
        "kind": f.kind,
        "scale": float(f.scale),
        "groups": int(f.groups),
        "frame_local": bool(f.frame_local),
        "query_grid": list(f.query_grid),
        "key_grid": list(f.key_grid),
        "factors": {k: encode(v[0]) for k, v in f.arrays.items()},
        "input": list(geo.query.input_size),
        "zoom": int(zoom),
        "cols": min(COLS, len(panels)),
        "panels": panels,
        "frames": {str(p["frame"]): png_url(upscale(frames[p["frame"]], zoom)) for p in panels},
        "maps": geometry_maps(result, block),
    }
    result.memo[key] = heavy
    return heavy


def groups_text(groups: int, how: Any) -> str:
    """How the groups are reduced, as the views say it (:func:`nlviz.render.scene.group_text`)."""
    if groups == 1:
        return ""
    return f"group {how} of {groups}" if isinstance(how, int) else f"{how} of {groups} groups"


def view_part(kind: str, groups: int, opts: ViewOptions) -> dict[str, Any]:
    """The view options as the browser applies them, with the colormap tables and the label of the weights."""
    from nlviz.render.colormap import lut
    from nlviz.render.heatmap import ALPHA
    from nlviz.render.scale import weight_label

    share = opts.values == "share"
    normalized = kind in ("softmax", "bilinear")
    label = weight_label("share" if share else kind, normalized or share, groups_text(groups, opts.groups))
    seq, div = ("viridis", "rdbu") if opts.colormap == "auto" else (opts.colormap, opts.colormap)
    fixed = [float(v) for v in opts.normalization] if isinstance(opts.normalization, (list, tuple)) else None
    return {
        "k": int(opts.k),
        "min_fraction": float(opts.min_fraction),
        "groups": opts.groups,
        "values": opts.values,
        "fixed": fixed,
        "alpha": ALPHA,
        "label": label,
        "lut": {"seq": encode(lut(seq)), "div": encode(lut(div)), "names": [seq, div]},
    }


def payload(result: Result, block: str, opts: ViewOptions | None, point: Any) -> dict[str, Any]:
    """The component's data for ``block`` with the query at ``point`` pinned (see the module docstring)."""
    from nlviz.render.layout import display_scale

    if not supported(result, block):
        raise ValueError(f"block {block!r}: the browser cannot compute its rows (its family needs click-to-update)")
    opts = opts or ViewOptions()
    _, h, w = result.data.shape
    heavy = _heavy(result, block, display_scale(h, w, opts.panel_size))
    point = clamp_point(result.data, point)
    pin = {"point": list(point), "cell": list(query_cell(result, block, point))}
    return {**heavy, "view": view_part(heavy["kind"], heavy["groups"], opts), "pin": pin}


def flat_query(data: dict[str, Any], cell: Any) -> int:
    """The flat row-major index of query cell (t, y, x) on the payload's query grid."""
    _, h, w = data["query_grid"]
    return int((cell[0] * h + cell[1]) * w + cell[2])
