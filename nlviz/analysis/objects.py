"""On-object mass: with ground-truth instance masks, how much of a query's attention lands on an object.

Masks are the model-input pixels of each object ((T_in, H_in, W_in) ints, 0 = background; the synthetic
tasks' ``SyntheticClip.masks``). They are brought to a block's grid through the geometry: the *coverage*
c_j of key cell j is the fraction of the input pixels (and frames) it covers that belong to the object.

For a query with mass m over keys (|w| / Σ|w| for unnormalized kinds) and a set O of key cells
(``other_frames=True``: the cells in frames that do not overlap the query's own frames; else every cell):

    on-object mass = Σ_{j∈O} m_j c_j / Σ_{j∈O} m_j       (the share of the mass sent to O that hits the object)
    chance         = Σ_{j∈O} c_j / |O|                    (the same for a row uniform over O)

so a block that ignores the object scores its chance level (the object's share of those frames). A query
with no mass in O (a per-frame block with ``other_frames=True``) gets NaN. ``ObjectInfo.partner`` links the
spacetime task's cue and target, so ``object_report`` also gives the mass a query on one sends to the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nlviz.analysis.grids import average
from nlviz.analysis.mass import grid_mass, require_geometry
from nlviz.analysis.rows import iter_rows
from nlviz.analysis.temporal import same_frame_table
from nlviz.ops.base import DEFAULT_MAX_BYTES, Affinity, all_queries


def object_coverage(masks: Any, object_ids: int | Sequence[int], geometry: Any) -> Tensor:
    """(T, H, W) float64: the fraction of each cell of ``geometry`` (a GridGeometry) covered by the objects.

    ``masks`` (T_in, H_in, W_in) must have the size of the model input the geometry tiles.
    """
    m = torch.as_tensor(np.asarray(masks))
    if m.dim() == 2:
        m = m[None]
    if tuple(m.shape) != tuple(geometry.input_size):
        raise ValueError(
            f"masks of shape {tuple(m.shape)} do not match the model input (T, H, W)={geometry.input_size}; "
            "pass the masks of the clip the model saw (same frames and size)"
        )
    ids = [object_ids] if isinstance(object_ids, (int, np.integer)) else list(object_ids)
    if any(int(i) < 1 for i in ids):
        raise ValueError(f"object ids must be >= 1 (0 is the background), got {ids}")
    inside = torch.isin(m, torch.tensor(ids, dtype=m.dtype)).to(torch.float64)  # (T_in, H_in, W_in)
    return average(inside, geometry.input_size, geometry.input_size, geometry.grid)


@dataclass
class ObjectMass:
    """Per query (B, G, Q): ``mass`` on the object within the considered keys, ``chance`` (Q,) of a uniform
    row, and ``reached`` the share of the query's whole mass that falls in the considered keys."""

    mass: Tensor
    chance: Tensor
    reached: Tensor


def on_object_mass(
    aff: Affinity, masks: Any, object_ids: int | Sequence[int], *, other_frames: bool = True
) -> ObjectMass:
    """On-object mass of every query of ``aff`` (see the module docstring)."""
    geo = require_geometry(aff, "on-object mass")
    cover = object_coverage(masks, object_ids, geo.key)  # (Tk, Hk, Wk)
    m = grid_mass(aff)  # (B, G, Q, Tk, Hk, Wk)
    tq = aff.queries[:, 0]
    if other_frames:
        keep = (~same_frame_table(aff)[tq]).to(torch.float64)  # (Q, Tk)
    else:
        keep = torch.ones(len(tq), aff.key_grid[0], dtype=torch.float64)
    per_frame_mass = m.sum((-2, -1))  # (B, G, Q, Tk)
    per_frame_hit = torch.einsum("bgqthw,thw->bgqt", m, cover)  # (B, G, Q, Tk)
    reached = torch.einsum("bgqt,qt->bgq", per_frame_mass, keep)
    hit = torch.einsum("bgqt,qt->bgq", per_frame_hit, keep)
    cells = aff.key_grid[1] * aff.key_grid[2]
    chance = torch.einsum("qt,t->q", keep, cover.sum((-2, -1))) / (keep.sum(-1) * cells)  # (Q,)
    mass = torch.where(reached > 0, hit / reached.clamp_min(1e-300), torch.nan)
    return ObjectMass(mass=mass, chance=chance, reached=reached)


