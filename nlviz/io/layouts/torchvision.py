"""torchvision ResNet-50/101/152 image classifiers (``conv1``, ``bn1``, ``layer{s}.{i}.*``, ``fc``) without
operator blocks: the baselines the CGNL and BAT repositories release next to their models (CGNL "R-50 Base").

Our ``r50_2d`` arch uses these names unchanged, so the layout is an identity map; it is chosen only when no
layout with operator keys matches. Input: RGB in [0, 1], ImageNet mean/std, 224×224 (CUB: 448).
"""

from __future__ import annotations

from torch import nn

from nlviz.io.convert import StateDict
from nlviz.io.layouts.blocks import backbone_state
from nlviz.io.layouts.inputs import image_input
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.rules import BN
from nlviz.io.layouts.shapes import image_args

NAME = "torchvision"
#: every key of a torchvision ResNet (bottleneck) classifier
PATTERNS = (
    r"conv1\.weight",
    rf"bn1\.{BN}",
    r"layer\d\.\d+\.conv[123]\.weight",
    rf"layer\d\.\d+\.bn[123]\.{BN}",
    r"layer\d\.\d+\.downsample\.0\.weight",
    rf"layer\d\.\d+\.downsample\.1\.{BN}",
    r"fc\.(weight|bias)",
)


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    state = dict(ckpt.state)
    args = image_args(ckpt, state)
    card = {"conventions": {"placement": "no operator blocks (baseline)"}, "input": image_input(args["num_classes"])}
    return Converted("r50_2d", args, state, card)


def export(model: nn.Module) -> StateDict:
    return backbone_state(model)


LAYOUT = Layout(
    name=NAME,
    summary="torchvision ResNet-50/101/152 image classifier without operator blocks",
    patterns=PATTERNS,
    specific=(),
    variants={},
    build=build,
    export=export,
    generic=True,
)
