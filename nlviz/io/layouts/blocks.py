"""Where operator blocks sit in a whole-model state dict: separating their keys from the backbone's, the block
spec and weights of a converted non-local block, the placement text of a card, and our model's blocks to export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from torch import Tensor, nn

from nlviz.io.keymap import KeyMap, StateDict


def split_ops(sd: Mapping[str, Tensor], pattern: str) -> tuple[StateDict, dict[tuple[int, int], StateDict]]:
    """Separate operator keys: ``pattern`` has groups (stage, index, rest). Returns (other keys, blocks)."""
    rest: StateDict = {}
    blocks: dict[tuple[int, int], StateDict] = {}
    for key, value in sd.items():
        m = re.fullmatch(pattern, key)
        if m:
            blocks.setdefault((int(m[1]), int(m[2])), {})[m[3]] = value
        else:
            rest[key] = value
    return rest, dict(sorted(blocks.items()))


def nonlocal_spec(
    stage: int, index: int, weights: StateDict, options: dict[str, Any]
) -> tuple[dict[str, Any], StateDict]:
    """A converted non-local block after residual block ``index`` of ``layer{stage}``: its block spec
    (``options`` plus ``inter_channels`` when g's output C' is not C/2) and its weights under
    ``layer{stage}.nl{index}.``."""
    c_inner, c = weights["g.weight"].shape[:2]  # g: (C', C, 1, ...)
    if c_inner != c // 2:
        options = {**options, "inter_channels": int(c_inner)}
    spec = {"op": "nonlocal", "stage": stage, "index": index, "options": options}
    return spec, {f"layer{stage}.nl{index}.{k}": v for k, v in weights.items()}


def placement(blocks: list[dict[str, Any]]) -> str:
    """Human-readable placement of operator blocks: 'layer2 (res3) after blocks [1, 3]; ...'."""
    by_stage: dict[int, list[int]] = {}
    for b in blocks:
        by_stage.setdefault(b["stage"], []).append(b["index"])
    parts = [f"layer{s} (res{s + 1}) after residual blocks {sorted(i)}" for s, i in sorted(by_stage.items())]
    return "; ".join(parts) + " (after the block's residual add and ReLU)" if parts else "no operator blocks"


def our_ops(model: nn.Module) -> list[tuple[int, int, nn.Module]]:
    """(stage, index, op) for every operator our insertion named ``layer{s}.nl{i}``."""
    from nlviz.models import operator_blocks

    out = []
    for name, op in operator_blocks(model):
        m = re.fullmatch(r"layer(\d)\.nl(\d+)", name)
        if not m:
            raise ValueError(f"operator {name!r} is not at a layer{{s}}.nl{{i}} position; cannot export it")
        out.append((int(m[1]), int(m[2]), op))
    return out


def backbone_state(model: nn.Module) -> StateDict:
    """Our model's state dict without the operator blocks (``layer{s}.nl{i}.*``)."""
    return {k: v for k, v in model.state_dict().items() if not re.match(r"layer\d\.nl\d+\.", k)}


def export_with_blocks(
    model: nn.Module, keys: KeyMap, layout: str, site: str, block: Callable[[nn.Module], StateDict]
) -> StateDict:
    """Our ResNet in a public layout: the backbone through ``keys``, each ``layer{s}.nl{i}`` through ``block(op)``
    (its key map) under ``site`` (a format of ``s`` our stage, ``res`` = s + 1 and ``i``, e.g. ``"s{res}.nl{i}."``)."""
    out = keys.to_theirs(backbone_state(model), where=f"the {layout} layout (export)")
    for s, i, op in our_ops(model):
        prefix = site.format(s=s, res=s + 1, i=i)
        out.update({prefix + k: v for k, v in block(op).items()})
    return out
