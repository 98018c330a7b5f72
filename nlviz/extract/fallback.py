"""The opt-in fallback of :func:`nlviz.capture` (``fallback=True``): attention that modules nlviz does not know
compute themselves, recorded as they run.

- A softmax over the last axis of a (B, [H,] N_q, N_k) tensor (``torch.softmax``, ``Tensor.softmax``,
  ``F.softmax``) is kept as it is: kind ``"materialized"`` — the module's own weights, whatever they mean.
  Keeping them costs what the module itself costs (an N_q × N_k tensor per call).
- ``F.scaled_dot_product_attention`` never builds its weights (fused kernels); its q and k are kept instead and
  rows are recomputed on demand, softmax(q_i · kᵀ · scale + mask_i) — kind ``"softmax"``, O(N_k·d) per row.

Each call is attributed to the innermost module running when it happens; its block name is that module's
``named_modules()`` name (``name#2``, ``name#3``, ... for further calls in one forward). Calls inside blocks that
capture already records exactly are skipped. Token grids are read from the module's input when it is a
channels-first feature map with N cells, or inferred from the model input when N tiles it evenly; otherwise
they are (1, 1, N) and the rows have no pixel geometry.
"""

from __future__ import annotations

import contextlib
import math
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from nlviz.ops.base import OpInputs, RowSource

_SOFTMAX = {torch.softmax, torch.Tensor.softmax, F.softmax, torch.special.softmax}
COST_WARNING = (
    "nlviz.capture(fallback=True): modules nlviz does not know are recorded from what their forward builds; "
    "a softmax over keys is kept whole (N_q × N_k per call), so this costs what those modules cost"
)


class Materialized(RowSource):
    """Rows of weights a module materialized itself: (B, G, N_q, N_k) kept as recorded."""

    family = "materialized"
    kind = "materialized"

    def __init__(self, normalized: bool) -> None:
        self.normalized = normalized

    def num_groups(self, inputs: OpInputs) -> int:
        return inputs["weights"].shape[1]

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        w = inputs["weights"]
        return w[:, :, flat_queries.to(w.device)]


class AttentionRows(RowSource):
    """Rows of a fused ``scaled_dot_product_attention`` call from its q (B, H, N_q, d) and k (B, H, N_k, d)."""

    family = "attention"
    kind = "softmax"
    normalized = True

    def __init__(self, scale: float, causal: bool) -> None:
        self.scale, self.causal = scale, causal

    def num_groups(self, inputs: OpInputs) -> int:
        return inputs["q"].shape[1]

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        q, k = inputs["q"], inputs["k"]
        idx = flat_queries.to(q.device)
        acc = torch.float64 if q.device.type != "mps" else q.dtype
        logits = torch.einsum("bhqd,bhkd->bhqk", q[:, :, idx].to(acc), k.to(acc)) * self.scale  # (B, H, Q, Nk)
        if "mask" in inputs.tensors:
            m = inputs["mask"][..., idx, :]
            logits = logits.masked_fill(~m, float("-inf")) if m.dtype == torch.bool else logits + m.to(acc)
        if self.causal:
            keys = torch.arange(k.shape[2], device=q.device)
            logits = logits.masked_fill(keys[None, :] > idx[:, None], float("-inf"))
        return logits.softmax(-1).to(q.dtype)


def infer_grid(n: int, like: Tensor | None, input_size: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """The (T, H, W) grid of n tokens: a channels-first input with n cells gives its own; else a grid with the
    model input's strides (T_in/t, H_in/h = W_in/w); else (1, 1, n)."""
    if like is not None and like.dim() in (3, 4, 5) and math.prod(like.shape[2:]) == n:
        s = like.shape[2:]
        return (1, 1, s[0]) if len(s) == 1 else (1, *s) if len(s) == 2 else tuple(s)  # type: ignore[return-value]
    if input_size is not None:
        tin, hin, win = input_size
        for t in (d for d in range(1, tin + 1) if tin % d == 0 and n % d == 0):
            m = n // t
            for h in (d for d in range(1, hin + 1) if m % d == 0):
                w = m // h
                if w <= win and abs(hin / h - win / w) < 1e-9:
                    return (t, h, w)
    return (1, 1, n)


@contextlib.contextmanager
def record_materialized(model: nn.Module, rec: Any, owner: int, skip: list[str]) -> Iterator[None]:
    """Inside: softmax / SDPA calls of ``model``'s modules (not those in ``skip`` blocks) go into ``rec``."""
    from nlviz.extract.capture import BlockRecord

    warnings.warn(COST_WARNING, stacklevel=4)
    stack: list[tuple[str, Any]] = []
    counts: dict[str, int] = {}
    handles = []

    def inside_known(name: str) -> bool:
        return any(name == s or name.startswith(s + ".") for s in skip)

    def push(name: str):
        def pre(_m: nn.Module, args: tuple[Any, ...]) -> None:
            if threading.get_ident() == owner:
                stack.append((name, args[0] if args and isinstance(args[0], Tensor) else None))

        return pre

    def pop(_m: nn.Module, _args: Any, _out: Any) -> None:
        if threading.get_ident() == owner and stack:
            stack.pop()

    def store(source: RowSource, tensors: dict[str, Tensor], nq: int, nk: int) -> None:
        if not stack:
            return
        name, x = stack[-1]
        if inside_known(name):
            return
        counts[name] = counts.get(name, 0) + 1
        key = name if counts[name] == 1 else f"{name}#{counts[name]}"
        qgrid = infer_grid(nq, x, rec.input_size)
        kgrid = qgrid if nk == nq else infer_grid(nk, None, rec.input_size)
        rec._records[key or "(model)"] = BlockRecord(key, source, OpInputs(tensors, qgrid, kgrid), 1, None)

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if threading.get_ident() != owner:
                return out
            if func in _SOFTMAX and isinstance(out, Tensor) and out.dim() in (3, 4):
                dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
                if dim in (-1, out.dim() - 1):
                    w = out.detach()
                    w4 = w if w.dim() == 4 else w.unsqueeze(1)  # (B, G, Nq, Nk)
                    store(Materialized(True), {"weights": w4}, w4.shape[2], w4.shape[3])
            elif func is F.scaled_dot_product_attention:
                q, k = args[0], args[1]
                if q.dim() == 4 and not kwargs.get("dropout_p", 0.0):
                    scale = kwargs.get("scale") or q.shape[-1] ** -0.5
                    tensors = {"q": q.detach(), "k": k.detach()}
                    mask = kwargs.get("attn_mask", args[3] if len(args) > 3 else None)
                    if mask is not None:
                        tensors["mask"] = mask.detach()
                    store(AttentionRows(float(scale), bool(kwargs.get("is_causal"))), tensors, q.shape[2], k.shape[2])
            return out

    try:
        for name, module in model.named_modules():
            if name:
                handles.append(module.register_forward_pre_hook(push(name)))
                handles.append(module.register_forward_hook(pop))
        with Mode():
            yield
    finally:
        for h in handles:
            h.remove()
