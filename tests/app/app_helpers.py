"""Shared pieces of the app tests: tiny random checkpoints (no training) in a temporary zoo, the app folder on
sys.path, and bad upload payloads."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import torch

import nlviz
from nlviz.data import make_task
from nlviz.io.checkpoint import save_checkpoint
from nlviz.models import build_model

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
PAGES = APP / "app_pages"
TASK = {"name": "spacetime", "params": {"frames": 4, "size": 32, "cue_frames": 1, "probe_frames": 2}}
IMAGE_TASK = {"name": "image", "params": {"size": 32, "radius": 3}}
INPUT = {"shape": [3, 4, 32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
IMAGE_INPUT = {"shape": [3, 32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
#: name → (arch, operator options) of the tiny zoo
TINY = {
    "tiny_nl_embedded": ("tiny_c2d", "nonlocal", {"mode": "embedded_gaussian"}),
    "tiny_nl_dot": ("tiny_c2d", "nonlocal", {"mode": "dot_product"}),
    "tiny_bat3d": (
        "tiny_c2d",
        "bat",
        {"block_size": 4, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2},
    ),
    "tiny_baseline": ("tiny_c2d", None, None),
    "tiny_im_nl": ("tiny_resnet2d", "nonlocal", {"mode": "embedded_gaussian"}),
}
#: more operators, saved on demand (not in the zoo the page tests list)
EXTRA = {
    "tiny_nl_sub": ("tiny_c2d", "nonlocal", {"mode": "embedded_gaussian", "sub_sample": True}),
    "tiny_bat2d": ("tiny_c2d", "bat", {"block_size": 4, "groups": 2, "dim": 2}),
    "tiny_cgnl": ("tiny_c2d", "cgnl", {"kernel": "gaussian", "groups": 2, "order": 2}),
    "tiny_sb": ("tiny_c2d", "spatial_bias", {}),
    "tiny_nl_concat": ("tiny_c2d", "nonlocal", {"mode": "concatenation"}),
}


def app_on_path() -> None:
    """The pages import state/widgets/resources from app/ (Streamlit puts the entry script's folder on sys.path)."""
    if str(APP) not in sys.path:
        sys.path.insert(0, str(APP))


def save_tiny(folder: Path, name: str, seed: int = 0) -> Path:
    """A randomly initialized tiny model (an 8×8 grid per frame at stage 3) saved with a card into ``folder``."""
    arch, op, options = {**TINY, **EXTRA}[name]
    torch.manual_seed(seed)
    blocks = [] if op is None else [{"op": op, "stage": 3, "index": 0, "options": options}]
    args = {"num_classes": 4, "widths": [8, 8, 16], "blocks": blocks}
    model = build_model(arch, **args).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    image = arch == "tiny_resnet2d"
    card = {
        "arch": arch,
        "args": args,
        "task": IMAGE_TASK if image else TASK,
        "input": IMAGE_INPUT if image else INPUT,
        "data": {"eval_seed": 3},
        "operator": op or "none",
        "classes": ["top-left", "top-right", "bottom-left", "bottom-right"],
        "metrics": {"top1": 0.25},
    }
    save_checkpoint(model, card, folder / name)
    return folder / f"{name}.json"


def tiny_zoo(folder: Path, names: tuple[str, ...] = tuple(TINY)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(names):
        save_tiny(folder, n, seed=i)
    return folder


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
