"""What kind of file a checkpoint upload or path is, from its first bytes, and what a reader's failure means.

A file that is not a checkpoint at all (random bytes, a JPEG renamed ``.pth``) gets a message that says so and
shows its first bytes, instead of whatever exception the first reader happened to raise on it.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

#: kinds :func:`sniff` tells apart
KINDS = ("zip", "pickle", "safetensors", "unknown")


def sniff(path: str | Path) -> str:
    """``zip`` (PyTorch's default format), ``pickle`` (legacy PyTorch, Caffe2), ``safetensors`` or ``unknown``."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(16)
    size = p.stat().st_size
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= size - 8 and head[8:9] == b"{":
            return "safetensors"
    return "unknown"


def first_bytes(path: str | Path, n: int = 8) -> str:
    with open(path, "rb") as f:
        return f.read(n).hex(" ")


def not_a_checkpoint(path: str | Path) -> str:
    """The message for a file that none of the checkpoint formats recognizes."""
    return (
        f"{path}: not a checkpoint file: it is neither a PyTorch checkpoint (a zip archive or a pickle), a Caffe2 "
        f"pickle nor a safetensors file (it starts with bytes {first_bytes(path) or '(none: the file is empty)'})"
    )


def explain(kind: str, error: BaseException) -> str:
    """One line saying why a reader of ``kind`` failed (torch's weights-only refusals made readable)."""
    text = str(error)
    hit = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if hit:
        return (
            f"as {kind}: it holds Python objects, not only tensors ({hit[1]}); nlviz reads checkpoints with "
            "torch.load(weights_only=True) and never runs code from a file"
        )
    if "Invalid magic number" in text:
        return f"as {kind}: not a PyTorch file (no PyTorch magic number)"
    if "WeightsUnpickler error" in text:
        detail = text.split("WeightsUnpickler error:", 1)[1].strip().splitlines()[0]
        return f"as {kind}: a damaged or unsupported pickle ({detail})"
    first = text.splitlines()[0] if text else ""
    if isinstance(error, ValueError) and first:  # our own readers' messages (CheckpointError) say it already
        return f"as {kind}: {first}"
    return f"as {kind}: {type(error).__name__}" + (f": {first}" if first else "")
