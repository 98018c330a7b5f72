"""Backbones, the model registry and operator insertion.

``build_model(arch, **args)`` builds any registered arch (``ARCHS.names()``); ``arch_spec(model)`` is what a
checkpoint card stores; ``operator_blocks(model)`` lists the inserted operators in forward order.
Every model has ``forward(x) -> logits`` and ``forward_features(x) -> last feature map``.
"""

from nlviz.models.adapter import PerFrame, is_per_frame
from nlviz.models.insert import BlockSpec, Stage, operator_blocks
from nlviz.models.registry import ARCHS, Arch, arch_spec, build_model, from_spec, register_arch
from nlviz.models.resnet50 import paper_placement

_VIDEO, _TINY, _R50 = (2, 3, 8, 32, 32), "nlviz.models.tiny", "nlviz.models.resnet50"

# name, summary, task, example input shape, module, model class, config dataclass (None: keyword arguments)
_BUILTIN = [
    ("tiny_c2d", "tiny C2D video ResNet (1×3×3 convs)", "video", _VIDEO, _TINY, "TinyResNet", "TinyC2DConfig"),
    ("tiny_i3d", "tiny I3D video ResNet (kt×3×3 inflated)", "video", _VIDEO, _TINY, "TinyResNet", "TinyI3DConfig"),
    ("tiny_resnet2d", "tiny 2D ResNet for images", "image", (2, 3, 32, 32), _TINY, "TinyResNet", "TinyResNet2DConfig"),
    ("r50_c2d", "ResNet-50 C2D of the NL paper", "video", _VIDEO, _R50, "VideoResNet50", "R50C2DConfig"),
    ("r50_i3d", "ResNet-50 I3D (3×1×1) of the NL paper", "video", _VIDEO, _R50, "VideoResNet50", "R50I3DConfig"),
    (
        "r50_2d",
        "ResNet-50/101/152 for images (torchvision layout)",
        "image",
        (2, 3, 64, 64),
        "nlviz.models.resnet50_2d",
        "ImageResNet",
        "R50ImageConfig",
    ),
    (
        "timm_resnext26ts",
        "timm ResNeXt-26-TS, an operator in every bottleneck (bat_resnext26ts)",
        "image",
        (1, 3, 256, 256),
        "nlviz.models.resnext26ts",
        "ResNeXt26",
        "ResNeXt26Config",
    ),
    # written in its own file; imported only when built, so an unfinished file breaks only this arch
    ("alexhex7_mnist", "AlexHex7 MNIST net", "image", (2, 1, 28, 28), "nlviz.models.alexhex7", "AlexHex7MNIST", None),
]
for _row in _BUILTIN:
    register_arch(Arch(*_row))

__all__ = [
    "ARCHS",
    "Arch",
    "BlockSpec",
    "PerFrame",
    "Stage",
    "arch_spec",
    "build_model",
    "from_spec",
    "is_per_frame",
    "operator_blocks",
    "paper_placement",
    "register_arch",
]
