"""One forward pass per (model, input): the logits and the :class:`nlviz.extract.Recording` every view reads.

    result = run(lm, data)                                  # forward + capture, once
    aff = query_affinity(result, "layer3.nl0", (2, 17, 14))  # one exact row: O(N·C), no forward

A *point* is (t, y, x) in model-input pixels: frame t of the clip, row y, column x of its (H, W) frames — what
a click on a frame gives. Each block maps it to the query cell that contains it
(:meth:`nlviz.extract.GridGeometry.cell_at`), so one point is "the same place" in every block and model.

Sharing: a Result is never modified after :func:`run` returns (only its ``memo`` of derived numbers grows),
so one cached Result can serve several sessions. Forward passes on one shared model may run concurrently
(``nlviz.capture`` records only its own thread's calls); anything that registers hooks or needs gradients
(captum attributions) takes the model's lock exclusively (:func:`model_lock`).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from nlviz.run import LoadedModel
from nlviz.session.clips import ClipData


class ModelLock:
    """Readers–writer lock: many forward passes at once (``shared``), or one hook-registering job (``exclusive``)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer and self._readers == 0)
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: Any) -> ModelLock:
    """The lock of one model object (created on first use)."""
    with _LOCKS_GUARD:
        if model not in _LOCKS:
            _LOCKS[model] = ModelLock()
        return _LOCKS[model]


@dataclass
class Result:
    """The forward pass of one model on one input: ``logits`` (1, classes) and the capture ``rec``."""

    model: LoadedModel
    data: ClipData
    logits: torch.Tensor
    rec: Any
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> list[str]:
        return self.rec.blocks

    @property
    def probs(self) -> torch.Tensor:
        """(classes,) softmax of the logits."""
        return self.logits[0].softmax(-1)

    @property
    def predicted(self) -> int:
        return int(self.logits[0].argmax())

    @property
    def class_names(self) -> list[str]:
        """Names of the classes from the card (``classes``), else their indices."""
        names = (getattr(self.model.model, "card", None) or {}).get("classes")
        n = self.logits.shape[-1]
        return [str(c) for c in names] if names and len(names) == n else [str(i) for i in range(n)]

    def model_input(self) -> torch.Tensor:
        """The tensor the model was called with (recomputed from the clip; deterministic), on its device."""
        from nlviz.run import model_input

        return model_input(self.data.clip, self.model)


def run(lm: LoadedModel, data: ClipData) -> Result:
    """Forward ``lm`` on ``data`` once under ``nlviz.capture`` (:func:`nlviz.run.forward`, no gradients), holding
    the model's lock shared; a model that cannot take the input (shapes) raises a ValueError that says so."""
    from nlviz.run import forward

    out = forward(lm, data.clip, what=data.description, guard=model_lock(lm.model).shared())
    return Result(lm, data, out.logits, out.rec)


def clamp_point(data: ClipData, point: Any) -> tuple[int, int, int]:
    """(t, y, x) clipped into the model input (T, H, W) as integers."""
    t, y, x = (int(round(float(v))) for v in point)
    tt, h, w = data.shape
    return min(max(t, 0), tt - 1), min(max(y, 0), h - 1), min(max(x, 0), w - 1)


def query_cell(result: Result, block: str, point: Any) -> tuple[int, int, int]:
    """The query cell (t, y, x) of ``block`` that contains model-input pixel ``point``."""
    t, y, x = clamp_point(result.data, point)
    cell = result.rec.geometry(block).query.cell_at(t, y, x)[0]
    return int(cell[0]), int(cell[1]), int(cell[2])


def query_affinity(result: Result, block: str, point: Any) -> Any:
    """The exact Affinity row of the query cell at ``point`` (one query: weights (1, G, 1, Tk, Hk, Wk))."""
    return result.rec.affinity(block, [query_cell(result, block, point)])
