"""Inputs for an interactive session: a synthetic clip with its masks, a sample video, or an uploaded file.

Every input is read for one model — its frames, size and input kind (video or image) — and returned as a
:class:`ClipData`: the :class:`nlviz.data.Clip` the model sees, the ``source`` string ``nlviz export`` accepts
for the same input (``synthetic:I``, or a file path), and for synthetic clips the ground truth (instance masks,
objects, label). ``key`` identifies the input *as read* (source + frames + size), so results can be cached by
(model, key).

Uploaded videos and images are size-checked, written to a private folder named by their content hash, checked
for their resolution *before* decoding (:data:`MAX_SIDE`), and read by :func:`nlviz.data.read_clip`. A bad file
is an :class:`~nlviz.session.models.UploadError` naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlviz.run import LoadedModel
from nlviz.session.models import UploadError, _write, digest, safe_filename, upload_dir

#: uploaded videos/images larger than this are refused (bytes)
MAX_MEDIA_BYTES = 100 * 2**20
#: uploaded frames whose long side exceeds this many pixels are refused before they are decoded
MAX_SIDE = 4096
#: the sample video: a synthetic spacetime scene at twice the zoo's resolution, padded left and right to 3:2
SAMPLE_TASK = {"frames": 16, "size": 64, "radius": 6, "colors": 4, "cue_frames": 4, "probe_frames": 8}
SAMPLE_PAD = 16  # background columns added on each side (the video is 64×96)
INPUT_KINDS = ("synthetic", "sample video", "upload")


def media_extensions() -> list[str]:
    """File extensions (without the dot) of the videos and images an upload may be."""
    from nlviz.data import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

    return [e.lstrip(".") for e in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS]


@dataclass
class ClipData:
    """One input as a model reads it.

    Attributes:
        key: identifies the input as read (source, frames, size, input kind).
        source: what ``nlviz export --input`` takes for it (``synthetic:I`` or a file path).
        clip: the model-input frames (uint8 (T, H, W, 3)) and their geometry.
        description: one line for people.
        masks: synthetic clips: int32 (T, H, W) object id per pixel (0 = background); else None.
        objects: synthetic clips: object id → :class:`nlviz.data.ObjectInfo`; else None.
        label: synthetic clips: the ground-truth class index; else None.
    """

    key: str
    source: str
    clip: Any
    description: str
    masks: np.ndarray | None = None
    objects: dict[int, Any] | None = None
    label: int | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(T, H, W) of the model input."""
        return (self.clip.num_frames, *self.clip.size)


def _read_key(source: str, lm: LoadedModel) -> str:
    return f"{source}|frames={lm.frames}|size={lm.size}|{'video' if lm.video else 'image'}"


def synthetic(lm: LoadedModel, index: int) -> ClipData:
    """Sample ``index`` of the model's synthetic task (its card's task, data seed ``lm.seed``), with masks."""
    from nlviz.data import make_task

    if not lm.task:
        raise ValueError(
            f"model {lm.name!r} has no synthetic task in its card: choose the sample video or upload a clip"
        )
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"synthetic clip index {index!r} must be a non-negative integer")
    task = make_task(lm.task["name"], **lm.task["params"])
    sample = task.sample(lm.seed, index)
    source = f"synthetic:{index}"
    label = task.class_names[sample.label] if task.class_names else str(sample.label)
    return ClipData(
        _read_key(f"{source}@seed{lm.seed}", lm),
        source,
        sample.to_clip(source=source),
        f"synthetic {lm.task['name']} clip {index} (seed {lm.seed}), label: {label}",
        sample.masks,
        sample.objects,
        int(sample.label),
    )


def sample_video_path(index: int = 0) -> Path:
    """An H.264 MP4 of a synthetic scene (64×96 px, 16 frames), written once per index."""
    from nlviz.data import make_task
    from nlviz.data.synthetic import BACKGROUND
    from nlviz.export.files import write_mp4

    path = upload_dir() / "samples" / f"sample_{index}.mp4"
    if not path.exists():
        frames = make_task("spacetime", **SAMPLE_TASK).sample(0, index).frames  # (16, 64, 64, 3)
        padded = np.empty((len(frames), 64, 64 + 2 * SAMPLE_PAD, 3), dtype=np.uint8)
        padded[:] = BACKGROUND
        padded[:, :, SAMPLE_PAD:-SAMPLE_PAD] = frames
        write_mp4(path, list(padded), fps=8.0)
    return path


