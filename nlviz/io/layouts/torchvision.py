"""torchvision ResNet-50/101/152 image classifiers (``conv1``, ``bn1``, ``layer{s}.{i}.*``, ``fc``) without
operator blocks: the baselines the CGNL and BAT repositories release next to their models (CGNL "R-50 Base").

Our ``r50_2d`` arch uses these names unchanged, so the layout is an identity map; it is chosen only when no
layout with operator keys matches. Input: RGB in [0, 1], ImageNet mean/std, 224×224 (CUB: 448).
"""

from __future__ import annotations

from torch import nn

from nlviz.io.convert import StateDict
from nlviz.io.layouts.base import BN, Checkpoint, Converted, Layout, backbone_state, image_resnet_depth

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
IMAGENET_INPUT = {
    "shape": [3, 224, 224],
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "channels": "RGB",
}


def image_input(num_classes: int) -> dict:
    """ImageNet normalization; 448×448 for the 200-class CUB-200 models of the CGNL release, else 224×224."""
    return {**IMAGENET_INPUT, "shape": [3, 448, 448] if num_classes == 200 else [3, 224, 224]}


def image_args(ckpt: Checkpoint, state: StateDict, **extra: object) -> dict:
    """``r50_2d`` arguments (depth, classes) read from our-named weights."""
    fc = state.get("fc.weight")
    return {
        "depth": image_resnet_depth(ckpt, state),
        "num_classes": int(fc.shape[0]) if fc is not None else 1000,
        **extra,
    }


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
