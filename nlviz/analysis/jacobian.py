"""Jacobian influence row of one query of a block: the fallback for operators without explicit weights.

For the block's output z at query cell i (all C_out channels) and its input x at cell j (all C_in
channels), the influence of j on i is the Frobenius norm of the (C_out, C_in) Jacobian block

    J_ij = ‖∂z_i / ∂x_j‖_F,         z = block(x) − x   when ``subtract_identity`` (and shapes agree)

evaluated at the recorded input: how strongly a small change at j moves the output at i, to first order.
It is not a set of attention weights (not normalized, ``kind="jacobian"``): it covers every operator,
including the non-linear parts an explicit decomposition leaves out (Spatial Bias's BN+ReLU; CGNL's
compact form), and the identity residual is removed by default so the row shows the non-local part.

The block's input comes from captum's ``LayerActivation`` (its hooks live only inside that call); the
gradients from captum's ``Saliency`` on the block alone, one backward per chunk of output channels
(``chunk`` copies of the input in a batch: the block must be in eval mode). Per-frame blocks are taken
with their :class:`~nlviz.models.adapter.PerFrame` wrapper, so the row lies on the video grid.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity, as_queries, grid_of


def _block_module(model: nn.Module, block: str) -> nn.Module:
    from nlviz.models.adapter import PerFrame

    names = [n for n, _ in model.named_modules() if n]
    if block not in names:
        raise ValueError(f"block {block!r} is not a module of this model; modules: {names}")
    parent = block.rpartition(".")[0]
    if parent and isinstance(model.get_submodule(parent), PerFrame):
        return model.get_submodule(parent)
    return model.get_submodule(block)


def jacobian_row(
    model: nn.Module,
    x: Tensor,
    block: str,
    query: Any,
    *,
    subtract_identity: bool = True,
    chunk: int = 16,
    source: Any = None,
) -> Affinity:
    """Influence row (see the module docstring) of ``query`` — a (t, y, x) cell of the block's output grid —
    over the block's input grid. ``x`` is the model input (B = 1); ``source`` an optional clip Geometry."""
    from captum.attr import LayerActivation, Saliency

    module = _block_module(model, block)
    if model.training:
        raise ValueError(
            "the Jacobian row needs the model in eval mode (BatchNorm would mix samples): call model.eval()"
        )
    if x.shape[0] != 1:
        raise ValueError(f"x must be one input (batch 1), got shape {tuple(x.shape)}")
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk={chunk!r} must be a positive number of output channels per backward pass")
    x_in = LayerActivation(model, module).attribute(x, attribute_to_layer_input=True)
    x_in = (x_in[0] if isinstance(x_in, (tuple, list)) else x_in).detach()  # (1, C_in, [T,] H, W)
    with torch.no_grad():
        z = module(x_in)  # (1, C_out, [T,] H', W')
    qgrid, kgrid = grid_of(z), grid_of(x_in)
    q = as_queries(query, qgrid)
    if len(q) != 1:
        raise ValueError(f"jacobian_row takes one query cell, got {len(q)}")
    t, y, xx = q[0].tolist()
    cell = (slice(None), slice(None), t, y, xx) if z.dim() == 5 else (slice(None), slice(None), y, xx)
    residual = subtract_identity and z.shape == x_in.shape

    def at_query(inp: Tensor) -> Tensor:
        out = module(inp)
        return (out - inp if residual else out)[cell]  # (n, C_out)

    grad = Saliency(at_query)
    acc = torch.zeros(x_in.shape[2:], dtype=torch.float64)  # ([T,] H, W)
    for s in range(0, z.shape[1], chunk):
        targets = list(range(s, min(s + chunk, z.shape[1])))
        inp = x_in.expand(len(targets), *x_in.shape[1:]).clone()  # (n, C_in, [T,] H, W)
        g = grad.attribute(inp, target=targets, abs=False)  # (n, C_in, [T,] H, W): ∂z_{i,c}/∂x
        acc += g.detach().cpu().to(torch.float64).square().sum((0, 1))  # float64 on the CPU (mps has none)
    row = acc.sqrt().reshape(kgrid).to(torch.float32)  # (T, H, W)
    size = tuple(x.shape[2:]) if x.dim() == 5 else (1, *x.shape[2:])
    return Affinity(
        weights=row[None, None, None],
        queries=q,
        query_grid=qgrid,
        key_grid=kgrid,
        normalized=False,
        kind="jacobian",
        geometry=AffinityGeometry(GridGeometry(size, qgrid), GridGeometry(size, kgrid), source),
        block=block,
    )
