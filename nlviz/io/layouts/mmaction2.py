"""mmaction2 / mmcv: ``Recognizer3D`` checkpoints of ``ResNet3d`` (I3D) and ``ResNet3dSlowOnly`` with
``non_local`` blocks (mmaction2 ``configs/recognition/{i3d,slowonly}/*nl*``, 0.x and 1.x releases).

Keys (``state_dict``): ``backbone.conv1.{conv,bn}``, ``backbone.layer{s}.{i}.conv{1,2,3}.{conv,bn}``,
``backbone.layer{s}.{i}.downsample.{conv,bn}``, ``backbone.layer{s}.{i}.non_local_block.*`` (mmcv
``NonLocal3d``: ``theta.conv``, ``phi.0.conv``/``g.0.conv`` when subsampled, ``conv_out.{conv,bn}``) and
``cls_head.fc_cls.{weight,bias}``. The block runs after the bottleneck's residual add and ReLU: our
``layer{s}.nl{i}``.

Conventions (mmcv ``NonLocal3d``): φ and g are max-pooled 1×2×2 *after* their convs; ``use_scale``
multiplies θᵀφ by 1/√C' (embedded gaussian only); dot product divides by N_k; gaussian works on raw x (no θ/φ,
never scaled). The released I3D NL models set ``use_scale=False`` (all three modes), the SlowOnly NL models
``use_scale=True``. Which mode a file holds is not in its keys for embedded gaussian vs dot product: it is read
from the config stored in the checkpoint (mmengine ``meta.cfg``) or from the release file name
(``...-nl-dot-product_...``), else ``mmaction2:dot_product`` / ``mmaction2:embedded_gaussian`` must be given.

Geometry (not in the weights; from the stored config when present, else the release configs): I3D (5×7×7
stem) ``conv1_stride_t=2, pool1_stride_t=2`` with the 2×1×1 ``pool2`` after res2; SlowOnly (1×7×7 stem,
res4/res5 inflated) strides 1 and no ``pool2``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.keymap import Choice, KeyMap, StateDict
from nlviz.io.layouts.blocks import export_with_blocks, nonlocal_spec, placement, split_ops
from nlviz.io.layouts.inputs import video_input
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.shapes import video_r50_arch
from nlviz.io.layouts.variants import config_value, resolve_variant
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.nonlocal_block import MMCV

NAME = "mmaction2"
MODES = {
    "embedded_gaussian": "softmax(θᵀφ) (scale per the config: off in the I3D NL release, 1/√C' in SlowOnly NL)",
    "dot_product": "θᵀφ / N_k",
    "gaussian": "softmax(xᵀx) on the raw input",
    "concatenation": "ReLU(w_fᵀ[θ; φ]) / N_k",
}
_BLOCK = "layer<d>.<i>"
#: backbone keys; a backbone saved alone has no ``backbone.`` prefix (export writes it)
KEYS = KeyMap(
    NAME,
    [
        ("[backbone]conv1.conv.weight", "conv1.weight"),
        ("[backbone]conv1.bn.<bn>", "bn1.<bn>"),
        (f"[backbone]{_BLOCK}.conv<1|2|3>.conv.weight", f"{_BLOCK}.conv<1|2|3>.weight"),
        (f"[backbone]{_BLOCK}.conv<1|2|3>.bn.<bn>", f"{_BLOCK}.bn<1|2|3>.<bn>"),
        (f"[backbone]{_BLOCK}.downsample.conv.weight", f"{_BLOCK}.downsample.0.weight"),
        (f"[backbone]{_BLOCK}.downsample.bn.<bn>", f"{_BLOCK}.downsample.1.<bn>"),
        ("cls_head.fc_cls.<p>", "fc.<p>"),
    ],
    choices={"backbone": Choice({True: "backbone.", False: ""}, default=True)},
)
_NL_KEY = r"(?:backbone\.)?layer(\d)\.(\d+)\.non_local_block\.(.+)"
_TEXT_HINTS = {m: rf"mode\s*=\s*['\"]{m}['\"]" for m in ("dot_product", "embedded_gaussian")}
_NAME_HINTS = {"embedded_gaussian": r"embedded[-_]gaussian", "dot_product": r"dot[-_]product"}
_MEAN, _STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]  # mmaction2 (123.675, ...) / 255
#: geometry of the released configs: (conv1_stride_t, pool1_stride_t, pool2), use_scale, sampling
_FAMILIES = {
    "i3d": ((2, 2, True), False, "32 frames, interval 2 (32x2x1), short side 256, center crop 224"),
    "slowonly": ((1, 1, False), True, "8 frames, interval 8 (8x8x1) or 4x16x1, short side 256, center crop 224"),
}


def _mode_from_keys(blocks: dict[tuple[int, int], StateDict]) -> str | None:
    keys = {k for b in blocks.values() for k in b}
    if any(k.startswith("concat_project") for k in keys):
        return "concatenation"
    if keys and not any(k.startswith("theta") for k in keys):
        return "gaussian"
    return None


def _family(ckpt: Checkpoint, args: dict[str, Any]) -> str:
    kt, inflate = args.get("stem_kernel_t", 1), args.get("inflate")
    if kt == 5:
        return "i3d"
    if kt == 1 and inflate and not any(inflate[0] + inflate[1]) and all(inflate[2] + inflate[3]):
        return "slowonly"
    raise CheckpointError(
        f"{ckpt.path}: an mmaction2 ResNet3d with stem kernel t={kt} and inflation {inflate}: only the I3D "
        "(5×7×7 stem) and SlowOnly (1×7×7 stem, res4/res5 inflated) configs are supported"
    )


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    rest, blocks = split_ops(ckpt.state, _NL_KEY)
    ours = KEYS.to_ours(rest, where=f"the {NAME} layout")
    converted = {
        (s, i): MMCV.to_ours(b, where=f"operator block layer{s}.{i}.non_local_block") for (s, i), b in blocks.items()
    }
    arch, args = video_r50_arch(ckpt, ours)
    family = _family(ckpt, args)
    (t1, tp, pool2), scale_default, sampling = _FAMILIES[family]
    text = ckpt.text
    geometry = {
        "conv1_stride_t": int(config_value(text, "conv1_stride_t") or t1),
        "pool1_stride_t": int(config_value(text, "pool1_stride_t") or tp),
        "pool2": (config_value(text, "with_pool2") or str(pool2)) == "True",
    }
    mode, mode_from = "none", "no non-local blocks in the checkpoint"
    if blocks:
        mode, mode_from = resolve_variant(
            NAME,
            variant,
            ckpt,
            from_keys=_mode_from_keys(blocks),
            text_hints=_TEXT_HINTS,
            name_hints=_NAME_HINTS,
            choices=["embedded_gaussian", "dot_product"],
        )
    stored_scale = config_value(text, "use_scale")
    use_scale = (stored_scale == "True") if stored_scale else scale_default
    specs = []
    for (s, i), block in blocks.items():
        options = {
            "mode": mode,
            "dim": 3,
            "sub_sample": any(".0." in k for k in block),
            "pool": "after_conv",
            "use_scale": use_scale if mode == "embedded_gaussian" else False,
        }
        spec, weights = nonlocal_spec(s, i, converted[(s, i)], options)
        specs.append(spec)
        ours.update(weights)
    args.update(geometry, blocks=specs)
    scale = "1/√C' before the softmax" if (mode == "embedded_gaussian" and use_scale) else "none"
    card = {
        "variant": mode,
        "variant_from": mode_from,
        "conventions": {
            "family": f"mmaction2 {family} ResNet-50",
            "instantiation": MODES.get(mode, mode),
            "scale": scale + ("" if stored_scale is None else " (use_scale from the stored config)"),
            "pooling": "max-pool 1×2×2 of φ and g after their 1×1 convs (mmcv)",
            "placement": placement(specs),
            "zero_init": "mmcv zero-inits the BN after W_z (γ=β=0); trained weights replace it. mmcv's W_z has "
            "no bias (BN follows): loaded as a zero bias, exact",
            "geometry": geometry,
        },
        "input": video_input(ckpt, 32 if family == "i3d" else 8, _MEAN, _STD, sampling),
    }
    return Converted(arch, args, ours, card)


def export(model: nn.Module) -> StateDict:
    """Our model → an mmaction2 ``state_dict`` (``backbone.`` / ``cls_head.`` keys)."""
    return export_with_blocks(
        model,
        KEYS,
        NAME,
        "backbone.layer{s}.{i}.non_local_block.",
        lambda op: MMCV.to_theirs(op.state_dict(), sub_sample=op.sub_sample),
    )


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="mmaction2 I3D / SlowOnly ResNet-50 with mmcv NonLocal3d blocks "
        "(backbone.layer{s}.{i}.non_local_block)",
        keys=KEYS,
        specific=(_NL_KEY,),
        variants={k: v for k, v in MODES.items() if k in ("embedded_gaussian", "dot_product")},
        build=build,
        export=export,
    ),
)
