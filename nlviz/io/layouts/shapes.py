"""The ResNet an nlviz arch must be to hold a checkpoint, read from the weight shapes (in our names): residual
blocks per stage, temporal kernels (C2D vs I3D, the inflation pattern), depth 50/101/152, classes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.layouts.records import Checkpoint


def stage_depths(state: Mapping[str, Tensor], stages: int = 4) -> list[int]:
    """Residual blocks per stage from our keys ``layer{s}.{i}.conv1.weight``."""
    depths = []
    for s in range(1, stages + 1):
        found = {int(m[1]) for k in state if (m := re.fullmatch(rf"layer{s}\.(\d+)\.conv1\.weight", k))}
        depths.append(max(found) + 1 if found else 0)
    return depths


def temporal_kernels(state: Mapping[str, Tensor], depths: list[int]) -> tuple[int, list[list[int]]]:
    """(stem kt, per-block kt of each bottleneck's first conv) from 5-D conv weights in our names."""
    stem = state.get("conv1.weight")
    kt_stem = int(stem.shape[2]) if stem is not None and stem.dim() == 5 else 1  # (C_out, C_in, kt, kh, kw)
    kts = []
    for s, n in enumerate(depths, start=1):
        row = []
        for i in range(n):
            w = state.get(f"layer{s}.{i}.conv1.weight")
            row.append(int(w.shape[2]) if w is not None and w.dim() == 5 else 1)
        kts.append(row)
    return kt_stem, kts


def video_r50_arch(ckpt: Checkpoint, state: Mapping[str, Tensor], **geometry: Any) -> tuple[str, dict[str, Any]]:
    """``r50_c2d`` / ``r50_i3d`` and its arguments (stem kt, inflation, classes) read from the weight shapes."""
    from nlviz.models.resnet50 import LAYERS

    depths = stage_depths(state)
    if depths != list(LAYERS):
        raise CheckpointError(
            f"{ckpt.path}: residual blocks per stage {depths}; only ResNet-50 video models {list(LAYERS)} are "
            "supported (the non-local paper's C2D/I3D backbone)"
        )
    kt_stem, kts = temporal_kernels(state, depths)
    bad = sorted({k for row in kts for k in row} - {1, 3})
    if bad or kt_stem % 2 == 0:
        raise CheckpointError(f"{ckpt.path}: temporal kernels {bad or [kt_stem]} are not supported (1 or 3; odd stem)")
    fc = state.get("fc.weight")
    args: dict[str, Any] = {"num_classes": int(fc.shape[0]) if fc is not None else 400, **geometry}
    if kt_stem == 1 and all(k == 1 for row in kts for k in row):
        return "r50_c2d", args
    args.update(stem_kernel_t=kt_stem, inflate=[[int(k == 3) for k in row] for row in kts])
    return "r50_i3d", args


def image_resnet_depth(ckpt: Checkpoint, state: Mapping[str, Tensor]) -> int:
    """50 / 101 / 152 from the residual blocks per stage (torchvision names)."""
    from nlviz.models.resnet50_2d import DEPTHS

    depths = tuple(stage_depths(state))
    for depth, layers in DEPTHS.items():
        if layers == depths:
            return depth
    raise CheckpointError(f"{ckpt.path}: residual blocks per stage {list(depths)} match no ResNet {dict(DEPTHS)}")


def image_args(ckpt: Checkpoint, state: Mapping[str, Tensor], **extra: object) -> dict[str, Any]:
    """``r50_2d`` arguments (depth, classes) read from our-named weights."""
    fc = state.get("fc.weight")
    return {
        "depth": image_resnet_depth(ckpt, state),
        "num_classes": int(fc.shape[0]) if fc is not None else 1000,
        **extra,
    }
