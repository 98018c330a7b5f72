"""The forward pass under :func:`nlviz.capture`: one call of the model on one clip, with what its blocks saw.

    out = forward(lm, clip)            # out.logits (1, classes), out.rec (a Recording)
    aff = out.rec.affinity(lm.blocks[0], [(0, 3, 4)])

The input is moved to the model's device (:attr:`LoadedModel.device`). No gradients are kept; a model that cannot take the input (its shapes) raises a ValueError that says so.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from nlviz.run.inputs import model_input
from nlviz.run.loaded import LoadedModel


@dataclass
class Forward:
    """One forward pass: ``logits`` (1, classes), detached, on the CPU, and the capture ``rec`` of ``lm.blocks``
    (its rows are computed on the model's device and returned on the CPU)."""

    logits: Tensor
    rec: Any


def forward(
    lm: LoadedModel, clip: Any, *, what: str | None = None, guard: Any = None, features: bool = False
) -> Forward:
    """Run ``lm.model`` on ``clip`` (built by :func:`model_input`) inside ``nlviz.capture``.

    Args:
        what: how the input is named in errors (default: the clip's source).
        guard: a context manager held around the pass (e.g. a lock shared by concurrent readers).
        features: also record each block's input and output feature maps (``capture(features=True)``).
    """
    from nlviz.extract import capture

    x = model_input(clip, lm)
    what = what or getattr(clip, "source", "the input")
    try:
        with (
            guard or contextlib.nullcontext(),
            torch.no_grad(),
            capture(lm.model, blocks=lm.blocks, clip=clip, features=features) as rec,
        ):
            logits = lm.model(x)
    except RuntimeError as e:  # e.g. a checkpoint whose card promises an input it cannot take
        raise ValueError(
            f"model {lm.label!r} cannot run on {what} (input {tuple(x.shape)}): {str(e).splitlines()[0]}"
        ) from None
    if not torch.isfinite(logits).all():
        raise ValueError(f"model {lm.name!r} gives non-finite logits on {what}: nothing to show")
    return Forward(logits.detach().cpu(), rec)
