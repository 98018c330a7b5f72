"""KaiyuYue/cgnl-network.pytorch: torchvision-style ResNet-50/101/152 with one block in res4 (CUB-200 and
ImageNet releases), ``{'state_dict': ...}`` with DataParallel's ``module.`` prefix.

The block is inserted *as an element of* ``layer3`` before the last bottleneck (``model/resnet.py``), so it
takes index n−1 and the last bottleneck is renumbered n (R-50: ``layer3.5.{t,p,g,z,gn}`` and ``layer3.6.*``).
We map it to ``layer3.nl{n−2}`` (after residual block n−2) and ``layer3.6`` back to ``layer3.5``.

Variants (``--nl-type`` of the repository; only the file name tells ``cgnl`` from ``cgnlx``, e.g.
``cub-r-50-w-1cgnlx-block.pth.tar``; a ``model_best.pth.tar`` needs ``cgnl:dot`` or ``cgnl:taylor``):

- ``dot`` (``SpatialCGNL``): dot-product kernel, 8 groups, no scale; GroupNorm(8) after the grouped W_z,
  γ=β=0 at init.
- ``taylor`` (``SpatialCGNLx``): gaussian RBF, Taylor order 3, γ = 1e-4, β = exp(−2γ), terms p = 0..3.
- ``nl`` (``SpatialNL``, keys ``t, p, g, z, bn``): embedded gaussian with 1/√C' scale, no subsampling,
  bias-free convs (loaded with zero biases, exact), BN after W_z. Told apart by its keys.

Dropout 0.5 before fc (no effect in eval). Input: ImageNet mean/std on [0, 1]; 224 (ImageNet) or 448 (CUB).
"""

from __future__ import annotations

import re

from torch import nn

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.keymap import StateDict
from nlviz.io.layouts import torchvision
from nlviz.io.layouts.blocks import backbone_state, our_ops
from nlviz.io.layouts.inputs import image_input
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.shapes import image_args
from nlviz.io.layouts.variants import resolve_variant
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.cgnl import CGNL_BLOCK
from nlviz.io.sources.nonlocal_block import SPATIAL_NL

NAME = "cgnl"
VARIANTS = {
    "dot": "SpatialCGNL: dot-product kernel, 8 groups, no scale",
    "taylor": "SpatialCGNLx: gaussian RBF, Taylor order 3, gamma 1e-4, 8 groups",
    "nl": "SpatialNL: embedded gaussian with 1/√C' scale, no subsampling",
}
#: a block's keys in ``layer3`` (group: the index); CGNL and SpatialNL blocks share t, p, g, z
_OP_KEY = rf"layer3\.(\d+)\.(?:{CGNL_BLOCK.pattern()}|{SPATIAL_NL.pattern()})"


def _groups(block: StateDict) -> int:
    """G from the grouped W_z: weight (C, C'/G, 1, 1) with C' = g's output channels."""
    return int(block["g.weight"].shape[0] // block["conv_out.weight"].shape[1])


def _op_index(ckpt: Checkpoint) -> int:
    found = {int(m[1]) for k in ckpt.state if (m := re.fullmatch(_OP_KEY, k))}
    if len(found) != 1:
        raise CheckpointError(
            f"{ckpt.path}: expected one CGNL/NL block in layer3 (keys layer3.N.t/p/g/z), found {sorted(found)}"
        )
    return found.pop()


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    j = _op_index(ckpt)
    state, block = {}, {}
    for key, value in ckpt.state.items():
        m = re.fullmatch(r"layer3\.(\d+)\.(.+)", key)
        if m and int(m[1]) == j:
            block[m[2]] = value
        elif m and int(m[1]) > j:
            state[f"layer3.{int(m[1]) - 1}.{m[2]}"] = value
        else:
            state[key] = value
    kind = "nl" if any(k.startswith("bn.") for k in block) else None
    if kind is None and variant == "nl":
        raise CheckpointError(f"{ckpt.path}: cgnl:nl asked for, but the block has GroupNorm keys (a CGNL block)")
    kernel, kernel_from = resolve_variant(
        NAME,
        variant,
        ckpt,
        from_keys=kind,
        name_hints={"taylor": r"cgnlx|taylor", "dot": r"cgnl(?!x)"},
        choices=["dot", "taylor"],
    )
    state = torchvision.KEYS.to_ours(state, where=f"the {NAME} layout")
    if kernel == "nl":
        ours = SPATIAL_NL.to_ours(block, where=f"operator block layer3.{j} (SpatialNL)")
        op, options = "nonlocal", {"mode": "embedded_gaussian", "dim": 2, "use_scale": True}
    else:
        ours = CGNL_BLOCK.to_ours(block, where=f"operator block layer3.{j}")
        groups = _groups(ours)
        options = {"kernel": "dot_product" if kernel == "dot" else "gaussian", "groups": groups, "dim": 2}
        if kernel == "taylor":
            options.update(order=3, gamma=1e-4)
        op = "cgnl"
    state.update({f"layer3.nl{j - 1}.{k}": v for k, v in ours.items()})
    spec = {"op": op, "stage": 3, "index": j - 1, "options": options}
    card = {
        "variant": kernel,
        "variant_from": kernel_from,
        "conventions": {
            "block": VARIANTS[kernel],
            "scale": "1/√C' before the softmax" if kernel == "nl" else "none (use_scale=False in the released models)",
            "placement": f"layer3 (res4) after residual block {j - 1}, before the last one (checkpoint index "
            f"layer3.{j}; the last bottleneck layer3.{j + 1} is our layer3.{j})",
            "zero_init": "BN after W_z γ=β=0" if kernel == "nl" else "GroupNorm after W_z γ=β=0",
        },
    }
    args = image_args(ckpt, state, dropout=0.5, blocks=[spec])
    card["input"] = image_input(args["num_classes"])
    return Converted("r50_2d", args, state, card)


def export(model: nn.Module) -> StateDict:
    """Our model → the repository's keys (block inserted into ``layer3``, later bottlenecks renumbered)."""
    ops = our_ops(model)
    if len(ops) != 1 or ops[0][0] != 3:
        raise ValueError(
            f"the cgnl layout holds exactly one block in layer3; this model has {[(s, i) for s, i, _ in ops]}"
        )
    _, i, op = ops[0]
    out = {}
    backbone = torchvision.KEYS.to_theirs(backbone_state(model), where=f"the {NAME} layout (export)")
    for key, value in backbone.items():
        m = re.fullmatch(r"layer3\.(\d+)\.(.+)", key)
        out[f"layer3.{int(m[1]) + 1}.{m[2]}" if m and int(m[1]) > i else key] = value
    block = (CGNL_BLOCK if op.family == "cgnl" else SPATIAL_NL).to_theirs(op.state_dict())
    out.update({f"layer3.{i + 1}.{k}": v for k, v in block.items()})
    return out


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="CGNL official ResNet (module.layer3.N.{t,p,g,z,gn} before the renumbered last bottleneck)",
        keys=torchvision.KEYS,
        specific=(_OP_KEY,),
        variants=VARIANTS,
        build=build,
        export=export,
    ),
)
