"""Caffe2 pickles of facebookresearch/video-nonlocal-net (also SlowFast's ``TRAIN.CHECKPOINT_TYPE: caffe2``,
e.g. its ``I3D_NLN_8x8_R50.pkl``): C2D and I3D ResNet-50, baseline and non-local, read by :mod:`nlviz.io.caffe2`.

Blob names (``lib/models/resnet_video.py``, ``resnet_helper.py``, ``nonlocal_helper.py``) → ours:

====================================================  ====================================================
``conv1_w``                                           ``conv1.weight`` (64, 3, kt, 7, 7)
``res_conv1_bn_{s,b,rm,riv}``                         ``bn1.{weight,bias,running_mean,running_var}``
``res{S}_{i}_branch2{a,b,c}_w`` / ``..._bn_*``        ``layer{S-1}.{i}.conv{1,2,3}.weight`` / ``bn{1,2,3}``
``res{S}_{i}_branch1_w`` / ``..._bn_*``               ``layer{S-1}.{i}.downsample.0.weight`` / ``.1``
``nonlocal_conv{S}_{i}_{theta,phi,g,out}_{w,b}``      ``layer{S-1}.nl{i}.{theta,phi,g,conv_out}.*``
``nonlocal_conv{S}_{i}_bn_{s,b,rm,riv}``              ``layer{S-1}.nl{i}.norm.*``
``pred_{w,b}``                                        ``fc.{weight,bias}`` (reshaped if saved as a conv)
``*_momentum``, ``lr``, ``model_iter``                solver state, dropped
====================================================  ====================================================

``_riv`` holds the running *variance* (Caffe2's SpatialBN writes its running_var output there; SlowFast's
loader maps it the same way). Frozen-BN (``AffineNd``) files have only ``_s``/``_b``: they load with running
mean 0 and variance 1 − eps, which is exact. ``NONLOCAL.NO_BIAS`` files load with zero biases (exact).
Every backbone blob name above is established from the repository's code; none had to be guessed.

Conventions (``lib/core/config.py`` defaults): softmax(θᵀφ · C'^-1/2) (``USE_SOFTMAX``, ``USE_SCALE``), φ/g
read x max-pooled 1×2×2 *before* their convs, BN after W_z with γ=0 at init; ``caffe2:dot_product`` is
``USE_SOFTMAX: False`` (θᵀφ / N_k). Geometry: conv1 and pool1 have temporal stride 1 (8 → 8 → 4 frames at
res3 for 8-frame clips, 32 → 16 for 32-frame ones), pool1 has no padding (112 → 55), pool2 2×1×1 after res2,
stride on the 3×3 conv (``STRIDE_1X1: False``). Input: RGB (``USE_BGR: False``), (x − 114.75) / 57.375 on
0–255 pixels. Not supported: ResNet-101 files, and frozen-BN files with res3 blocks (their res3 non-local
blocks run within groups of 4 frames, ``res_stage_nonlocal_group``).
"""

from __future__ import annotations

import re

from torch import nn

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.fixups import complete_affine_bn
from nlviz.io.keymap import KeyMap, StateDict
from nlviz.io.layouts.blocks import export_with_blocks, split_ops
from nlviz.io.layouts.inputs import video_input
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.shapes import video_r50_arch
from nlviz.io.layouts.slowfast import MODE, block_conventions, nonlocal_specs
from nlviz.io.layouts.variants import resolve_variant
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.nonlocal_block import CAFFE2, CAFFE2_BN

NAME = "caffe2"
VARIANTS = {"softmax": "softmax(θᵀφ / √C') (embedded gaussian; the released models)", "dot_product": "θᵀφ / N_k"}
_SOLVER = r"(.+_momentum|lr|model_iter)"
_NL_KEY = r"nonlocal_conv([34])_(\d+)_(.+)"


