"""Insert operator blocks into a ResNet by config, and find them again.

A spec ``{"op": "nonlocal", "stage": 2, "index": 0, "options": {...}}`` means: build
``nlviz.ops.create("nonlocal", C, **options)`` with C the channel count of stage 2 and apply it right after
residual block 0 of stage 2, i.e. after that block's residual add and ReLU (the NL paper's convention).
Stages are numbered like torchvision's modules: stage s is ``layer{s}`` (``layer1`` = the paper's res2,
``layer2`` = res3, ``layer3`` = res4, ``layer4`` = res5). Indices count residual blocks from 0.

In a stage the residual blocks keep torchvision's names ``"0"``, ``"1"``, ... and an operator after block i
is called ``"nl{i}"`` (a second one after the same block ``"nl{i}_1"``, ...), so state-dict keys of the
backbone are unchanged by insertion (``layer3.0.conv1.weight``) and the operator is ``layer3.nl4``.

Video networks build operators with ``dim=3`` when the operator supports it; a 2D-only operator (or
``options={"dim": 2}``) is wrapped in :class:`~nlviz.models.adapter.PerFrame` and runs frame by frame.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from nlviz.models.adapter import PerFrame
from nlviz.ops.base import OPS, NonLocalOp, create

SPEC_KEYS = ("op", "stage", "index", "options")


@dataclass(frozen=True)
class BlockSpec:
    """One inserted operator: ``op`` name, ``stage`` (1-based, ``layer{stage}``), ``index`` (residual block
    after which it runs, 0-based) and the operator's ``options``."""

    op: str
    stage: int
    index: int
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: Any, where: str = "blocks[0]") -> BlockSpec:
        """Validate a JSON-style spec dict (keys: op, stage, index, options)."""
        if isinstance(spec, BlockSpec):
            return spec
        if not isinstance(spec, Mapping):
            raise ValueError(f"{where}: a block spec must be a dict with keys {list(SPEC_KEYS)}, got {spec!r}")
        unknown = sorted(set(spec) - set(SPEC_KEYS))
        missing = [k for k in ("op", "stage", "index") if k not in spec]
        if unknown or missing:
            raise ValueError(
                f"{where} = {dict(spec)}: unknown key(s) {unknown}, missing key(s) {missing}; "
                f"valid keys: {list(SPEC_KEYS)} (options is optional)"
            )
        op, stage, index, options = spec["op"], spec["stage"], spec["index"], spec.get("options", {})
        if not isinstance(op, str):
            raise ValueError(f"{where}: op must be an operator name (str), got {op!r}")
        OPS.get(op)  # unknown operator → ValueError listing the registered ones
        for key, value in (("stage", stage), ("index", index)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where}: {key} must be an int, got {value!r}")
        if not isinstance(options, Mapping):
            raise ValueError(f"{where}: options must be a dict of operator options, got {options!r}")
        return cls(op=op, stage=stage, index=index, options=dict(options))

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "stage": self.stage, "index": self.index, "options": dict(self.options)}


def parse_blocks(specs: Sequence[Any], depths: Sequence[int]) -> list[BlockSpec]:
    """Parse and check every spec against the model's stages (``depths[s-1]`` residual blocks in stage s).

    Raises a ValueError naming the bad spec, the stage/index asked for and what exists.
    """
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence):
        raise ValueError(f"blocks must be a list of block specs (dicts), got {specs!r}")
    layout = ", ".join(f"layer{s + 1}: {d}" for s, d in enumerate(depths))
    out = []
    for k, raw in enumerate(specs):
        spec = BlockSpec.parse(raw, f"blocks[{k}]")
        if not 1 <= spec.stage <= len(depths):
            raise ValueError(
                f"blocks[{k}]: stage {spec.stage} does not exist; this model has stages 1..{len(depths)} "
                f"(residual blocks per stage: {layout})"
            )
        n = depths[spec.stage - 1]
        if not 0 <= spec.index < n:
            raise ValueError(
                f"blocks[{k}]: stage {spec.stage} (layer{spec.stage}) has {n} residual block(s), so index "
                f"must be in 0..{n - 1}; got index={spec.index}"
            )
        out.append(spec)
    return out


