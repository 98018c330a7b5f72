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
def operands(block: nn.Module, x: Tensor, funcs=_PRODUCTS) -> list[list[Tensor]]:  # noqa: ANN001
    """The tensor arguments of every call of ``funcs`` (default: matmul/bmm/einsum) inside ``block(x)``, in call
    order, each call's tensors in argument order (copies: later in-place ops do not change them)."""
    seen: list[list[Tensor]] = []
    owner = threading.get_ident()

    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            kwargs = kwargs or {}
            if func in funcs and threading.get_ident() == owner:
                seen.append([t.detach().clone() for t in _tensors(list(args)) + _tensors(list(kwargs.values()))])
            return func(*args, **kwargs)

    with Spy():
        block(x)
    return seen


def internal_weights(block: nn.Module, x: Tensor, nq: int, nk: int) -> Tensor:
    """The last (B, [H,] N_q, N_k) tensor that entered a product (matmul/bmm/einsum) inside ``block(x)``: the
    weights the block's own forward multiplies its values with. Returned as (B, H, N_q, N_k)."""
    seen = [t for call in operands(block, x) for t in call if t.dim() in (3, 4) and tuple(t.shape[-2:]) == (nq, nk)]
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
