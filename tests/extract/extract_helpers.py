"""Helpers for the capture tests: the weights a block builds inside its own forward (the oracle rows must
equal), and every row nlviz.capture records for a block."""

from __future__ import annotations

import threading

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

_PRODUCTS = {torch.matmul, torch.bmm, torch.einsum, torch.Tensor.matmul, torch.Tensor.__matmul__}


def _tensors(obj) -> list[Tensor]:
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    return []


@torch.no_grad()
def internal_weights(block: nn.Module, x: Tensor, nq: int, nk: int) -> Tensor:
    """The last (B, [H,] N_q, N_k) tensor that entered a product (matmul/bmm/einsum) inside ``block(x)``: the
    weights the block's own forward multiplies its values with. Returned as (B, H, N_q, N_k)."""
    seen: list[Tensor] = []
    owner = threading.get_ident()

    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            kwargs = kwargs or {}
            if func in _PRODUCTS and threading.get_ident() == owner:
                for t in _tensors(args) + _tensors(list(kwargs.values())):
                    if t.dim() in (3, 4) and tuple(t.shape[-2:]) == (nq, nk):
                        seen.append(t.detach().clone())
            return func(*args, **kwargs)

    with Spy():
        block(x)
    if not seen:
        raise AssertionError(f"no ({nq}, {nk}) weights entered a product inside {type(block).__name__}")
    w = seen[-1]
    return w if w.dim() == 4 else w.unsqueeze(1)


def captured_rows(model: nn.Module, x: Tensor, block: str) -> Tensor:
    """Every row of ``block`` recorded by nlviz.capture while running ``model(x)``: (B, G, N_q, N_k)."""
    import nlviz

    with torch.no_grad(), nlviz.capture(model) as rec:
        model(x)
    assert block in rec.blocks, rec.blocks
    return rec.affinity(block).rows()
