"""PySlowFast (facebookresearch/SlowFast) single-pathway ResNets: C2D, I3D (``I3D_NLN_8x8_R50``) and Slow.

Keys (``model_state``; ``module.`` from DDP): ``s1.pathway0_stem.{conv,bn}``,
``s{2..5}.pathway0_res{i}.branch1`` / ``branch1_bn`` (projection shortcut), ``branch2.{a,b,c}`` /
``branch2.{a,b,c}_bn``, ``s{3,4}.pathway0_nonlocal{i}.{conv_theta,conv_phi,conv_g,conv_out,bn|norm}`` (a
``Nonlocal`` run after residual block i of the stage: our ``layer{s-1}.nl{i}``) and ``head.projection``.

Conventions (``slowfast/models/nonlocal_helper.py``): φ and g convs read x max-pooled 1×2×2 *before* them;
``softmax`` instantiation = softmax(θᵀφ · C'^-1/2), ``dot_product`` = θᵀφ / N_k. The instantiation comes from
the config stored in the checkpoint (``cfg``: ``NONLOCAL.INSTANTIATION``), else SlowFast's default ``softmax``.
BN after W_z zero-initialized (``ZERO_INIT_FINAL_BN``). Geometry: stem 1×2×2 stride, max pool 1×3×3 stride
1×2×2 padding 1, ``pathway0_pool`` 2×1×1 after res2 for ``i3d``/``c2d`` (not for ``slow`` or ``*_nopool``:
``MODEL.ARCH`` from the stored config, else inferred: a 1×7×7 stem with res4/res5 inflated is ``slow``).
The head of a SlowFast model applies softmax in eval mode; ``forward`` here returns the logits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from nlviz.io.keymap import KeyMap, StateDict
from nlviz.io.layouts.blocks import export_with_blocks, nonlocal_spec, placement, split_ops
from nlviz.io.layouts.inputs import video_input
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.shapes import video_r50_arch
from nlviz.io.layouts.variants import config_value, resolve_variant
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.nonlocal_block import SLOWFAST

NAME = "slowfast"
VARIANTS = {"softmax": "softmax(θᵀφ / √C') (embedded gaussian)", "dot_product": "θᵀφ / N_k"}
MODE = {"softmax": "embedded_gaussian", "dot_product": "dot_product"}
_CONV = {"a": 1, "b": 2, "c": 3}
_NL_KEY = r"s(\d)\.pathway0_nonlocal(\d+)\.(.+)"


def _pairs() -> list[tuple[str, str]]:
    """(SlowFast key, our key) templates of the backbone (:class:`~nlviz.io.keymap.KeyMap`)."""
    pairs = [
        ("s1.pathway0_stem.conv.weight", "conv1.weight"),
        ("s1.pathway0_stem.bn.<bn>", "bn1.<bn>"),
        ("head.projection.<p>", "fc.<p>"),
    ]
    for s in range(2, 6):
        res, layer = f"s{s}.pathway0_res<i>", f"layer{s - 1}.<i>"
        for letter, k in _CONV.items():
            pairs += [
                (f"{res}.branch2.{letter}.weight", f"{layer}.conv{k}.weight"),
                (f"{res}.branch2.{letter}_bn.<bn>", f"{layer}.bn{k}.<bn>"),
            ]
        pairs += [
            (f"{res}.branch1.weight", f"{layer}.downsample.0.weight"),
            (f"{res}.branch1_bn.<bn>", f"{layer}.downsample.1.<bn>"),
        ]
    return pairs


KEYS = KeyMap(NAME, _pairs())


def nonlocal_specs(
    blocks: dict[tuple[int, int], StateDict],
    mode: str,
    pool: str,
    use_scale: bool,
    name: str = "s{res}.pathway0_nonlocal{i}",
    keys: KeyMap = SLOWFAST,
) -> tuple[list[dict[str, Any]], StateDict]:
    """Block specs and our weights for SlowFast/Caffe2 blocks keyed by (res stage 3/4, index), converted by
    ``keys``; ``name`` formats a block's public name for errors."""
    specs, state = [], {}
    for (res, i), block in blocks.items():
        converted = keys.to_ours(block, where=f"operator block {name.format(res=res, i=i)}")
        options = {"mode": mode, "dim": 3, "sub_sample": True, "pool": pool, "use_scale": use_scale}
        spec, weights = nonlocal_spec(res - 1, i, converted, options)
        specs.append(spec)
        state.update(weights)
    return specs, state


def block_conventions(inst: str, variants: Mapping[str, str], specs: list[dict[str, Any]]) -> dict[str, str]:
    """The card conventions SlowFast and Caffe2 non-local blocks share, for instantiation ``inst``."""
    return {
        "instantiation": variants[inst],
        "scale": "1/√C' before the softmax" if inst == "softmax" else "none (÷N_k)",
        "pooling": "max-pool 1×2×2 of x before the φ and g convs",
        "placement": placement(specs),
    }


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    rest, blocks = split_ops(ckpt.state, _NL_KEY)
    ours = KEYS.to_ours(rest, where=f"the {NAME} layout")
    arch, args = video_r50_arch(ckpt, ours)
    inflate = args.get("inflate") or [[0] * 3, [0] * 4, [0] * 6, [0] * 3]
    slow = args.get("stem_kernel_t", 1) == 1 and not any(inflate[0] + inflate[1]) and all(inflate[2] + inflate[3])
    model_arch = (
        config_value(ckpt.text, "ARCH") or ("slow" if slow else "i3d" if arch == "r50_i3d" else "c2d")
    ).lower()
    geometry = {
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "pool1_padding": 1,
        "pool2": model_arch in ("i3d", "c2d"),
        "dropout": 0.5,
    }
    inst, inst_from = resolve_variant(
        NAME,
        variant,
        ckpt,
        text_hints={v: rf"INSTANTIATION:\s*{v}\b" for v in VARIANTS},
        default="softmax",
        choices=list(VARIANTS),
    )
    specs, nl_state = nonlocal_specs(blocks, MODE[inst], "before_conv", inst == "softmax")
    ours.update(nl_state)
    args.update(geometry, blocks=specs)
    card = {
        "variant": inst,
        "variant_from": inst_from,
        "conventions": {
            "family": f"SlowFast {model_arch} ResNet-50 (MODEL.ARCH)",
            **block_conventions(inst, VARIANTS, specs),
            "zero_init": "BN after W_z zero-initialized (γ=0) in training; trained weights replace it",
            "geometry": {k: args[k] for k in ("conv1_stride_t", "pool1_stride_t", "pool1_padding", "pool2")},
            "head": "SlowFast's head applies softmax in eval; nlviz forward returns logits",
        },
        "input": video_input(
            ckpt,
            8,
            [0.45] * 3,
            [0.225] * 3,
            "DATA.NUM_FRAMES frames every DATA.SAMPLING_RATE "
            "(8x8), short side 256, center crop 224 (SlowFast tests at 256)",
        ),
    }
    return Converted(arch, args, ours, card)


def export(model: nn.Module) -> StateDict:
    """Our model → SlowFast ``model_state`` names (BN of the blocks named ``bn``)."""
    return export_with_blocks(
        model, KEYS, NAME, "s{res}.pathway0_nonlocal{i}.", lambda op: SLOWFAST.to_theirs(op.state_dict())
    )


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="PySlowFast C2D/I3D/Slow ResNet-50 (s{2..5}.pathway0_res{i}, s{3,4}.pathway0_nonlocal{i})",
        keys=KEYS,
        specific=(_NL_KEY,),
        variants=VARIANTS,
        build=build,
        export=export,
    ),
)
