"""The app under test: its folder on ``sys.path`` (as Streamlit puts it), the reference computation of what a
page shows, and bad upload payloads."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import torch

import nlviz
from nlviz.data import make_task

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
PAGES = APP / "app_pages"


def app_on_path() -> None:
    """The pages import state/widgets/resources from app/ (Streamlit puts the entry script's folder on sys.path)."""
    if str(APP) not in sys.path:
        sys.path.insert(0, str(APP))


def direct(name: str, index: int = 0):
    """Model, clip and recording computed without nlviz.session (the reference)."""
    model = nlviz.load_model(name)
    card = model.card
    task = make_task(card["task"]["name"], **card["task"]["params"])
    clip = task.sample(card["data"]["eval_seed"], index).to_clip()
    stats = card["input"]["mean"], card["input"]["std"]
    x = clip.to_tensor(*stats) if len(card["input"]["shape"]) == 4 else clip.image_tensor(0, *stats)
    with torch.no_grad(), nlviz.capture(model, clip=clip) as rec:
        logits = model(x)
    return model, clip, rec, logits


def random_pth() -> bytes:
    """A real weights-only torch file whose keys match no known layout."""
    buf = io.BytesIO()
    torch.save({"encoder.weight": torch.randn(3, 3), "mystery.bias": torch.randn(3)}, buf)
    return buf.getvalue()


def corrupt_video() -> bytes:
    return b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16


def huge_png(side: int = 5000) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", np.zeros((side, side, 3), np.uint8))
    assert ok
    return buf.tobytes()
