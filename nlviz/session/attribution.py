"""Attributions (captum) of the clip beside the attention of a clicked query, and how well they agree.

Methods (:data:`METHODS`), each a map on the model-input grid (T, H, W) for one target class:

- ``saliency``, ``integrated gradients``, ``grad-cam`` (on a named layer, by default the block itself),
  ``occlusion`` (windows of 2 frames × 1/4 of the frame side): :mod:`nlviz.analysis.attribution`;
- ``block jacobian``: the influence of every cell of the block's input on the clicked query's output
  (:func:`nlviz.analysis.jacobian_row`), spread to input pixels — the fallback for operators without explicit
  weights, and a check of what the attention weights leave out.

Agreement (:func:`nlviz.analysis.attribution_agreement`): Spearman ρ and top-k IoU between the query's
attention mass and |attribution| averaged onto the attention's key grid. Attribution hooks are registered by
captum inside each call, so every computation holds the model's lock exclusively; maps are memoized on the
Result.
"""

from __future__ import annotations

from typing import Any

import torch

from nlviz.session.results import Result, model_lock, query_cell
from nlviz.session.views import QueryView, ViewOptions, explore

METHODS = ("saliency", "integrated gradients", "grad-cam", "occlusion", "block jacobian")


def attribute(
    result: Result, method: str, target: int | None = None, *, block: str | None = None, point: Any = None
) -> torch.Tensor:
    """(T, H, W) float32 attribution map of ``method`` for class ``target`` (default: the predicted class).

    ``block`` is grad-cam's layer and the jacobian's block; ``point`` the jacobian's query (model-input pixel).
    """
    from nlviz import analysis

    if method not in METHODS:
        raise ValueError(f"attribution method {method!r} is not known; allowed: {list(METHODS)}")
    target = result.predicted if target is None else int(target)
    cell = query_cell(result, block, point) if method == "block jacobian" else None
    key = ("attribution", method, target, block if method in ("grad-cam", "block jacobian") else None, cell)
    if key in result.memo:
        return result.memo[key]
    model, x = result.model.model, result.model_input()
    t, h, w = result.data.shape
    with model_lock(model).exclusive():
        if method == "saliency":
            out = analysis.saliency(model, x, target).map
        elif method == "integrated gradients":
            out = analysis.integrated_gradients(model, x, target, n_steps=16, internal_batch_size=8).map
        elif method == "grad-cam":
            out = analysis.layer_gradcam(model, x, target, block or result.blocks[0]).map
        elif method == "occlusion":
            window = (min(2, t), max(1, h // 4), max(1, w // 4))
            out = analysis.occlusion(model, x, target, window=window).map
        else:
            out = _jacobian_map(result, block, cell, x)
    out = out.detach().float().cpu()  # computed on the model's device; maps and scenes live on the CPU
    result.memo[key] = out
    return out


def _jacobian_map(result: Result, block: str | None, cell: Any, x: torch.Tensor) -> torch.Tensor:
    from nlviz.analysis import average, jacobian_row

    if block is None:
        raise ValueError("the block jacobian needs a block")
    row = jacobian_row(result.model.model, x, block, [cell], source=result.data.clip.geometry)
    size = tuple(row.geometry.key.input_size)
    return average(row.weights[0, 0, 0].double(), size, tuple(row.key_grid), size).float()  # (T, H, W)


def attribution_scene(
    result: Result,
    view: QueryView,
    amap: torch.Tensor,
    method: str,
    opts: ViewOptions,
    target: int | None = None,
    *,
    on_keys: bool = False,
) -> Any:
    """A Scene of an attribution map (one "row"), marked at the view's query cell: on the model-input pixels
    (signed where the method is), or with ``on_keys`` as |attribution| averaged onto the attention's key grid —
    the map the agreement numbers compare."""
    from nlviz.analysis.agreement import attribution_on_keys
    from nlviz.extract.geometry import AffinityGeometry, GridGeometry
    from nlviz.ops.base import Affinity
    from nlviz.session.views import scene_of

    geo = view.aff.geometry
    if on_keys:
        weights, grid, kind = attribution_on_keys(view.aff, amap).abs().float(), tuple(view.aff.key_grid), f"|{method}|"
        geometry = geo
    else:
        weights, grid, kind = amap.float(), tuple(amap.shape), method
        geometry = AffinityGeometry(geo.query, GridGeometry(grid, grid), geo.source)
    aff = Affinity(
        weights=weights[None, None, None],
        queries=view.aff.queries[:1],
        query_grid=view.aff.query_grid,
        key_grid=grid,
        normalized=False,
        kind=f"{kind} attribution",
        geometry=geometry,
    )
    target = result.predicted if target is None else int(target)
    where = "per key cell" if on_keys else "per input pixel"
    return scene_of(result, aff, opts, f"{kind} attribution {where}, class {result.class_names[target]}")


def compare_attribution(
    result: Result, block: str, point: Any, method: str, target: int | None = None, opts: ViewOptions | None = None
) -> tuple[Any, dict[str, Any], QueryView, Any]:
    """(CompareView of attention vs |attribution| on the key grid, agreement numbers, the attention QueryView,
    the Scene of the attribution on input pixels)."""
    from nlviz.analysis import attribution_agreement
    from nlviz.render import compare_view

    opts = opts or ViewOptions()
    view = explore(result, block, point, opts)
    amap = attribute(result, method, target, block=block, point=point)
    target = result.predicted if target is None else int(target)
    on_keys = attribution_scene(result, view, amap, method, opts, target, on_keys=True)
    pixels = attribution_scene(result, view, amap, method, opts, target)
    k = min(10, view.aff.rows().shape[-1])
    agree = attribution_agreement(view.aff, amap, k=k)
    agree |= {"method": method, "target": result.class_names[target]}
    cv = compare_view([("attention", view.scene), (f"|{method}|", on_keys)], title=f"{block}: attention vs {method}")
    return cv, agree, view, pixels
