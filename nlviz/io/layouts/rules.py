"""Key renaming rules of whole-model layouts: ``rename_all`` (every key by the first matching regex rule, a
CheckpointError naming the rest), ``two_way`` (both directions from ``(theirs, ours)`` templates), the plain block
of the CGNL/BAT repositories (``tpgz_rules``) and ``convert_block`` (one operator block through its source).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping

from torch import Tensor

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.convert import StateDict, rename

BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


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
