"""BA-Transform/BAT-Image-Classification: ``nlnet50/101/152`` with BAT blocks (ImageNet release,
``main.py -a nlnet50 --nltype bat --nl_mod 2 2 1000``), ``{'state_dict': ...}`` with ``module.``.

``model_zoo/nlnet.py`` names blocks ``layer{s}.{i}`` and inserts ``layer{s}.nl{i}`` after block i when
``i % nl_mod == nl_mod − 1`` — our insertion names exactly (R-50: ``layer2.nl{1,3}``, ``layer3.nl{1,3,5}``).
Block keys (``model_zoo/non_local.py`` ``BATBlock``): ``conv1.{0,1}`` (conv with bias + BN),
``batransform.conv1.{0,1}``, ``batransform.conv_{p,q}``, ``batransform.conv2.{0,1}``, ``conv2.{0,1}``.

Conventions: C_l = C/2 (``r=2``), k groups and block size s read from ``conv_p`` (k·s·s, k, s, 1) (release:
k=4, s=7: H and W of res3/res4 must be multiples of 7, i.e. 224-pixel inputs); sigmoid, then rows of P and
columns of Q normalized to sum 1; P̃ = P ⊗ I (Kronecker upsampling); every 1×1 conv has a bias;
Dropout2d(0.2) on the branch (no effect in eval); BN γ=1 at init, so the block is not the identity at start.
The ``nl`` blocks of the same repository (``--nltype nl``: ``t, p, g, z`` with biases + ``bn``; embedded
gaussian with 1/√C', no subsampling) load too, told apart by their keys. Input: ImageNet mean/std, 224.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from nlviz.io.keymap import StateDict
from nlviz.io.layouts import torchvision
from nlviz.io.layouts.blocks import export_with_blocks, placement, split_ops
from nlviz.io.layouts.inputs import IMAGENET_INPUT
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.shapes import image_args
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.bat import BAT_BLOCK
from nlviz.io.sources.nonlocal_block import BAT_NL

NAME = "bat"
_OP_KEY = r"layer(\d)\.nl(\d+)\.(.+)"


def block_spec(block: StateDict, where: str = "BATBlock") -> tuple[str, dict[str, Any], StateDict]:
    """(op name, options, our weights) of one block: a BATBlock or the repository's NonLocal."""
    if "t.weight" in block:
        options = {"mode": "embedded_gaussian", "dim": 2, "use_scale": True}
        return "nonlocal", options, BAT_NL.to_ours(block, where=f"operator block {where}")
    ours = BAT_BLOCK.to_ours(block, where=f"operator block {where}")
    k, s = ours["conv_p.weight"].shape[1], ours["conv_p.weight"].shape[2]
    c_l, c = ours["reduce.conv.weight"].shape[:2]
    options = {"block_size": int(s), "groups": int(k), "normalize": "sigmoid", "bias": True, "dropout": 0.2, "dim": 2}
    if c_l != c // 2:
        options["reduced_channels"] = int(c_l)
    return "bat", options, ours


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    rest, blocks = split_ops(ckpt.state, _OP_KEY)
    state, specs = torchvision.KEYS.to_ours(rest, where=f"the {NAME} layout"), []
    for (s, i), block in blocks.items():
        op, options, ours = block_spec(block, f"layer{s}.nl{i}")
        specs.append({"op": op, "stage": s, "index": i, "options": options})
        state.update({f"layer{s}.nl{i}.{k}": v for k, v in ours.items()})
    kinds = sorted({spec["op"] for spec in specs})
    first = next((spec["options"] for spec in specs if spec["op"] == "bat"), {})
    card = {
        "conventions": {
            "blocks": kinds,
            "transform": f"BA-Transform, k={first.get('groups')} groups, s={first.get('block_size')}, sigmoid then "
            "rows of P / columns of Q sum to 1, Kronecker upsampling"
            if first
            else "non-local (embedded gaussian)",
            "scale": "none" if "nonlocal" not in kinds else "1/√C' before the softmax (nl blocks)",
            "placement": placement(specs),
            "zero_init": "none: BN γ=1 at init (BATBlock.init_modules); not the identity at start",
            "bias": "every 1×1 conv has a bias",
        },
        "input": IMAGENET_INPUT,
    }
    return Converted("r50_2d", image_args(ckpt, state, blocks=specs), state, card)


def export(model: nn.Module) -> StateDict:
    """Our model → the repository's keys (``layer{s}.nl{i}`` as ours; BATBlock or NonLocal names inside)."""
    return export_with_blocks(
        model,
        torchvision.KEYS,
        NAME,
        "layer{s}.nl{i}.",
        lambda op: (BAT_BLOCK if op.family == "bat" else BAT_NL).to_theirs(op.state_dict()),
    )


_SPECIFIC = (rf"layer\d\.nl\d+\.(?:{BAT_BLOCK.pattern()}|{BAT_NL.pattern()})",)
LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="BAT official image ResNet (nlnet50/101/152: layer{s}.nl{i}.{conv1,batransform,conv2})",
        keys=torchvision.KEYS,
        specific=_SPECIFIC,
        variants={},
        build=build,
        export=export,
    ),
)
