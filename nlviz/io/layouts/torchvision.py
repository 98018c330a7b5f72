"""torchvision ResNet-50/101/152 image classifiers (``conv1``, ``bn1``, ``layer{s}.{i}.*``, ``fc``) without
operator blocks: the baselines the CGNL and BAT repositories release next to their models (CGNL "R-50 Base").

Our ``r50_2d`` arch uses these names unchanged, so the key map is the identity (the CGNL and BAT layouts share it
for their backbones); the layout is chosen only when no layout with operator keys matches. Input: RGB in [0, 1],
ImageNet mean/std, 224×224 (CUB: 448).
"""

from __future__ import annotations

from torch import nn

from nlviz.io.keymap import KeyMap, StateDict, same
from nlviz.io.layouts.blocks import backbone_state
from nlviz.io.layouts.inputs import image_input
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.shapes import image_args
from nlviz.io.registries import LAYOUTS

NAME = "torchvision"
#: every key of a torchvision ResNet (bottleneck) classifier
KEYS = KeyMap(
    NAME,
    same(
        "conv1.weight",
        "bn1.<bn>",
        "layer<d>.<i>.conv<1|2|3>.weight",
        "layer<d>.<i>.bn<1|2|3>.<bn>",
        "layer<d>.<i>.downsample.0.weight",
        "layer<d>.<i>.downsample.1.<bn>",
        "fc.<p>",
    ),
)


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    state = KEYS.to_ours(ckpt.state, where=f"the {NAME} layout")
    args = image_args(ckpt, state)
    card = {"conventions": {"placement": "no operator blocks (baseline)"}, "input": image_input(args["num_classes"])}
    return Converted("r50_2d", args, state, card)


def export(model: nn.Module) -> StateDict:
    return KEYS.to_theirs(backbone_state(model), where=f"the {NAME} layout (export)")


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="torchvision ResNet-50/101/152 image classifier without operator blocks",
        keys=KEYS,
        specific=(),
        variants={},
        build=build,
        export=export,
        generic=True,
    ),
)
