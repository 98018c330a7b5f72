"""Which source frames become the T model-input frames: a fixed stride, or spread uniformly.

Short sources follow a ``pad`` policy:

- ``"repeat"`` (default): the missing frames repeat the last frame that exists; ``Geometry.padded`` marks them;
- ``"error"``: refuse with an :class:`InputError` that says how many frames exist and how many are needed.
"""

from __future__ import annotations

from pathlib import Path

from nlviz.data.errors import InputError

PAD_POLICIES = ("repeat", "error")


def check_sampling(frames: int | None, stride: int | None, start: int, pad: str) -> None:
    """Raise a ValueError naming a bad sampling argument."""
    for name, value, low in (("frames", frames, 1), ("stride", stride, 1), ("start", start, 0)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low):
            raise ValueError(f"{name}={value!r} must be an integer >= {low}" + (" or None" if name != "start" else ""))
    if pad not in PAD_POLICIES:
        raise ValueError(f"pad={pad!r}; valid: {list(PAD_POLICIES)} (repeat the last frame, or refuse short sources)")


def sample_indices(
    available: int,
    frames: int | None,
    *,
    stride: int | None = None,
    start: int = 0,
    pad: str = "repeat",
    source: str | Path = "<source>",
) -> tuple[tuple[int, ...], tuple[bool, ...]]:
    """Pick the source frame of every model-input frame.

    Args:
        available: number of frames in the source (≥ 1).
        frames: T, the number of model-input frames; ``None`` takes every ``stride``-th frame from ``start``.
        stride: take frames ``start, start + stride, ...``; ``None`` spreads T frames uniformly over the
            source (the middle of T equal segments) and ignores ``start``.
        start: first source frame when ``stride`` is given (or when ``frames`` is None).
        pad: ``"repeat"`` or ``"error"`` for a source with too few frames (module docstring).
        source: the file, named in errors.

    Returns:
        (indices, padded): T source indices, and per index whether it is padding.
    """
    check_sampling(frames, stride, start, pad)
    if available < 1:
        raise InputError(source, "has no frames")
    if frames is None or stride is not None:
        step = stride or 1
        if start >= available:
            raise InputError(source, f"start={start} is past the last frame (the source has {available} frames)")
        count = frames if frames is not None else len(range(start, available, step))
        wanted = [start + k * step for k in range(count)]
        need = wanted[-1] + 1
    else:
        wanted = (
            [(2 * k + 1) * available // (2 * frames) for k in range(frames)]
            if available >= frames
            else list(range(frames))
        )
        need = frames
    if need <= available:
        return tuple(wanted), (False,) * len(wanted)
    if pad == "error":
        how = f"stride {stride} from frame {start}" if stride is not None else "uniform sampling"
        raise InputError(source, f"has {available} frame(s) but {frames} frames with {how} need {need} (pad='error')")
    last = max(i for i in wanted if i < available)
    return tuple(i if i < available else last for i in wanted), tuple(i >= available for i in wanted)
