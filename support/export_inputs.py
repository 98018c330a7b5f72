"""Export inputs: a folder with good and bad files of every kind, and the temporary files a run may leave."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from support.videos import write_cv2, write_h264


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