def sample_video(lm: LoadedModel, index: int = 0) -> ClipData:
    """The sample video read like any video file: ``lm.frames`` sampled frames, resized and cropped."""
    from nlviz.data import read_clip

    path = sample_video_path(index)
    clip = read_clip(path, frames=lm.frames, size=lm.size)
    return ClipData(_read_key(str(path), lm), str(path), clip, f"sample video {index} ({path.name}, 64×96, 16 frames)")


def check_resolution(path: Path, name: str, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """(H, W) of an image or video read from its header; an UploadError when the long side exceeds ``max_side``.
    Unreadable headers pass (the reader reports them)."""
    from nlviz.data.files import looks_like_image

    h = w = 0
    if looks_like_image(path):
        from PIL import Image

        try:
            with Image.open(path) as im:
                w, h = im.size
        except Image.DecompressionBombError:
            raise UploadError(
                f"{name}: the image is far too large (a decompression bomb); at most {max_side} px per side"
            ) from None
        except (OSError, ValueError, SyntaxError):
            return 0, 0
    else:
        import cv2

        cap = cv2.VideoCapture(str(path))
        try:
            if cap.isOpened():
                h, w = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        finally:
            cap.release()
    if max(h, w) > max_side:
        raise UploadError(f"{name}: resolution {w}×{h} is too large; at most {max_side} px on the long side")
    return h, w


def save_upload(name: str, data: bytes, *, max_bytes: int = MAX_MEDIA_BYTES) -> Path:
    """Check an uploaded video/image (extension, size) and write it under :func:`upload_dir`; returns its path."""
    from nlviz.data import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

    suffix = Path(name).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS:
        raise UploadError(
            f"{name}: {suffix or 'no extension'} is not a video or image; allowed: "
            f"{list(VIDEO_EXTENSIONS + IMAGE_EXTENSIONS)}"
        )
    if not data:
        raise UploadError(f"{name}: the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise UploadError(f"{name}: {len(data) / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB upload limit")
    folder = upload_dir() / digest(data)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_filename(name)
    _write(path, data)
    return path


def read_upload(lm: LoadedModel, path: str | Path, name: str | None = None) -> ClipData:
    """An uploaded file (written by :func:`save_upload`) read for ``lm``; every failure is an UploadError that
    names the file as uploaded (``name``)."""
    from nlviz.data import read_clip

    path = Path(path)
    name = name or path.name
    check_resolution(path, name)
    try:
        clip = read_clip(path, frames=lm.frames, size=lm.size)
    except ValueError as e:  # InputError: names the file and the problem
        raise UploadError(str(e).replace(str(path), name)) from None
    except Exception as e:  # noqa: BLE001 - an untrusted file: any failure becomes a message
        raise UploadError(f"{name}: cannot be read as a video or image ({type(e).__name__}: {e})") from None
    return ClipData(_read_key(str(path), lm), str(path), clip, f"uploaded {name}")


def uploaded(lm: LoadedModel, name: str, data: bytes, *, max_bytes: int = MAX_MEDIA_BYTES) -> ClipData:
    """An uploaded video or image (name + bytes), checked, saved and read for ``lm``."""
    return read_upload(lm, save_upload(name, data, max_bytes=max_bytes), name)


def read(lm: LoadedModel, kind: str, arg: Any) -> ClipData:
    """One input by kind (:data:`INPUT_KINDS`): ``synthetic`` / ``sample video`` with an index, ``upload`` with
    the path :func:`save_upload` returned."""
    if kind == "synthetic":
        return synthetic(lm, int(arg))
    if kind == "sample video":
        return sample_video(lm, int(arg))
    if kind == "upload":
        return read_upload(lm, arg)
    raise ValueError(f"input kind {kind!r} is not known; allowed: {list(INPUT_KINDS)}")


def default_point(data: ClipData) -> tuple[int, int, int]:
    """A first query (t, y, x) in model-input pixels: the cue object's center in its first frame on a synthetic
    clip (the object the label depends on), else the center of the middle frame."""
    t, h, w = data.shape
    for obj in (data.objects or {}).values():
        if obj.role == "cue" and obj.frames[0] < t:
            y, x = obj.centers[0]
            return int(obj.frames[0]), int(min(max(y, 0), h - 1)), int(min(max(x, 0), w - 1))
    return t // 2, h // 2, w // 2
