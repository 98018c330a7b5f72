"""Inputs for a loaded model: read a source as the model reads it, and build the tensor it is called with.

Sources (what ``nlviz export --input`` takes, one item each): ``synthetic:I`` (clip I of a model's synthetic
task, at its data seed), ``frames:DIR`` (a folder of frames) or a video/image file. Frames are read as uint8 RGB
at the spec's frames and size; :func:`model_input` converts them to the spec's channels and normalization.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from nlviz.run.loaded import LoadedModel


def synthetic_sample(source: str, lm: LoadedModel) -> Any:
    """The :class:`nlviz.data.SyntheticClip` (frames, masks, objects, label) of ``synthetic:I``: sample I of
    ``lm``'s synthetic task at its data seed."""
    from nlviz.data import make_task

    if not lm.task:
        raise ValueError(f"synthetic inputs need a model whose card names its task; {lm.name!r} has none")
    index = source.split(":", 1)[1]
    if not index.isdigit():
        raise ValueError(f"input {source!r}: write synthetic:I with I a clip index (0, 1, ...)")
    return make_task(lm.task["name"], **lm.task["params"]).sample(lm.seed, int(index))


def read_input(source: str, lm: LoadedModel, task_model: LoadedModel | None = None) -> Any:
    """The :class:`nlviz.data.Clip` of ``source`` for ``lm``; ``synthetic:I`` uses ``task_model``'s task and
    seed (default ``lm``'s), so several models can be shown the same synthetic clip."""
    from nlviz.data import read_clip, read_frames_folder

    if source.startswith("synthetic:"):
        return synthetic_sample(source, task_model or lm).to_clip(source=source)
    if source.startswith("frames:"):
        return read_frames_folder(source.split(":", 1)[1], frames=lm.frames, size=lm.size)
    return read_clip(source, frames=lm.frames, size=lm.size)


def model_input(clip: Any, lm: LoadedModel) -> Tensor:
    """The tensor ``lm.model`` is called with: (1, C, T, H, W) for video models, (1, C, H, W) (frame 0) for
    image models, converted to the spec's channels, normalized by its mean and std, on the model's device."""
    spec = lm.spec
    x = clip.to_tensor(spec.mean, spec.std) if spec.video else clip.image_tensor(0, spec.mean, spec.std)
    return x.to(lm.device)
