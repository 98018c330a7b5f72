"""``nlviz.capture(model)``: record what each operator block needs to recompute its weights.

    with nlviz.capture(model, clip=clip) as rec:
        logits = model(x)
    aff = rec.affinity(rec.blocks[0], queries=[(0, 7, 7)])     # lazy: O(N·C) per query row

The blocks are found in the model as it is (:func:`nlviz.extract.blocks.find_blocks`): nlviz's own operators,
the foreign classes nlviz knows (mmcv, pytorchvideo, timm, SlowFast, AlexHex7, the official CGNL, BAT and
Spatial Bias code: :mod:`nlviz.extract.adapters`) and classes declared by their roles
(:func:`nlviz.extract.declare`). ``rec.blocks`` are their ``named_modules()`` names in the order they ran.
A model with none of them is an error that lists what nlviz knows and how to declare a block, unless
``fallback=True`` (:mod:`nlviz.extract.fallback`: record the attention weights modules build themselves).

Hooks exist only inside the ``with`` and are removed on every exit path (normal, a forward that raises, an
exception in the body). A hook records only calls made by the thread that opened the capture, so several
captures on one shared model in different threads never see each other's tensors. What is recorded per
block is its ``affinity_inputs`` (θ, φ, g, P/Q, ...), detached — never an N×N matrix. Rows are computed on
the device the block ran on and returned on the CPU.

Blocks run per frame inside a video net (:class:`nlviz.models.adapter.PerFrame`) are presented on the video's
(T, H, W) grid: their rows are non-zero only in the query's own frame.

``capture(model, features=True)`` also keeps each block's input and output feature maps (O(N·C) each, never
N×N), read per query cell with :meth:`Recording.features` (what GCNet's input/output distances compare).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from nlviz.extract.blocks import find_blocks, no_blocks_message
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import DEFAULT_MAX_BYTES, Affinity, OpInputs, RowSource, as_queries


@dataclass
class BlockRecord:
    """One recorded block: its name, the row source (``op``: the nlviz operator or the adapter of a foreign
    block), what it recorded, and ``frames`` > 1 when it ran per frame (T folded into its batch, b·T + t)."""

    name: str
    op: RowSource
    inputs: OpInputs
    frames: int
    module: nn.Module | None = None
    #: with ``capture(features=True)``: the block's ``input`` and ``output`` tensors as it saw them (detached)
    maps: dict[str, Tensor] | None = None


class Recording:
    """What one ``capture`` saw: per block (module name, forward order) the operator's recorded inputs."""

    def __init__(self, model: nn.Module, source: Any = None) -> None:
        self.model = model
        self.source = source  # the clip's nlviz.data.Geometry, if given
        self.input_size: tuple[int, int, int] | None = None
        self._records: dict[str, BlockRecord] = {}

    @property
    def blocks(self) -> list[str]:
        """Operator block names in the order they ran."""
        return list(self._records)

    def record(self, block: str) -> BlockRecord:
        try:
            return self._records[block]
        except KeyError:
            ran = ", ".join(self._records) or "(none ran: call the model inside the with-block)"
            raise ValueError(f"block {block!r} was not recorded; recorded blocks: {ran}") from None

    def grids(self, block: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(query grid, key grid) of a block, as (T, H, W) on the video for per-frame blocks."""
        r = self.record(block)
        qg, kg = r.inputs.query_grid, r.inputs.key_grid
        if r.frames > 1:
            qg, kg = (r.frames, *qg[1:]), (r.frames, *kg[1:])
        return qg, kg

    def geometry(self, block: str) -> AffinityGeometry | None:
        """Cell ↔ input-pixel geometry of a block (None without a recorded model input, or when the block's
        grid does not tile the input, e.g. token sequences recorded by the fallback)."""
        if self.input_size is None:
            return None
        qg, kg = self.grids(block)
        try:
            return AffinityGeometry(GridGeometry(self.input_size, qg), GridGeometry(self.input_size, kg), self.source)
        except ValueError:
            return None

    def affinity(self, block: str, queries: Any = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Affinity:
        """Exact weights of ``queries`` ((t, y, x) cells of the block's query grid; None = all, chunked)."""
        r = self.record(block)
        qgrid, kgrid = self.grids(block)
        q = as_queries(queries, qgrid)
        if r.frames == 1:
            aff = r.op.affinity(r.inputs, q, max_bytes=max_bytes)
        else:
            aff = self._per_frame(r, q, qgrid, kgrid, max_bytes)
        extras = {k: v.cpu() for k, v in aff.extras.items()}
        return replace(aff, weights=aff.weights.cpu(), extras=extras, block=block, geometry=self.geometry(block))

    def features(self, block: str, queries: Any) -> dict[str, Tensor | None]:
        """The block's ``input`` and ``output`` feature vectors at ``queries`` ((t, y, x) cells of its query grid):
        name → (B, Q, C) float tensors on the CPU, or None when that map does not lie on the query grid (a block
        whose output changes resolution). Needs ``capture(..., features=True)``."""
        r = self.record(block)
        if r.maps is None:
            raise ValueError(f"block {block!r} was recorded without its feature maps: use capture(..., features=True)")
        qgrid, _ = self.grids(block)
        q = as_queries(queries, qgrid)
        out: dict[str, Tensor | None] = {}
        for name, x in r.maps.items():
            v = _on_grid(x, r.frames)  # (B, C, T, H, W) or None
            if v is None or tuple(v.shape[2:]) != tuple(qgrid):
                out[name] = None
                continue
            out[name] = v[:, :, q[:, 0], q[:, 1], q[:, 2]].transpose(1, 2).detach().cpu()  # (B, Q, C)
        return out

    def _per_frame(self, r: BlockRecord, q: Tensor, qgrid: Any, kgrid: Any, max_bytes: int) -> Affinity:
        """Rows of a per-frame op on the video grid: the op's rows in the query's frame, zero elsewhere."""
        t = r.frames
        spatial, inverse = torch.unique(q[:, 1:], dim=0, return_inverse=True)
        cells = torch.cat([torch.zeros(len(spatial), 1, dtype=torch.long), spatial], 1)
        inner = r.op.affinity(r.inputs, cells, max_bytes=max_bytes)  # (B·T, G, S, 1, Hk, Wk)
        bt, g = inner.weights.shape[:2]
        per = inner.weights[:, :, :, 0].reshape(bt // t, t, g, len(spatial), *kgrid[1:])  # (B, T, G, S, Hk, Wk)
        w = per.new_zeros(bt // t, g, len(q), *kgrid)  # (B, G, Q, T, Hk, Wk)
        for i, (tq, s) in enumerate(zip(q[:, 0].tolist(), inverse.tolist())):
            w[:, :, i, tq] = per[:, tq, :, s]
        # per-frame extras (B·T, G, ...) → (B, G, T, ...): the layout of a 3D block's extras
        extras = {
            k: v.reshape(bt // t, t, *v.shape[1:]).transpose(1, 2)
            for k, v in inner.extras.items()
            if v.shape[0] == bt and v.dim() >= 2
        }
        return replace(inner, weights=w, queries=q, query_grid=qgrid, key_grid=kgrid, extras=extras)


def _on_grid(x: Tensor, frames: int) -> Tensor | None:
    """A recorded feature map as (B, C, T, H, W): per-frame maps (B·T, C, H, W) unfolded, images (B, C, H, W) and
    sequences (B, C, L) given unit axes; None for anything else."""
    if frames > 1 and x.dim() == 4 and x.shape[0] % frames == 0:
        return x.reshape(x.shape[0] // frames, frames, *x.shape[1:]).transpose(1, 2)  # (B, C, T, H, W)
    if x.dim() == 5:
        return x
    if x.dim() == 4:
        return x[:, :, None]
    if x.dim() == 3:
        return x[:, :, None, None]
    return None


def _first_tensor(out: Any) -> Tensor | None:
    """A module's output tensor (the first one of a tuple/list output)."""
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        return next((o for o in out if isinstance(o, Tensor)), None)
    return None


@contextlib.contextmanager
def _buffers_kept(module: nn.Module) -> Iterator[None]:
    """Recomputing a block's inputs runs its BatchNorm layers once more; in training mode that would update their
    running statistics a second time. Their buffers are put back afterwards, so capture leaves the model as the
    forward alone would."""
    if not any(m.training for m in module.modules()):
        yield
        return
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)


def block_names(model: nn.Module) -> list[str]:
    """The module names of the operator blocks :func:`capture` records in ``model`` (module order)."""
    return [f.name for f in find_blocks(model, warn=False)]


@contextlib.contextmanager
def capture(
    model: nn.Module,
    *,
    blocks: list[str] | None = None,
    clip: Any = None,
    fallback: bool = False,
    features: bool = False,
) -> Iterator[Recording]:
    """Record the operator blocks of ``model`` while inside the ``with`` (see the module docstring).

    Args:
        blocks: record only these module names (default: every block found).
        clip: an ``nlviz.data.Clip`` (or its ``Geometry``), so affinities map cells to source frames and pixels.
        fallback: also record attention that modules nlviz does not know build themselves (softmax over keys,
            ``F.scaled_dot_product_attention``) as they run (:mod:`nlviz.extract.fallback`; it costs what the
            modules themselves cost, and warns so).
        features: also keep each block's input and output feature maps (:meth:`Recording.features`).
    """
    found = find_blocks(model)
    if blocks is not None:
        known = [f.name for f in found]
        unknown = sorted(set(blocks) - set(known))
        if unknown:
            raise ValueError(f"unknown block(s) {unknown}; operator blocks of this model: {known}")
        found = [f for f in found if f.name in blocks]
    elif not found and not fallback:
        raise ValueError(no_blocks_message(model))
    rec = Recording(model, getattr(clip, "geometry", clip))
    owner = threading.get_ident()
    handles = []

    def on_model(_mod: nn.Module, args: tuple[Any, ...]) -> None:
        if threading.get_ident() == owner and args and isinstance(args[0], Tensor) and rec.input_size is None:
            x = args[0]
            rec.input_size = tuple(x.shape[2:]) if x.dim() == 5 else (1, *x.shape[-2:])  # type: ignore[assignment]

    def make_hook(name: str, source: RowSource, module: nn.Module, per_frame: bool):
        def hook(_mod: nn.Module, args: tuple[Any, ...]) -> None:
            if threading.get_ident() != owner:
                return
            x = args[0].detach()
            with torch.no_grad(), _buffers_kept(module):
                inputs = source.affinity_inputs(x)
            frames = rec.input_size[0] if per_frame and rec.input_size else 1
            if per_frame and x.shape[0] % max(frames, 1):
                frames = 1
            rec._records[name] = BlockRecord(name, source, inputs, frames, module, {"input": x} if features else None)

        return hook

    def make_output_hook(name: str):
        def hook(_mod: nn.Module, _args: tuple[Any, ...], output: Any) -> None:
            r = rec._records.get(name)
            y = _first_tensor(output)
            if threading.get_ident() == owner and r is not None and r.maps is not None and y is not None:
                r.maps["output"] = y.detach()

        return hook

    with contextlib.ExitStack() as stack:
        try:
            handles.append(model.register_forward_pre_hook(on_model))
            for f in found:
                handles.append(f.module.register_forward_pre_hook(make_hook(f.name, f.source, f.module, f.per_frame)))
                if features:
                    handles.append(f.module.register_forward_hook(make_output_hook(f.name)))
            if fallback:
                from nlviz.extract.fallback import record_materialized

                stack.enter_context(record_materialized(model, rec, owner, skip=[f.name for f in found]))
            yield rec
        finally:
            for h in handles:
                h.remove()
