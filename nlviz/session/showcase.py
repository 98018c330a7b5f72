"""The first view a new user sees: a clip the model gets right, and a query on its target whose attention reaches
the cue — the point of the spacetime task ("the label depends on a cue shown frames earlier").

    index = first_clip(lm)                          # the first of the first clips that shows it
    point, why = best_query(result, block)          # a target-centre query with the most cue mass vs chance

Both read a few exact rows (one per frame the target is drawn in), never N×N. Inputs without masks (videos,
uploads) and models whose task has no cue keep :func:`nlviz.session.clips.default_point`.
"""

from __future__ import annotations

from typing import Any

from nlviz.run import LoadedModel
from nlviz.session.clips import default_point
from nlviz.session.results import Result, query_affinity

#: clips tried when looking for the first view (each costs one forward pass, once)
TRIED_CLIPS = 8
#: the cue mass (on other frames) that makes the point, as a multiple of chance
SHOWS_IT = 10.0


def _target_and_cue(result: Result) -> tuple[Any, Any] | None:
    objects = result.data.objects or {}
    for obj in objects.values():
        if obj.role == "target" and obj.partner in objects:
            return obj, objects[obj.partner]
    return None


def best_query(result: Result, block: str) -> tuple[tuple[int, int, int], dict[str, float]]:
    """The target-centre point whose row puts the most mass on the cue (other frames), relative to chance.

    Returns ``(point, {"cue_mass", "chance", "ratio"})``; without a target and cue (no masks), the default point
    and an empty dict."""
    from nlviz.analysis.objects import on_object_mass

    pair = _target_and_cue(result)
    if pair is None or result.data.masks is None or block not in result.blocks:
        return default_point(result.data), {}
    target, cue = pair
    t_max, h, w = result.data.shape
    best: tuple[float, tuple[int, int, int], dict[str, float]] | None = None
    for t, (y, x) in zip(target.frames, target.centers):
        if t >= t_max:
            continue
        point = (int(t), int(min(max(y, 0), h - 1)), int(min(max(x, 0), w - 1)))
        # mass is each key's share of the row's |weight| (signed kinds too), averaged over groups
        r = on_object_mass(query_affinity(result, block, point), result.data.masks, cue.id)
        mass, chance = float(r.mass.nanmean()), float(r.chance.flatten()[0])
        if mass != mass or chance <= 0:  # NaN: the row reaches no other frame
            continue
        info = {"cue_mass": mass, "chance": chance, "ratio": mass / chance}
        if best is None or info["ratio"] > best[0]:
            best = (info["ratio"], point, info)
    if best is None:
        return default_point(result.data), {}
    return best[1], best[2]


def first_clip(lm: LoadedModel, run: Any, clips: int = TRIED_CLIPS) -> int:
    """The first synthetic clip (of the first ``clips``) that ``lm`` classifies correctly and where a target query
    puts ≥ :data:`SHOWS_IT` × chance of its cross-frame mass on the cue; else the correct clip with the highest
    ratio; else clip 0. ``run(index) → Result`` is the caller's (cached) forward pass; models without a task, 0."""
    if not lm.task:
        return 0
    best = (-1.0, 0)
    for index in range(clips):
        result = run(index)
        if result.data.label is None or result.predicted != result.data.label or not result.blocks:
            continue
        _, info = best_query(result, result.blocks[-1])
        ratio = info.get("ratio", 0.0)
        if ratio >= SHOWS_IT:
            return index
        best = max(best, (ratio, -index))
    return -best[1] if best[0] >= 0 else 0