def object_queries(masks: Any, object_id: int, geometry: Any, *, min_cover: float = 0.5) -> Tensor:
    """(Q, 3) the query cells of ``geometry`` at least ``min_cover`` covered by the object, row-major."""
    if not 0 < min_cover <= 1:
        raise ValueError(f"min_cover={min_cover!r} must be in (0, 1]")
    cover = object_coverage(masks, object_id, geometry)  # (T, H, W)
    return all_queries(geometry.grid)[cover.flatten() >= min_cover]


def object_report(
    rec: Any,
    block: str,
    sample: Any,
    object_id: int,
    *,
    other_frames: bool = True,
    min_cover: float = 0.5,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Queries on object ``object_id`` of a synthetic ``sample`` (masks + objects): mean on-object mass on
    the object itself (``self``) and on its partner (``partner``, id ``partner_id``; absent when it has
    none), their chance levels (``*_chance``) and the mean share of mass in the considered frames
    (``reached``). NaN rows are skipped; no query on the object gives ``queries = 0`` and NaN figures."""
    if object_id not in sample.objects:
        raise ValueError(f"object {object_id} is not in this sample; its objects: {sorted(sample.objects)}")
    geo = rec.geometry(block)
    if geo is None:
        raise ValueError("the recording has no input size: run the model inside nlviz.capture first")
    q = object_queries(sample.masks, object_id, geo.query, min_cover=min_cover)
    targets = {"self": object_id}
    partner = sample.objects[object_id].partner
    if partner is not None:
        targets["partner"] = partner
    acc: dict[str, list[Tensor]] = {name: [] for name in (*targets, *(f"{n}_chance" for n in targets), "reached")}
    for aff in iter_rows(rec, block, q, max_bytes=max_bytes) if len(q) else []:
        for name, oid in targets.items():
            r = on_object_mass(aff, sample.masks, oid, other_frames=other_frames)
            acc[name].append(r.mass.flatten())
            chance = torch.where(r.mass.isnan(), torch.nan, r.chance.expand(r.mass.shape))  # same rows as mass
            acc[f"{name}_chance"].append(chance.flatten())
            if name == "self":
                acc["reached"].append(r.reached.flatten())
    out: dict[str, Any] = {
        "block": block,
        "object": object_id,
        "partner_id": partner,
        "queries": len(q),
        "other_frames": other_frames,
    }
    for name, parts in acc.items():
        v = torch.cat(parts) if parts else torch.full((1,), torch.nan, dtype=torch.float64)
        ok = ~v.isnan()
        out[name] = float(v[ok].mean()) if ok.any() else float("nan")
    return out


def task_object_mass(
    model: Any,
    task: Any,
    *,
    seed: int = 0,
    start: int = 0,
    n: int = 8,
    role: str = "target",
    blocks: list[str] | None = None,
    other_frames: bool = True,
    min_cover: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """:func:`object_report` of the ``role`` object (e.g. the spacetime task's ``target``, whose partner is
    the cue) on samples ``start … start + n − 1`` of ``task``'s stream ``seed``, averaged per block over
    the samples (each sample's figure is a mean over its queries on the object; NaN samples skipped).

    Returns ``{block: {"self", "self_chance", "partner", "partner_chance", "reached", "samples"}}``.
    """
    import nlviz

    per_block: dict[str, dict[str, list[float]]] = {}
    for index in range(start, start + n):
        sample = task.sample(seed, index)
        objects = sample.by_role(role)
        if not objects:
            roles = sorted({o.role for o in sample.objects.values()})
            raise ValueError(f"sample {index} has no object with role {role!r}; roles: {roles}")
        x = task.batch(seed, index, 1)[0]
        with torch.no_grad(), nlviz.capture(model, blocks=blocks, clip=sample.to_clip()) as rec:
            model(x)
        for block in rec.blocks:
            rep = object_report(rec, block, sample, objects[0].id, other_frames=other_frames, min_cover=min_cover)
            acc = per_block.setdefault(block, {})
            for key in ("self", "self_chance", "partner", "partner_chance", "reached"):
                if key in rep:
                    acc.setdefault(key, []).append(rep[key])
    out: dict[str, dict[str, Any]] = {}
    for block, acc in per_block.items():
        figures: dict[str, Any] = {}
        for key, values in acc.items():
            ok = [v for v in values if v == v]  # drop NaN
            figures[key] = sum(ok) / len(ok) if ok else float("nan")
        figures["samples"] = n
        out[block] = figures
    return out