def make_operator(spec: BlockSpec, channels: int, video: bool) -> nn.Module:
    """Build the operator of ``spec`` for a feature map with ``channels`` channels.

    Image networks: ``dim=2`` (when the operator has a ``dim`` option). Video networks: ``dim=3`` when the
    operator supports it, else the 2D operator inside :class:`PerFrame`. ``options["dim"]`` overrides: 2 in a
    video network means per frame.
    """
    cls = OPS.get(spec.op)
    options = dict(spec.options)
    has_dim = "dim" in inspect.signature(cls.__init__).parameters
    asked = options.pop("dim", None)
    if not video:
        if asked not in (None, 2):
            raise ValueError(f"operator {spec.op!r} in an image network needs dim=2, got dim={asked!r}")
        return create(spec.op, channels, **options, **({"dim": 2} if has_dim else {}))
    if asked not in (None, 2, 3):
        raise ValueError(f"operator {spec.op!r} in a video network: dim={asked!r}; use 3 (spacetime) or 2 (per frame)")
    if asked == 3:
        return create(spec.op, channels, **options, dim=3)
    if asked is None and has_dim:
        op = _try_3d(cls, spec.op, channels, options)
        if op is not None:
            return op
    return PerFrame(create(spec.op, channels, **options, **({"dim": 2} if has_dim else {})))


def _try_3d(cls: type, name: str, channels: int, options: dict[str, Any]) -> nn.Module | None:
    """The operator built with ``dim=3``, or None when it is 2D only.

    An operator may declare its supported dims as a class attribute ``dims``; otherwise a ValueError about
    ``dim`` from its constructor means "2D only" (any other error propagates).
    """
    dims = getattr(cls, "dims", None)
    if dims is not None and 3 not in dims:
        return None
    try:
        return create(name, channels, **options, dim=3)
    except ValueError as err:
        if dims is None and "dim" in str(err):
            return None
        raise


class Stage(nn.Module):
    """One ResNet stage: residual blocks ``"0".."n-1"`` and inserted operators ``"nl{i}"``, registered (and run)
    in forward order. ``stage[i]`` is residual block i; ``len(stage)`` counts residual blocks only."""

    def __init__(self, blocks: Sequence[nn.Module], operators: Mapping[int, Sequence[nn.Module]] | None = None):
        super().__init__()
        operators = operators or {}
        self.num_blocks = len(blocks)
        for i, block in enumerate(blocks):
            self.add_module(str(i), block)
            for k, op in enumerate(operators.get(i, ())):
                self.add_module(f"nl{i}" if k == 0 else f"nl{i}_{k}", op)

    def forward(self, x: Tensor) -> Tensor:
        for module in self.children():
            x = module(x)
        return x

    def __getitem__(self, index: int) -> nn.Module:
        if not 0 <= index < self.num_blocks:
            raise IndexError(f"residual block {index} out of range: this stage has {self.num_blocks}")
        return getattr(self, str(index))

    def __len__(self) -> int:
        return self.num_blocks


def build_stages(
    blocks: Sequence[Sequence[nn.Module]], channels: Sequence[int], specs: Sequence[BlockSpec], video: bool
) -> list[Stage]:
    """Assemble stages from their residual blocks, inserting the operators of ``specs`` (already checked)."""
    per_stage: list[dict[int, list[nn.Module]]] = [{} for _ in blocks]
    for spec in specs:
        op = make_operator(spec, channels[spec.stage - 1], video)
        per_stage[spec.stage - 1].setdefault(spec.index, []).append(op)
    return [Stage(b, ops) for b, ops in zip(blocks, per_stage)]


def operator_blocks(model: nn.Module) -> list[tuple[str, NonLocalOp]]:
    """The operator modules of ``model`` as (module name, module), in forward order.

    Any :class:`~nlviz.ops.base.NonLocalOp` counts, including one inside a :class:`PerFrame` adapter (its name
    then ends in ``.op``); an operator nested inside another operator is not listed separately. Order is
    module registration order, which the builders here make equal to forward order.
    """
    found: list[tuple[str, NonLocalOp]] = []
    for name, module in model.named_modules():
        if isinstance(module, NonLocalOp) and not any(name.startswith(f"{p}.") for p, _ in found):
            found.append((name, module))
    return found
