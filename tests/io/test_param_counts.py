"""Parameter counts of the models the layouts build match the published figures (meta device: no memory, no
compute): I3D-R50 with 5 NL blocks 35.4 M (31.7 M with gaussian blocks), ResNet-50 + BAT 30.2 M."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nlviz.io import public
from nlviz.io.layouts.records import Checkpoint
from nlviz.models import build_model, paper_placement


def _count_after_conversion(fmt: str, filename: str, arch: str, **args) -> int:
    """Build the source model on the meta device, write it in ``fmt``'s key names, convert it back, count."""
    with torch.device("meta"):
        source = build_model(arch, **args)
        converted = public.convert(Checkpoint(Path(filename), public.export_state_dict(source, fmt)), fmt)
        model = build_model(converted.arch, **converted.args)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items() if k in converted.state} == {
        k: tuple(v.shape) for k, v in converted.state.items()
    }
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    "mode, millions, exact",
    [("embedded_gaussian", 35.4, 35_401_936), ("dot_product", 35.4, 35_401_936), ("gaussian", 31.7, 31_727_824)],
)
def test_i3d_r50_with_five_nl_blocks(mode, millions, exact):
    nl = {"mode": mode, "sub_sample": True, "use_scale": False}
    n = _count_after_conversion(
        "mmaction2",
        f"i3d-nl-{mode.replace('_', '-')}.pth",
        "r50_i3d",
        num_classes=400,
        blocks=paper_placement("5", "nonlocal", nl),
    )
    # mmaction2's ResNet3d + I3DHead: exact − 4,096 (its W_z convs have no bias; ours carry zero biases)
    assert n == exact and round(n / 1e6, 1) == millions


def test_i3d_r50_backbone_and_slowfast_nln():
    assert _count_after_conversion("caffe2", "i3d_baseline_8x8.pkl", "r50_i3d", num_classes=400) == 28_043_472
    nl = {"mode": "embedded_gaussian", "sub_sample": True, "pool": "before_conv"}
    n = _count_after_conversion(
        "slowfast", "I3D_NLN_8x8_R50.pyth", "r50_i3d", num_classes=400, blocks=paper_placement("5", "nonlocal", nl)
    )
    assert n == 35_401_936


def test_image_models():
    bat = paper_placement("5", "bat", {"block_size": 7, "groups": 4})
    assert round(_count_after_conversion("bat", "nlnet50.pth.tar", "r50_2d", blocks=bat) / 1e6, 1) == 30.2  # README
    assert _count_after_conversion("torchvision", "resnet50.pth", "r50_2d") == 25_557_032  # torchvision resnet50
    cgnl = [{"op": "cgnl", "stage": 3, "index": 4, "options": {"groups": 8}}]
    n = _count_after_conversion("cgnl", "imagenet-r-50-w-1cgnl-block.pth.tar", "r50_2d", blocks=cgnl)
    assert n == 25_557_032 + 3 * 1024 * 512 + 512 * 1024 // 8 + 2 * 1024  # θ, φ, g; grouped W_z; GroupNorm
