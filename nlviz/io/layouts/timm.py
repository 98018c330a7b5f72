"""timm ``bat_resnext26ts`` (``bat_resnext26ts.ch_in1k``, ``bat_resnext26ts_256-fa6fd595.pth``): a ResNeXt-26-TS
``ByobNet`` with a ``BatNonLocalAttn`` in every bottleneck. A plain state dict in timm's names.

Keys: ``stem.conv{1,2,3}.{conv,bn}``, ``stages.{s}.{i}.{conv1_1x1,conv2_kxk,conv3_1x1,shortcut}.{conv,bn}``,
``stages.{s}.{i}.attn.*`` (``conv1``, ``ba.conv1``, ``ba.conv_p``, ``ba.conv_q``, ``ba.conv2``, ``conv2``) and
``head.fc``. Only the ``attn`` keys are renamed (``nlviz.io.convert_state_dict(.., "timm")``); the backbone is
:mod:`nlviz.models.resnext26ts` with timm's own module names.

Conventions (timm ``layers/non_local_attn.py``): block size s and groups k read from ``conv_p`` (release:
s = 8, k = 2), bottleneck width from ``conv1`` (``make_divisible(width / 4, 8)``), 1×1 convs without bias
(``conv_p``/``conv_q`` have one), sigmoid then rows of P / columns of Q normalized to sum 1, Kronecker
upsampling, ReLU inside the block, Dropout2d(0.2) (no effect in eval). Placement: *inside* every residual
branch, after the grouped 3×3 conv and before ``conv3_1x1`` — not after the residual add. Not the identity at
init. Input: ImageNet mean/std, 256×256 (feature maps 64² … 8² are multiples of s).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from torch import Tensor, nn

from nlviz.io.keymap import KeyMap, StateDict, same
from nlviz.io.layouts.inputs import IMAGENET_INPUT
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.bat import TIMM

NAME = "timm"
_ATTN = r"(stages\.\d\.\d)\.attn\.(.+)"
#: the ByobNet around the attention blocks: timm's names are ours (conv-norm-act ``conv`` + ``bn``)
KEYS = KeyMap(
    NAME,
    same(
        *(f"stem.conv<1|2|3>.{cna}" for cna in ("conv.weight", "bn.<bn>")),
        *(f"stages.<d>.<d>.<conv1_1x1|conv2_kxk|conv3_1x1|shortcut>.{cna}" for cna in ("conv.weight", "bn.<bn>")),
        "head.fc.<p>",
    ),
)
SPECIFIC = (rf"stages\.\d\.\d\.attn\.(?:{TIMM.pattern()})",)


def _split(sd: Mapping[str, Tensor]) -> tuple[StateDict, dict[str, StateDict]]:
    """(backbone keys, {``stages.{s}.{i}``: its attention block's keys})."""
    rest: StateDict = {}
    blocks: dict[str, StateDict] = {}
    for key, value in sd.items():
        m = re.fullmatch(_ATTN, key)
        if m:
            blocks.setdefault(m[1], {})[m[2]] = value
        else:
            rest[key] = value
    return rest, blocks


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    rest, blocks = _split(ckpt.state)
    state = KEYS.to_ours(rest, where=f"the {NAME} layout")
    attn = None
    for prefix, block in blocks.items():
        ours = TIMM.to_ours(block, where=f"operator block {prefix}.attn")
        state.update({f"{prefix}.attn.{k}": v for k, v in ours.items()})
        p = ours["conv_p.weight"]
        attn = {
            "op": "bat",
            "options": {
                "block_size": int(p.shape[2]),
                "groups": int(p.shape[1]),
                "normalize": "sigmoid",
                "bias": False,
                "dropout": 0.2,
            },
        }
    fc = state.get("head.fc.weight")
    args = {"num_classes": int(fc.shape[0]) if fc is not None else 1000, "attn": attn}
    options = (attn or {}).get("options", {})
    card = {
        "conventions": {
            "transform": f"BA-Transform (timm BatNonLocalAttn), k={options.get('groups')} groups, "
            f"s={options.get('block_size')}, sigmoid then rows of P / columns of Q sum to 1, Kronecker upsampling"
            if attn
            else "no operator blocks (timm resnext26ts)",
            "scale": "none",
            "placement": "inside every bottleneck (stages.{s}.{i}.attn), after the grouped 3×3 conv, before "
            "conv3_1x1: in the residual branch, not after the add",
            "zero_init": "none: BN γ=1 at init; not the identity at start",
            "bias": "bias-free 1×1 convs except conv_p / conv_q",
        },
        "input": {**IMAGENET_INPUT, "shape": [3, 256, 256]},
    }
    return Converted("timm_resnext26ts", args, state, card)


def export(model: nn.Module) -> StateDict:
    """Our ``timm_resnext26ts`` → timm's key names."""
    rest, blocks = _split(model.state_dict())
    out = KEYS.to_theirs(rest, where=f"the {NAME} layout (export)")
    for prefix, block in blocks.items():
        out.update({f"{prefix}.attn.{k}": v for k, v in TIMM.to_theirs(block).items()})
    return out


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="timm bat_resnext26ts (ByobNet ResNeXt-26-TS, BatNonLocalAttn in every bottleneck: "
        "stages.{s}.{i}.attn)",
        keys=KEYS,
        specific=SPECIFIC,
        variants={},
        build=build,
        export=export,
    ),
)
