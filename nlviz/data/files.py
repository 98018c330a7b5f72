"""What kind of file a path is (video, image, frame folder) and the checks every reader runs first."""

from __future__ import annotations

import re
from pathlib import Path

from nlviz.data.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".webm", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")

# Leading bytes of image formats, so an image renamed to .mp4 is still recognized as an image.
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def existing(path: str | Path) -> Path:
    """The path as a Path; a missing one is an InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    return p


def existing_file(path: str | Path, what: str) -> Path:
    """An existing regular, non-empty file; ``what`` ("video", "image") words the errors."""
    p = existing(path)
    if p.is_dir():
        raise InputError(
            p, f"is a folder, but a {what} file is required (read_frames_folder or read_clip read folders)"
        )
    if p.stat().st_size == 0:
        raise InputError(p, f"is empty (0 bytes), not a {what}")
    return p


def looks_like_image(path: Path) -> bool:
    """True for an image extension or image magic bytes (checked even when the extension says video)."""
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return True
    with open(path, "rb") as fh:
        head = fh.read(16)
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def natural_key(name: str) -> list:
    """Sort key that orders frame2 before frame10."""
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", name)]


def list_frame_files(folder: str | Path) -> list[Path]:
    """The image files of a frame folder in natural order (the order ``Geometry.frame_indices`` index)."""
    p = existing(folder)
    if not p.is_dir():
        raise InputError(p, "is not a folder of frames")
    files = [
        f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS and not f.name.startswith(".")
    ]
    if not files:
        raise InputError(p, f"contains no image files ({', '.join(IMAGE_EXTENSIONS)})")
    return sorted(files, key=lambda f: natural_key(f.name))


def input_kind(path: str | Path) -> str:
    """``"folder"``, ``"image"`` or ``"video"`` (anything else that is a file is tried as a video)."""
    p = existing(path)
    if p.is_dir():
        return "folder"
    if p.stat().st_size and looks_like_image(p):
        return "image"
    return "video"
