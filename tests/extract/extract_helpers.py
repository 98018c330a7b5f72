"""Helpers for the capture tests: the weights a block builds inside its own forward (the oracle rows must
equal), and every row nlviz.capture records for a block."""

from __future__ import annotations

import threading
from typing import Any

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


def wrapped(block: nn.Module) -> nn.Sequential:
    """``block`` as module ``"1"`` of a small model (an identity first), in eval mode."""
    return nn.Sequential(nn.Identity(), block).eval()


def assert_rows_exact(block: nn.Module, x: Tensor, *, atol: float = 1e-5) -> float:
    """Every row nlviz.capture records for ``block`` (inside :func:`wrapped`) equals the weights its own forward
    builds, to ``atol``; and the block's output rebuilt from those rows by ``check_declaration`` equals its
    forward (relative to the output's size). Returns the largest absolute row error (printed, for reports)."""
    from nlviz.extract import check_declaration

    rows = captured_rows(wrapped(block), x, "1")  # (B, 1, Nq, Nk)
    ref = internal_weights(block, x, rows.shape[2], rows.shape[3])
    assert rows.shape == ref.shape, (tuple(rows.shape), tuple(ref.shape))
    err = float((rows - ref).abs().max())
    assert err <= atol, f"{type(block).__qualname__}: rows differ from the block's own weights by {err:.3g}"
    assert rows.abs().sum() > 0
    with torch.no_grad():
        scale = float(block(x).abs().max())
    out = check_declaration(block, x) / scale
    assert out <= atol, f"{type(block).__qualname__}: output rebuilt from the rows differs by {out:.3g} (relative)"
    print(f"rows-error {type(block).__module__}.{type(block).__qualname__} {err:.3g} output {out:.3g}")
    return err


def assert_recorded(model: nn.Module, x: Tensor, name: str, *, kind: str, grids: tuple) -> Any:
    """``model(x)`` under capture records exactly one block, ``name`` — its ``named_modules()`` name — with this
    Affinity ``kind`` (normalized iff softmax) and (query grid, key grid); the last query's weights have the key
    grid's shape. Returns the Recording."""
    import nlviz

    with torch.no_grad(), nlviz.capture(model) as rec:
        model(x)
    assert rec.blocks == [name] and name in dict(model.named_modules()), (rec.blocks, name)
    assert rec.grids(name) == grids, rec.grids(name)
    aff = rec.affinity(name, [tuple(n - 1 for n in grids[0])])
    assert aff.kind == kind and aff.normalized == (kind == "softmax"), (aff.kind, aff.normalized)
    assert aff.weights.shape == (x.shape[0], 1, 1, *grids[1])
    return rec
