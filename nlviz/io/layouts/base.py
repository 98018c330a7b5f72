"""What every whole-model layout shares: the ``Layout`` record, the checkpoint as read, key tables, variants.

A layout turns the flat state dict of a public checkpoint into ``Converted``: an nlviz arch, its arguments
(operator options included, so the conventions live in the rebuilt model) and the weights under our names.
``export`` is the inverse (our model → the public key names), used to check round trips. Keys are renamed by
regex tables; a key no rule matches is an error naming it, so a layout never converts part of a file.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.convert import StateDict, rename

BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


@dataclass
class Checkpoint:
    """A public checkpoint as read: ``state`` (tensors, ``module.`` stripped) and the config ``text`` it carries
    (mmengine's ``meta.cfg``, SlowFast's ``cfg``, ...; empty when none)."""

    path: Path
    state: dict[str, Tensor]
    text: str = ""

    @property
    def filename(self) -> str:
        return self.path.name.lower()


@dataclass
class Converted:
    """The result of a layout's ``build``: ``build_model(arch, **args)`` + ``state`` (our names) + card fields."""

    arch: str
    args: dict[str, Any]
    state: dict[str, Tensor]
    card: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """A whole-model checkpoint layout.

    Attributes:
        name: format name (``nlviz convert --from NAME``).
        summary: which checkpoints this is, one line.
        patterns: regexes (full match) of every key the layout knows; used to detect and rank layouts.
        specific: regexes of its operator keys; among layouts that know every key, the most specific wins.
        variants: ``name → meaning`` of conventions not visible in the keys (``--from NAME:VARIANT``).
        build: ``(checkpoint, variant or None) → Converted``.
        export: ``model → state dict in this layout`` (the inverse, for round trips).
        generic: chosen only when no other layout recognizes operator keys (plain backbones).
    """

    name: str
    summary: str
    patterns: tuple[str, ...]
    specific: tuple[str, ...]
    variants: Mapping[str, str]
    build: Callable[[Checkpoint, str | None], Converted]
    export: Callable[[nn.Module], StateDict]
    generic: bool = False

    def score(self, keys: Iterable[str]) -> tuple[int, int]:
        """(keys recognized, operator keys recognized)."""
        known = [k for k in keys if self.knows(k)]
        specific = _alternation(self.specific)
        return len(known), sum(bool(self.specific) and specific.fullmatch(k) is not None for k in known)

    def knows(self, key: str) -> bool:
        return _alternation(self.patterns).fullmatch(key) is not None


@functools.lru_cache(maxsize=64)
def _alternation(patterns: tuple[str, ...]) -> re.Pattern:
    """One compiled regex matching any of ``patterns`` (detection runs them over every key of a file)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)")


def rename_all(sd: Mapping[str, Tensor], rules: list[tuple[str, str]], layout: str) -> StateDict:
    """Rename every key by the first matching rule; unmatched keys are a CheckpointError listing them."""
    unknown = sorted(k for k in sd if not any(re.fullmatch(p, k) for p, _ in rules))
    if unknown:
        raise CheckpointError(
            f"unexpected key(s) for the {layout} layout ({len(unknown)}): {unknown[:12]}{' …' if len(unknown) > 12 else ''}"
        )
    return rename(sd, rules, layout)


#: slots of :func:`two_way` templates → the text they stand for
_SLOTS = {"<i>": r"(\d+)", "<bn>": BN, "<p>": r"(weight|bias)"}
_SLOT = re.compile("(" + "|".join(_SLOTS) + ")")


def two_way(pairs: Iterable[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Rename rules both ways, (theirs → ours, ours → theirs), from ``(theirs, ours)`` key templates.

    A template is a literal key but for slots that stand for the same text on both sides, in the same order:
    ``<i>`` a block index (digits), ``<bn>`` a BatchNorm entry (``BN``), ``<p>`` ``weight`` or ``bias``. E.g.
    ``("s2.pathway0_res<i>.branch1.weight", "layer1.<i>.downsample.0.weight")`` renames
    ``s2.pathway0_res3.branch1.weight`` to ``layer1.3.downsample.0.weight`` and back.
    """
    pairs = list(pairs)
    return [_rule(theirs, ours) for theirs, ours in pairs], [_rule(ours, theirs) for theirs, ours in pairs]


