"""Shared pieces of the export tests: a tiny random checkpoint with a synthetic task, and mixed input files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from video_files import write_cv2, write_h264

from nlviz.io.checkpoint import save_checkpoint
from nlviz.models import build_model

TASK = {"name": "spacetime", "params": {"frames": 4, "size": 32, "cue_frames": 1, "probe_frames": 2}}
INPUT = {"shape": [3, 4, 32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


def save_tiny(path: Path, op: str = "nonlocal", options: dict | None = None, seed: int = 0) -> Path:
    """A randomly initialized tiny C2D with one operator in stage 3 (an 8×8 grid per frame), saved with a card."""
    torch.manual_seed(seed)
    args = {
        "num_classes": 4,
        "widths": [8, 8, 8],
        "blocks": [
            {"op": op, "stage": 3, "index": 0, "options": {"mode": "embedded_gaussian"} if options is None else options}
        ],
    }
    model = build_model("tiny_c2d", **args).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    save_checkpoint(
        model, {"arch": "tiny_c2d", "args": args, "task": TASK, "input": INPUT, "data": {"eval_seed": 7}}, path
    )
    return path.with_suffix(".json")


def frame(i: int, h: int, w: int) -> np.ndarray:
    f = np.zeros((h, w, 3), np.uint8)
    f[..., 0] = 30 * i
    f[h // 4 : h // 2, w // 4 : w // 2] = (40, 200, 90)
    return f


def mixed_folder(root: Path) -> dict[str, bool]:
    """Good and bad inputs of every kind; returns {file name: expected to succeed}."""
    root.mkdir(parents=True, exist_ok=True)
    write_cv2(root / "a_mjpg.avi", [frame(i, 40, 56) for i in range(6)], "MJPG")
    write_h264(root / "b_h264.mp4", [frame(i, 48, 64) for i in range(5)], fps=12)
    write_cv2(root / "c_vp8.webm", [frame(i, 36, 36) for i in range(5)], "VP80")
    cv2.imwrite(str(root / "d_image.png"), frame(2, 30, 40))
    (root / "e_corrupt.avi").write_bytes(b"RIFF\x00\x01\x02\x03AVI LIST" + bytes(range(256)) * 8)
    (root / "f_empty.mp4").write_bytes(b"")
    (root / "g_text.mp4").write_text("this is a text file renamed .mp4\n")
    (root / "notes.txt").write_text("not an input: skipped when the folder is expanded\n")
    return {
        "a_mjpg.avi": True,
        "b_h264.mp4": True,
        "c_vp8.webm": True,
        "d_image.png": True,
        "e_corrupt.avi": False,
        "f_empty.mp4": False,
        "g_text.mp4": False,
    }


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp-" in p.name]
