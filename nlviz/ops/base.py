"""The shared operator interface: ``NonLocalOp``, the ``Affinity`` result and the operator registry.

Every operator family (one file each in this package) subclasses :class:`NonLocalOp` and implements

- ``forward(x)``: same shape in and out (1D ``(B, C, L)``, 2D ``(B, C, H, W)``, 3D ``(B, C, T, H, W)``);
- ``affinity_inputs(x) -> OpInputs``: from the block's *input* x, the small tensors its weights are made of
  (θ, φ, g, P/Q, ...) — never an N×N matrix. ``nlviz.capture`` calls this on the recorded input;
- ``_rows(inputs, flat_queries) -> (B, G, Q, Nk)``: the exact weights of the given query rows;
- ``values(inputs) -> (B, G, Cv, Nk)`` and ``aggregate(x) -> (B, G, Cv, Nq)``: what the weights multiply
  and the block's internal aggregate computed by its own forward path, so that the decomposition
  ``aggregate[..., i] == Σ_j w_ij · values[..., j]`` can be checked for every operator.

Grids are always reported as (T, H, W): 1D inputs are (1, 1, L), 2D inputs (1, H, W).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from nlviz.registry import Registry, check_options

if TYPE_CHECKING:
    from nlviz.ops.factors import RowFactors

OPS = Registry("operator")

Grid = tuple[int, int, int]

#: Default memory bound (bytes) for one chunk of weights when all queries are asked for.
DEFAULT_MAX_BYTES = 256 * 2**20


def grid_of(x: Tensor) -> Grid:
    """The (T, H, W) grid of a 1D/2D/3D feature map (channels first)."""
    if x.dim() == 3:
        return (1, 1, x.shape[-1])
    if x.dim() == 4:
        return (1, x.shape[-2], x.shape[-1])
    if x.dim() == 5:
        return (x.shape[-3], x.shape[-2], x.shape[-1])
    raise ValueError(f"expected a (B, C, L), (B, C, H, W) or (B, C, T, H, W) tensor, got shape {tuple(x.shape)}")


def check_input(x: Tensor, in_channels: int, dim: int, name: str) -> None:
    """Raise a ValueError naming the shape problem (wrong rank or channel count)."""
    if x.dim() != dim + 2:
        layout = {1: "(B, C, L)", 2: "(B, C, H, W)", 3: "(B, C, T, H, W)"}[dim]
        raise ValueError(f"{name} (dim={dim}) expects a {layout} tensor, got shape {tuple(x.shape)}")
    if x.shape[1] != in_channels:
        raise ValueError(f"{name} was built with in_channels={in_channels} but got {x.shape[1]} channels")


@dataclass
class OpInputs:
    """What ``affinity`` needs for one recorded call of a block: named tensors plus the two grids."""

    tensors: dict[str, Tensor]
    query_grid: Grid
    key_grid: Grid

    def __getitem__(self, key: str) -> Tensor:
        return self.tensors[key]

    @property
    def batch(self) -> int:
        return next(iter(self.tensors.values())).shape[0]


@dataclass
class TopK:
    """The k highest weights per query: ``cells`` (B, G, Q, k, 3) as (t, y, x) key cells, ``weights`` (B, G, Q, k)."""

    cells: Tensor
    weights: Tensor
    indices: Tensor  # flat key index (B, G, Q, k)


@dataclass
class Affinity:
    """Attention weights of some query rows of one block.

    ``weights``: (B, G, Q, Tk, Hk, Wk); G = groups/heads (1 for a plain non-local block).
    ``queries``: (Q, 3) long tensor of (t, y, x) cells of ``query_grid``.
    ``normalized``: True when each row sums to 1 (softmax, BAT); False otherwise (dot product ÷N,
    concatenation, linear contributions).
    ``kind``: what the numbers are, e.g. ``"softmax"``, ``"dot_product"``, ``"concatenation"``,
    ``"bilinear"`` (BAT P·Q), ``"linear_contribution"`` (CGNL, Spatial Bias), ``"jacobian"`` (captum).
    ``geometry``: filled in by the capture layer (maps cells to input frames and pixel boxes).
    """

    weights: Tensor
    queries: Tensor
    query_grid: Grid
    key_grid: Grid
    normalized: bool
    kind: str
    geometry: Any = None
    block: str = ""
    extras: dict[str, Tensor] = field(default_factory=dict)

    @property
    def groups(self) -> int:
        return self.weights.shape[1]

    def rows(self) -> Tensor:
        """Weights flattened over keys: (B, G, Q, Nk), keys row-major over (T, H, W)."""
        return self.weights.flatten(3)

    def select(self, group: int) -> Affinity:
        """Keep one group/head."""
        if not 0 <= group < self.groups:
            raise ValueError(f"group {group} out of range: this block has {self.groups} group(s)")
        return replace(self, weights=self.weights[:, group : group + 1])

    def fuse(self, how: str = "mean") -> Affinity:
        """Fuse the groups into one map by ``mean`` or ``max``."""
        if how == "mean":
            w = self.weights.mean(1, keepdim=True)
        elif how == "max":
            w = self.weights.amax(1, keepdim=True)
        else:
            raise ValueError(f"fuse: unknown method {how!r}; valid: ['max', 'mean']")
        return replace(self, weights=w, normalized=self.normalized and how == "mean")

    def topk(self, k: int) -> TopK:
        """The k highest-weighted key cells of every query row (all groups kept)."""
        rows = self.rows()
        n = rows.shape[-1]
        if not 1 <= k <= n:
            raise ValueError(f"topk: k={k} must be between 1 and the number of keys ({n})")
        w, idx = rows.topk(k, dim=-1)
        _, hk, wk = self.key_grid
        cells = torch.stack((idx // (hk * wk), (idx // wk) % hk, idx % wk), dim=-1)
        return TopK(cells=cells, weights=w, indices=idx)


def all_queries(grid: Grid) -> Tensor:
    """Every cell of ``grid`` as a (N, 3) long tensor, row-major over (T, H, W)."""
    t, h, w = grid
    tt, yy, xx = torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack((tt, yy, xx), -1).reshape(-1, 3)


def as_queries(queries: Any, grid: Grid) -> Tensor:
    """Validate (t, y, x) query cells against ``grid``; ``None`` means all cells. Returns (Q, 3) long."""
    if queries is None:
        return all_queries(grid)
    q = torch.as_tensor(queries, dtype=torch.long)
    if q.dim() == 1:
        q = q.unsqueeze(0)
    if q.dim() != 2 or q.shape[1] != 3:
        raise ValueError(f"queries must be (t, y, x) cells, shape (Q, 3); got shape {tuple(q.shape)}")
    hi = torch.tensor(grid)
    bad = ((q < 0) | (q >= hi)).any(1)
    if bad.any():
        first = tuple(q[bad][0].tolist())
        raise ValueError(f"query cell {first} is outside the query grid (T, H, W)={grid}")
    return q


def flat_index(q: Tensor, grid: Grid) -> Tensor:
    """(Q, 3) cells → flat row-major indices."""
    _, h, w = grid
    return (q[:, 0] * h + q[:, 1]) * w + q[:, 2]


class RowSource:
    """Anything whose exact rows can be computed from what it recorded: every :class:`NonLocalOp`, and the
    adapters :func:`nlviz.capture` puts on foreign blocks (:mod:`nlviz.extract.adapters`).

    A row source implements ``affinity_inputs(x) -> OpInputs`` (from the block's *input*: the small tensors its
    weights are made of, never an N×N matrix) and ``_rows(inputs, flat_queries) -> (B, G, Q, Nk)``; it may
    override ``num_groups``, ``extras`` and ``row_factors``. :meth:`affinity` is shared.
    """

    #: registry name of the family (``nonlocal``, ``cgnl``, ``bat``, ``spatial_bias``)
    family: str = ""
    #: what the weights are (see :class:`Affinity`)
    kind: str = ""
    #: rows sum to 1
    normalized: bool = False

    def affinity_inputs(self, x: Tensor) -> OpInputs:  # pragma: no cover - abstract
        raise NotImplementedError

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:  # pragma: no cover - abstract
        """Exact weights (B, G, Q, Nk) of the flat query indices."""
        raise NotImplementedError

    @torch.no_grad()
    def affinity(
        self,
        inputs: OpInputs | Tensor,
        queries: Any = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Affinity:
        """Exact weights of the query rows ``queries`` ((t, y, x) cells; ``None`` = all, in chunks).

        ``inputs`` is what :meth:`affinity_inputs` returned (or the block's input tensor itself).
        Rows are computed in chunks so that one chunk of weights stays under ``max_bytes``.
        """
        if isinstance(inputs, Tensor):
            inputs = self.affinity_inputs(inputs)
        q = as_queries(queries, inputs.query_grid)
        flat = flat_index(q, inputs.query_grid)
        nk = math.prod(inputs.key_grid)
        per_row = inputs.batch * self.num_groups(inputs) * nk * 4
        chunk = max(1, max_bytes // max(per_row, 1))
        parts = [self._rows(inputs, flat[i : i + chunk]) for i in range(0, len(flat), chunk)]
        w = torch.cat(parts, dim=2) if parts else torch.zeros(inputs.batch, 1, 0, nk)
        b, g = w.shape[:2]
        return Affinity(
            weights=w.reshape(b, g, len(q), *inputs.key_grid),
            queries=q,
            query_grid=inputs.query_grid,
            key_grid=inputs.key_grid,
            normalized=self.normalized,
            kind=self.kind,
            extras=self.extras(inputs),
        )

    def num_groups(self, inputs: OpInputs) -> int:
        return 1

    def extras(self, inputs: OpInputs) -> dict[str, Tensor]:
        """Extra per-block tensors exposed with an Affinity (BAT: the P and Q matrices)."""
        return {}

    def row_factors(self, inputs: OpInputs) -> RowFactors | None:
        """The small arrays a client computes this block's exact rows from (:mod:`nlviz.ops.factors`), or None when
        a row needs more than such factors (the client then asks for rows one query at a time)."""
        return None


class NonLocalOp(RowSource, nn.Module):
    """Base class of the four operator families (see the module docstring for the contract)."""

    #: the block is the identity map at initialization (the paper's zero-init)
    identity_at_init: bool = True

    def values(self, inputs: OpInputs) -> Tensor:  # pragma: no cover - abstract
        """What the weights multiply: (B, G, Cv, Nk)."""
        raise NotImplementedError

    def aggregate(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        """The block's internal aggregate from its own (fast) forward path: (B, G, Cv, Nq)."""
        raise NotImplementedError


def create(name: str, in_channels: int, **options: Any) -> NonLocalOp:
    """Build a registered operator: ``create("nonlocal", 64, mode="dot_product", dim=3)``.

    An unknown name or option raises a ValueError listing the valid ones.
    """
    cls = OPS.get(name)
    check_options(f"operator {name!r}", options, cls.__init__)
    return cls(in_channels, **options)


def names() -> list[str]:
    return OPS.names()


def validate_choice(what: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise a ValueError naming the bad value and the allowed ones."""
    if value not in allowed:
        raise ValueError(f"{what}={value!r} is not supported; allowed: {list(allowed)}")
