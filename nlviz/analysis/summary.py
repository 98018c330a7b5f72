"""Per-query statistics of an Affinity, and their means over all (or sampled) queries of a recorded block.

The statistics (each (B, G, Q); see their modules for the exact definitions):

- ``spatial_distance`` (input pixels) and ``temporal_distance`` (input frames): :mod:`.distance`;
- ``entropy`` (normalized, 0 = one key, 1 = uniform) and ``topk_mass`` (mass on the k heaviest keys):
  :mod:`.concentration`;
- ``same_frame_mass`` (other-frame mass = 1 − it): :mod:`.temporal`.

:func:`query_numbers` / :func:`query_profile` reduce them to the plain numbers of one query (groups averaged),
:func:`block_stats` averages them over many queries of a recorded block; :data:`STAT_LABELS` says how each is shown.

Unnormalized kinds (dot product, concatenation, linear contributions, Jacobians) are read as |w| / Σ|w|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from nlviz.analysis.concentration import normalized_entropy, topk_mass
from nlviz.analysis.distance import spatial_distance, temporal_distance
from nlviz.analysis.rows import iter_rows, pick_queries
from nlviz.analysis.temporal import same_frame_mass, temporal_profile
from nlviz.ops.base import DEFAULT_MAX_BYTES, Affinity

STATS = ("spatial_distance", "temporal_distance", "entropy", "topk_mass", "same_frame_mass")
#: the statistics that only mean something when the input has several frames (an image has one)
TEMPORAL_STATS = ("temporal_distance", "same_frame_mass")
#: how each statistic is shown (every surface — app, export, report — uses these names and labels)
STAT_LABELS = {
    "spatial_distance": "mean spatial distance (input px)",
    "temporal_distance": "mean temporal distance (input frames)",
    "entropy": "normalized entropy (0 = one key, 1 = uniform)",
    "topk_mass": "mass on the top-k keys",
    "same_frame_mass": "mass in the query's own frame(s)",
}


def stat_label(name: str, k: int | None = None) -> str:
    """The label of statistic ``name`` (top-k mass with its k filled in)."""
    label = STAT_LABELS[name]
    return label.replace("top-k", f"top-{k}") if k is not None else label


def query_stats(aff: Affinity, *, k: int = 20) -> dict[str, Tensor]:
    """Every statistic of every query row: name → (B, G, Q) float64 (``k`` is the top-k mass's k)."""
    k = min(k, aff.rows().shape[-1])
    return {
        "spatial_distance": spatial_distance(aff),
        "temporal_distance": temporal_distance(aff),
        "entropy": normalized_entropy(aff),
        "topk_mass": topk_mass(aff, k),
        "same_frame_mass": same_frame_mass(aff),
    }


def _reduce(v: Tensor, query: int, batch: int, group: int | None) -> float:
    """One number of a (B, G, Q) statistic: query ``query`` of clip ``batch``, the mean over groups (NaN
    groups skipped) or one ``group``."""
    per_group = v[batch, :, query].to(torch.float64)  # (G,)
    return float(per_group.nanmean() if group is None else per_group[group])


def query_numbers(
    aff: Affinity, query: int = 0, *, k: int = 20, batch: int = 0, group: int | None = None
) -> dict[str, float]:
    """The statistics of one query row as plain numbers: name → value, each the mean over the block's groups of
    the per-group statistic (``group``: one group instead). NaN for an all-zero row. The numbers every view of a
    single query shows (Explore, the exporter's JSON, the Analysis page's table for that query)."""
    return {name: _reduce(v, query, batch, group) for name, v in query_stats(aff, k=k).items()}


def query_profile(aff: Affinity, query: int = 0, *, batch: int = 0, group: int | None = None) -> Tensor:
    """(T_k,) float64 temporal profile of one query row (mass per key frame), the mean over groups or one."""
    p = temporal_profile(aff)[batch, :, query]  # (G, Tk)
    return p.nanmean(0) if group is None else p[group]


@dataclass
class BlockStats:
    """Means over the analysed queries of one block.

    Attributes:
        block: module name.
        kind: the Affinity kind (``softmax`` ...); ``normalized`` False means |w| / Σ|w| was used.
        queries: how many query rows were analysed.
        k: the k of ``topk_mass`` (at most the number of keys).
        means: statistic name → (B, G) mean over queries (NaN rows skipped).
        profile: (B, G, T_k) mean temporal profile (mass per key frame).
    """

    block: str
    kind: str
    normalized: bool
    queries: int
    k: int
    means: dict[str, Tensor]
    profile: Tensor

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every statistic averaged over batch and groups, plus the per-group means.

        With one query and one clip, ``to_dict()[name] == query_numbers(...)[name]`` (groups averaged alike)."""
        out: dict[str, Any] = {
            "block": self.block,
            "kind": self.kind,
            "normalized": self.normalized,
            "queries": self.queries,
            "k": self.k,
        }
        for name, v in self.means.items():
            out[name] = float(v.nanmean())
            out[f"{name}_per_group"] = [float(x) for x in v.nanmean(0)]
        out["temporal_profile"] = [float(x) for x in self.profile.nanmean((0, 1))]
        return out


def block_stats(
    rec: Any,
    block: str,
    *,
    queries: Any = None,
    sample: int | None = None,
    seed: int = 0,
    k: int = 20,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> BlockStats:
    """Mean statistics of ``block`` over ``queries`` (None = all cells; ``sample`` draws that many with
    ``seed``), taking rows from the recording in chunks of at most ``max_bytes``."""
    q = pick_queries(rec, block, queries, sample=sample, seed=seed)
    _, kgrid = rec.grids(block)
    k = min(k, kgrid[0] * kgrid[1] * kgrid[2])
    sums: dict[str, Tensor] = {}
    counts: dict[str, Tensor] = {}
    profile = None
    kind, normalized = "", True
    for aff in iter_rows(rec, block, q, max_bytes=max_bytes):
        kind, normalized = aff.kind, aff.normalized
        for name, v in query_stats(aff, k=k).items():  # (B, G, q)
            ok = ~v.isnan()
            sums[name] = sums.get(name, 0) + torch.where(ok, v, 0).sum(-1)
            counts[name] = counts.get(name, 0) + ok.sum(-1)
        p = temporal_profile(aff)  # (B, G, q, Tk)
        p_sum = torch.where(p.isnan(), 0, p).sum(2)
        profile = p_sum if profile is None else profile + p_sum
    means = {name: sums[name] / counts[name] for name in sums}
    assert profile is not None
    return BlockStats(block, kind, normalized, len(q), k, means, profile / counts["entropy"][..., None])