def _rule(src: str, dst: str) -> tuple[str, str]:
    """(regex, replacement) renaming keys of template ``src`` to template ``dst``."""
    assert _SLOT.findall(src) == _SLOT.findall(dst), f"templates {src!r} and {dst!r} need the same slots"
    pattern = "".join(_SLOTS.get(part, re.escape(part)) for part in _SLOT.split(src))
    group = itertools.count(1)
    return pattern, _SLOT.sub(lambda _: rf"\g<{next(group)}>", dst)


def tpgz_rules(conv: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Both-way rules (:func:`two_way`) of the plain non-local block of the CGNL and BAT repositories
    (``SpatialNL``, ``NonLocal``): convs ``t, p, g, z`` (our θ, φ, g, W_z) with entries ``conv`` (``"weight"``,
    or ``"<p>"`` when they have biases) and the BN ``bn`` after W_z (our ``norm``)."""
    convs = [
        (f"{t}.{conv}", f"{ours}.{conv}") for t, ours in (("t", "theta"), ("p", "phi"), ("g", "g"), ("z", "conv_out"))
    ]
    return two_way([*convs, ("bn.<bn>", "norm.<bn>")])


def convert_block(block: Mapping[str, Tensor], source: str, where: str) -> StateDict:
    """``convert_state_dict`` for one operator block; an unknown key is a CheckpointError naming the block."""
    from nlviz.io.convert import convert_state_dict

    try:
        return convert_state_dict(block, source)
    except ValueError as e:
        raise CheckpointError(f"operator block {where}: {str(e).split(': ', 1)[-1]}") from None


def split_ops(sd: Mapping[str, Tensor], pattern: str) -> tuple[StateDict, dict[tuple[int, int], StateDict]]:
    """Separate operator keys: ``pattern`` has groups (stage, index, rest). Returns (other keys, blocks)."""
    rest: StateDict = {}
    blocks: dict[tuple[int, int], StateDict] = {}
    for key, value in sd.items():
        m = re.fullmatch(pattern, key)
        if m:
            blocks.setdefault((int(m[1]), int(m[2])), {})[m[3]] = value
        else:
            rest[key] = value
    return rest, dict(sorted(blocks.items()))


def nonlocal_spec(
    stage: int, index: int, weights: StateDict, options: dict[str, Any]
) -> tuple[dict[str, Any], StateDict]:
    """A converted non-local block after residual block ``index`` of ``layer{stage}``: its block spec
    (``options`` plus ``inter_channels`` when g's output C' is not C/2) and its weights under
    ``layer{stage}.nl{index}.``."""
    c_inner, c = weights["g.weight"].shape[:2]
    if c_inner != c // 2:
        options = {**options, "inter_channels": int(c_inner)}
    spec = {"op": "nonlocal", "stage": stage, "index": index, "options": options}
    return spec, {f"layer{stage}.nl{index}.{k}": v for k, v in weights.items()}


def hint(text: str, table: Mapping[str, str]) -> str | None:
    """The first variant whose regex occurs in ``text`` (case-insensitive), else None."""
    for variant, pattern in table.items():
        if text and re.search(pattern, text, flags=re.IGNORECASE):
            return variant
    return None


def resolve_variant(
    layout: str,
    forced: str | None,
    ckpt: Checkpoint,
    *,
    from_keys: str | None = None,
    text_hints: Mapping[str, str] | None = None,
    name_hints: Mapping[str, str] | None = None,
    default: str | None = None,
    choices: Iterable[str] = (),
) -> tuple[str, str]:
    """(variant, where it came from): the keys, the format the user forced, the config stored in the file,
    the file name, or the layout's documented default. Raises when none decides (no silent guess)."""
    choices = list(choices)
    if forced is not None and from_keys is not None and forced != from_keys:
        raise CheckpointError(f"{ckpt.path}: format {layout}:{forced} was asked for but the keys are {from_keys!r}")
    if from_keys is not None:
        return from_keys, "the checkpoint keys"
    if forced is not None:
        return forced, f"the format asked for ({layout}:{forced})"
    found = hint(ckpt.text, text_hints or {})
    if found:
        return found, "the config stored in the checkpoint"
    found = hint(ckpt.filename, name_hints or {})
    if found:
        return found, f"the file name {ckpt.path.name!r}"
    if default is not None:
        return default, f"the {layout} default (nothing in the file says otherwise)"
    raise CheckpointError(
        f"{ckpt.path}: the {layout} keys do not say which convention it was trained with "
        f"({', '.join(choices)}), and neither its stored config nor its file name does; "
        f"pass one explicitly: {', '.join(f'{layout}:{c}' for c in choices)}"
    )


def config_value(text: str, key: str) -> str | None:
    """``key=value`` / ``key: value`` from a stored config (python or YAML), quotes stripped; None if absent."""
    m = re.search(rf"\b{key}\s*[=:]\s*['\"]?([\w.\-]+)", text)
    return m[1] if m else None


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
    kt_stem = int(stem.shape[2]) if stem is not None and stem.dim() == 5 else 1
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


def placement(blocks: list[dict[str, Any]]) -> str:
    """Human-readable placement of operator blocks: 'layer2 (res3) after blocks [1, 3]; ...'."""
    by_stage: dict[int, list[int]] = {}
    for b in blocks:
        by_stage.setdefault(b["stage"], []).append(b["index"])
    parts = [f"layer{s} (res{s + 1}) after residual blocks {sorted(i)}" for s, i in sorted(by_stage.items())]
    return "; ".join(parts) + " (after the block's residual add and ReLU)" if parts else "no operator blocks"


def our_ops(model: nn.Module) -> list[tuple[int, int, nn.Module]]:
    """(stage, index, op) for every operator our insertion named ``layer{s}.nl{i}``."""
    from nlviz.models import operator_blocks

    out = []
    for name, op in operator_blocks(model):
        m = re.fullmatch(r"layer(\d)\.nl(\d+)", name)
        if not m:
            raise ValueError(f"operator {name!r} is not at a layer{{s}}.nl{{i}} position; cannot export it")
        out.append((int(m[1]), int(m[2]), op))
    return out


def backbone_state(model: nn.Module) -> StateDict:
    """Our model's state dict without the operator blocks (``layer{s}.nl{i}.*``)."""
    return {k: v for k, v in model.state_dict().items() if not re.match(r"layer\d\.nl\d+\.", k)}


def op_state(op: nn.Module) -> StateDict:
    return dict(op.state_dict())


def video_input(ckpt: Checkpoint, frames: int, mean: list[float], std: list[float], sampling: str) -> dict[str, Any]:
    """The card's ``input``: shape (3, T, 224, 224) with T from the file name (``32x2x1``, ``8x8``) or the stored
    config (``clip_len``, ``NUM_FRAMES``) when present; mean/std for ``(x / 255 - mean) / std``."""
    m = re.search(r"(?<![\dx])(\d+)x(\d+)(?:x\d+)?(?![\d])", ckpt.filename)
    stored = config_value(ckpt.text, "clip_len") or config_value(ckpt.text, "NUM_FRAMES")
    t = int(m[1]) if m else int(stored) if stored and stored.isdigit() else frames
    return {"shape": [3, t, 224, 224], "mean": mean, "std": std, "channels": "RGB", "sampling": sampling}
