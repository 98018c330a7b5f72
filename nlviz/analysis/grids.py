"""Moving maps between grids that tile the same model input (feature grids, key grids, the pixel grid).

Two grids over one input of size (T_in, H_in, W_in) relate through the input pixels their cells cover
(:class:`nlviz.extract.GridGeometry`: cell i of an axis with n cells covers ``[i·L/n, (i+1)·L/n)``). The
overlap of cell a of one grid with cell b of the other is separable over (t, y, x), so every mapping here
is three small per-axis matrices applied with one einsum — never an (N_a, N_b) matrix:

- :func:`spread`: move *mass* from grid a to grid b (each a-cell's mass is split over the b-cells it
  overlaps, in proportion to the overlap): totals are preserved. Used to lift subsampled keys to the block's
  grid and to chain blocks in rollout.
- :func:`average`: a *value* map on grid a → its mean over each b-cell's pixels. Used to bring pixel-level
  maps (masks, attributions) to a key grid, and a coarse map up to pixels (piecewise constant).
"""

from __future__ import annotations

import torch
from torch import Tensor

Grid = tuple[int, int, int]


def overlap_1d(length: int, n_a: int, n_b: int) -> Tensor:
    """(n_a, n_b) float64: overlap, in input units, of cell i of an n_a-cell tiling of ``[0, length)`` with
    cell j of an n_b-cell tiling. Rows sum to ``length / n_a``, columns to ``length / n_b``."""
    for n in (n_a, n_b):
        if not 1 <= n <= length:
            raise ValueError(f"a grid axis of {n} cells cannot tile an input axis of length {length}")
    ea = torch.arange(n_a + 1, dtype=torch.float64) * (length / n_a)  # (n_a + 1,) cell edges
    eb = torch.arange(n_b + 1, dtype=torch.float64) * (length / n_b)  # (n_b + 1,)
    lo = torch.maximum(ea[:-1, None], eb[None, :-1])  # (n_a, n_b)
    hi = torch.minimum(ea[1:, None], eb[None, 1:])  # (n_a, n_b)
    return (hi - lo).clamp_min(0)


def _check(input_size: Grid, grid: Grid, what: str) -> None:
    if len(grid) != 3 or any(not 1 <= g <= n for g, n in zip(grid, input_size)):
        raise ValueError(f"{what} grid {grid} cannot tile the model input (T, H, W)={input_size}")


def spread_matrices(input_size: Grid, grid_a: Grid, grid_b: Grid) -> tuple[Tensor, Tensor, Tensor]:
    """Per-axis (n_a, n_b) matrices whose rows sum to 1: the share of an a-cell that falls in each b-cell."""
    return _overlaps(input_size, grid_a, grid_b, normalize_dim=1)


def average_matrices(input_size: Grid, grid_a: Grid, grid_b: Grid) -> tuple[Tensor, Tensor, Tensor]:
    """Per-axis (n_a, n_b) matrices whose columns sum to 1: a b-cell's mean over the a-cells it overlaps."""
    return _overlaps(input_size, grid_a, grid_b, normalize_dim=0)


def _overlaps(input_size: Grid, grid_a: Grid, grid_b: Grid, normalize_dim: int) -> tuple[Tensor, Tensor, Tensor]:
    """Per-axis overlap matrices (n_a, n_b) of the two grids, normalized to sum to 1 along ``normalize_dim``."""
    _check(input_size, grid_a, "source")
    _check(input_size, grid_b, "target")
    mats = [overlap_1d(n, a, b) for n, a, b in zip(input_size, grid_a, grid_b)]  # (a, b) each
    t, h, w = (m / m.sum(normalize_dim, keepdim=True) for m in mats)
    return t, h, w


def apply_axes(x: Tensor, mats: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """(..., Ta, Ha, Wa) → (..., Tb, Hb, Wb) through per-axis (a, b) matrices."""
    mt, my, mx = (m.to(x.dtype) for m in mats)
    if x.shape[-3:] != (mt.shape[0], my.shape[0], mx.shape[0]):
        raise ValueError(
            f"map of shape {tuple(x.shape)} does not end in the grid {(mt.shape[0], my.shape[0], mx.shape[0])}"
        )
    return torch.einsum("...thw,ta,hb,wc->...abc", x, mt, my, mx)


def spread(x: Tensor, input_size: Grid, grid_a: Grid, grid_b: Grid) -> Tensor:
    """Mass map (..., *grid_a) → (..., *grid_b), totals preserved (see the module docstring)."""
    if tuple(grid_a) == tuple(grid_b):
        return x
    return apply_axes(x, spread_matrices(input_size, grid_a, grid_b))


def average(x: Tensor, input_size: Grid, grid_a: Grid, grid_b: Grid) -> Tensor:
    """Value map (..., *grid_a) → (..., *grid_b): each b-cell gets the overlap-weighted mean of a."""
    if tuple(grid_a) == tuple(grid_b):
        return x
    return apply_axes(x, average_matrices(input_size, grid_a, grid_b))
