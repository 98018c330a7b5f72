"""Top-1 evaluation: a model on its synthetic task, or a loaded model on clips read at its input spec.

    evaluate(model, task, seed=1, num=1000)                       # training: task.batch inputs, model's device
    evaluate_model(lm, num=200)                                   # lm's synthetic task (card or UserModel)
    evaluate_model(lm, data="clips/")                             # a class-per-folder dataset (FolderDataset)
    evaluate_model(lm, by="cue")                                  # + top-1 per cue color, each with its SE

:func:`evaluate_model` builds every input with :func:`nlviz.run.model_input` (the spec's frames, size, channels,
mean and std, on the model's device), so a model is judged on what the app and the exporter show it. Labels of
a folder dataset are its class folders, matched to the model's class names when it has them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nlviz.run import LoadedModel, device_of, model_input


def binomial_se(p: float, n: int) -> float:
    """The standard error of a top-1 (a proportion ``p`` of ``n`` clips): √(p(1 − p)/n)."""
    return math.sqrt(p * (1 - p) / n)


def seed_gap(p: float, q: float, n: int) -> float:
    """How far apart two top-1 figures of ``n`` clips each are (a card's and a fresh seed's), in standard errors of
    their difference: |p − q| / √(2 p̄(1 − p̄)/n), p̄ their mean. Both are samples of the same accuracy, so each
    brings its own binomial noise (measuring the gap in one figure's SE treats the other as exact, and near
    p = 1 calls 0 errors against 5 of 1000 a 3.2-SE gap, which Fisher's exact test puts at p = 0.06). 0 when
    p = q."""
    se = math.sqrt(2) * binomial_se((p + q) / 2, n)
    return abs(p - q) / se if se else 0.0


@torch.no_grad()
def evaluate(
    model: nn.Module, task: Any, *, seed: int, num: int, batch_size: int = 100, progress: bool = False
) -> dict[str, Any]:
    """Top-1 accuracy on ``num`` clips of ``task`` generated with ``seed`` (held out from training seeds), run on
    the model's device."""
    from tqdm import tqdm

    was_training = model.training
    model.eval()
    dev = device_of(model)
    correct, loss_sum = 0, 0.0
    for start in tqdm(range(0, num, batch_size), desc="eval", disable=not progress, leave=False):
        x, y = task.batch(seed, start, min(batch_size, num - start))
        x, y = x.to(dev), y.to(dev)
        logits = model(x)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    model.train(was_training)
    return {"top1": correct / num, "loss": loss_sum / num, "num": num, "seed": seed}


def folder_labels(dataset: Any, classes: tuple[str, ...] | None, where: str) -> list[int]:
    """The model's class index of each class folder: by name when the model names its classes, else the folders'
    sorted order (which must then cover no more classes than the model has)."""
    if not classes:
        return list(range(dataset.num_classes))
    missing = [c for c in dataset.class_names if c not in classes]
    if missing:
        raise ValueError(
            f"{dataset.root}: class folder(s) {missing} are not classes of {where}; its classes: {list(classes)}"
        )
    return [classes.index(c) for c in dataset.class_names]


#: what ``evaluate_model(by=...)`` can group clips by: the label's class, or the fill color of the synthetic cue
GROUPINGS = ("class", "cue")


def _task_samples(lm: LoadedModel, seed: int, num: int) -> Iterator[tuple[Any, int, str]]:
    """(clip, label, cue color) of the first ``num`` samples of the model's task at ``seed``."""
    from nlviz.data import make_task

    task = make_task(lm.task["name"], **lm.task["params"])  # type: ignore[index]
    for i in range(num):
        s = task.sample(seed, i)
        cues = s.by_role("cue")
        yield s.to_clip(source=f"synthetic:{i}"), int(s.label), cues[0].color if cues else "none"


def group_top1(keys: list[str], hits: list[bool]) -> list[dict[str, Any]]:
    """Top-1 of each group of clips (``keys[i]`` names clip i's group, ``hits[i]`` whether it was right), with its
    binomial SE, in order of the groups' names: ``[{"value", "num", "top1", "se"}]``."""
    groups: dict[str, list[bool]] = {}
    for k, h in zip(keys, hits, strict=True):
        groups.setdefault(k, []).append(h)
    out = []
    for k in sorted(groups):
        n, p = len(groups[k]), sum(groups[k]) / len(groups[k])
        out.append({"value": k, "num": n, "top1": p, "se": binomial_se(p, n)})
    return out


@torch.no_grad()
def evaluate_model(
    lm: LoadedModel,
    *,
    data: str | os.PathLike | None = None,
    seed: int | None = None,
    num: int | None = None,
    batch_size: int = 32,
    by: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Top-1 of ``lm`` on its synthetic task (``num`` clips, data seed ``seed``, default ``lm.seed``) or, with
    ``data``, on every item of a class-per-folder dataset (the first ``num`` when given).

    Args:
        by: also give top-1 per group of clips: ``"class"`` (the label) or ``"cue"`` (the fill color of a
            synthetic task's cue, which shows a model that tells some cue colors apart and confuses others).

    Returns:
        ``{"top1", "loss", "num", "seed" | "data", "classes"?, "by"?}`` (loss: mean cross-entropy; ``by``:
        ``{"key", "groups": [{"value", "num", "top1", "se"}]}``, see :func:`group_top1`).
    """
    from tqdm import tqdm

    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by={by!r}: group clips by one of {list(GROUPINGS)}")
    if by == "cue" and data is not None:
        raise ValueError(
            f"{data}: grouping by cue color (by='cue', --by cue) needs a synthetic task's cue objects, and a folder of "
            "clips has none; group it by class (by='class')"
        )

    if data is not None:
        from nlviz.data import FolderDataset

        ds = FolderDataset(data, frames=lm.frames, size=lm.size)
        labels = folder_labels(ds, lm.spec.classes, repr(lm.name))
        total = len(ds) if num is None else min(num, len(ds))
        samples: Any = ((ds[i][0], labels[ds.items[i][1]], "") for i in range(total))
        res: dict[str, Any] = {"data": str(data), "classes": list(ds.class_names)}
    else:
        if not lm.task:
            raise ValueError(
                f"model {lm.name!r} names no synthetic task: give it one (--task spacetime|image) or evaluate "
                "on a folder of labelled clips (--data DIR)"
            )
        seed = lm.seed if seed is None else seed
        total = 1000 if num is None else num
        samples = _task_samples(lm, seed, total)
        res = {"seed": seed}
    if total < 1:
        raise ValueError(f"nothing to evaluate: num={total}")
    was_training = lm.model.training
    lm.model.eval()
    correct, seen, loss_sum = 0, 0, 0.0
    hits: list[bool] = []
    keys: list[str] = []
    bar = tqdm(total=total, desc=f"eval {lm.label}", unit="clip", disable=not progress, leave=False)
    batch: list[tuple[torch.Tensor, int]] = []

    def flush() -> None:
        nonlocal correct, seen, loss_sum
        x = torch.cat([b[0] for b in batch])
        y = torch.tensor([b[1] for b in batch], device=x.device)
        logits = lm.model(x)
        if logits.dim() != 2 or logits.shape[1] <= int(y.max()):
            raise ValueError(
                f"model {lm.name!r} gives logits {tuple(logits.shape)}; labels need (N, classes > {int(y.max())})"
            )
        loss_sum += F.cross_entropy(logits.float(), y, reduction="sum").item()
        right = (logits.argmax(1) == y).tolist()
        hits.extend(right)
        correct += sum(right)
        seen += len(batch)
        bar.update(len(batch))
        bar.set_postfix(top1=f"{correct / seen:.3f}")
        batch.clear()

    try:
        for clip, label, cue in samples:
            x = model_input(clip, lm)
            keys.append(cue if by == "cue" else class_name(lm, label))
            if batch and batch[0][0].shape != x.shape or len(batch) == batch_size:
                flush()
            batch.append((x, label))
        if batch:
            flush()
    finally:
        bar.close()
        lm.model.train(was_training)
    if by is not None:
        res["by"] = {"key": by, "groups": group_top1(keys, hits)}
    return {"top1": correct / total, "loss": loss_sum / total, "num": total, **res}


def class_name(lm: LoadedModel, label: int) -> str:
    """The model's name of class ``label`` (its index as text when the model names no classes)."""
    classes = lm.spec.classes
    return classes[label] if classes and label < len(classes) else str(label)