def _pairs() -> list[tuple[str, str]]:
    """(blob name, our key) templates of the backbone (:class:`~nlviz.io.keymap.KeyMap`)."""
    pairs = [("conv1_w", "conv1.weight"), ("pred_w", "fc.weight"), ("pred_b", "fc.bias")]
    pairs += [(f"res_conv1_bn_{c}", f"bn1.{ours}") for c, ours in CAFFE2_BN.items()]
    for s in range(2, 6):
        res, layer = f"res{s}_<i>", f"layer{s - 1}.<i>"
        for letter, k in (("a", 1), ("b", 2), ("c", 3)):
            pairs.append((f"{res}_branch2{letter}_w", f"{layer}.conv{k}.weight"))
            pairs += [(f"{res}_branch2{letter}_bn_{c}", f"{layer}.bn{k}.{o}") for c, o in CAFFE2_BN.items()]
        pairs.append((f"{res}_branch1_w", f"{layer}.downsample.0.weight"))
        pairs += [(f"{res}_branch1_bn_{c}", f"{layer}.downsample.1.{o}") for c, o in CAFFE2_BN.items()]
    return pairs


#: the backbone's blobs; solver state is dropped, and BN step counters have no blob
KEYS = KeyMap(NAME, _pairs(), drop=(_SOLVER,), drop_ours=(r".+\.num_batches_tracked",))


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    blobs = {k: v.float() if v.is_floating_point() else v for k, v in ckpt.state.items()}
    rest, blocks = split_ops(blobs, _NL_KEY)
    ours = KEYS.to_ours(rest, where=f"the {NAME} layout")
    if "fc.weight" in ours:
        ours["fc.weight"] = ours["fc.weight"].reshape(
            ours["fc.weight"].shape[0], -1
        )  # (K, C); saved as a conv: (K, C, 1, 1, 1)
    affine = [
        complete_affine_bn(ours, k.removesuffix(".weight"))
        for k in list(ours)
        if re.search(r"(bn\d?|downsample\.1)\.weight$", k)
    ]
    if any(s == 3 for s, _ in blocks) and affine and all(affine):
        raise CheckpointError(
            f"{ckpt.path}: a frozen-BN (AffineNd) video-nonlocal-net model with res3 non-local blocks: those run "
            "within groups of 4 frames (res_stage_nonlocal_group), which nlviz does not implement"
        )
    arch, args = video_r50_arch(ckpt, ours)
    inst, inst_from = resolve_variant(NAME, variant, ckpt, default="softmax", choices=list(VARIANTS))
    specs, nl_state = nonlocal_specs(
        blocks, MODE[inst], "before_conv", inst == "softmax", "nonlocal_conv{res}_{i}", CAFFE2
    )
    ours.update(nl_state)
    args.update(conv1_stride_t=1, pool1_stride_t=1, pool1_padding=0, pool2=True, blocks=specs)
    card = {
        "variant": inst,
        "variant_from": inst_from,
        "conventions": {
            "family": "video-nonlocal-net Caffe2 " + ("I3D" if arch == "r50_i3d" else "C2D") + " ResNet-50",
            **block_conventions(inst, VARIANTS, specs),
            "zero_init": "BN after W_z starts at γ=0 (NONLOCAL.BN_INIT_GAMMA); trained weights replace it",
            "geometry": "conv1/pool1 temporal stride 1, pool1 without padding, pool2 2×1×1 after res2",
            "batchnorm": "frozen (AffineNd) layers loaded as BN with mean 0, var 1−eps" if any(affine) else "SpatialBN",
        },
        "input": video_input(
            ckpt,
            8,
            [0.45] * 3,
            [0.225] * 3,
            "8 frames every 8 (8x8) or 32 every 2 (32x2); "
            "short side 256, crop 224; (x - 114.75) / 57.375 on 0-255 pixels",
        ),
    }
    return Converted(arch, args, ours, card)


def export(model: nn.Module) -> StateDict:
    """Our model → Caffe2 blob names (as tensors; no solver state, no BN step counters)."""
    return export_with_blocks(
        model, KEYS, NAME, "nonlocal_conv{res}_{i}_", lambda op: CAFFE2.to_theirs(op.state_dict())
    )


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="video-nonlocal-net Caffe2 pickle ({'blobs': ...}; res{S}_{i}_branch*, nonlocal_conv{S}_{i}_*)",
        keys=KEYS,
        specific=(_NL_KEY,),
        variants=VARIANTS,
        build=build,
        export=export,
    ),
)
