"""Tiny randomly initialized checkpoints (no training), saved with a card: the app tests' zoo and the export
tests' model."""

from __future__ import annotations

from pathlib import Path

import torch

from nlviz.io.checkpoint import save_checkpoint
from nlviz.models import build_model
from support.randomize import randomize

SPACETIME_TASK = {"name": "spacetime", "params": {"frames": 4, "size": 32, "cue_frames": 1, "probe_frames": 2}}
IMAGE_TASK = {"name": "image", "params": {"size": 32, "radius": 3}}
SPACETIME_INPUT = {"shape": [3, 4, 32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
IMAGE_INPUT = {"shape": [3, 32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
#: the app tests' tiny zoo: name → (arch, operator, operator options)
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


def save_random(path: Path, arch: str, args: dict, card: dict, *, seed: int, std: float) -> Path:
    """``build_model(arch, **args)`` after ``torch.manual_seed(seed)``, N(0, std²) noise added to every parameter
    (so zero-initialized blocks are active), saved at ``path`` with the card ``{arch, args, **card}``; returns the
    card's path."""
    torch.manual_seed(seed)
    model = randomize(build_model(arch, **args), seed=None, std=std, add=True)
    save_checkpoint(model, {"arch": arch, "args": args, **card}, path)
    return path.with_suffix(".json")


def save_tiny(folder: Path, name: str, seed: int = 0) -> Path:
    """The zoo model ``name`` (of :data:`TINY` or :data:`EXTRA`: an 8×8 grid per frame at stage 3) saved into
    ``folder``."""
    arch, op, options = {**TINY, **EXTRA}[name]
    blocks = [] if op is None else [{"op": op, "stage": 3, "index": 0, "options": options}]
    image = arch == "tiny_resnet2d"
    card = {
        "task": IMAGE_TASK if image else SPACETIME_TASK,
        "input": IMAGE_INPUT if image else SPACETIME_INPUT,
        "data": {"eval_seed": 3},
        "operator": op or "none",
        "classes": ["top-left", "top-right", "bottom-left", "bottom-right"],
        "metrics": {"top1": 0.25},
    }
    args = {"num_classes": 4, "widths": [8, 8, 16], "blocks": blocks}
    return save_random(folder / name, arch, args, card, seed=seed, std=0.1)


def tiny_zoo(folder: Path, names: tuple[str, ...] = tuple(TINY)) -> Path:
    """The models ``names`` (default: all of :data:`TINY`) saved into ``folder``, the i-th with seed i."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(names):
        save_tiny(folder, n, seed=i)
    return folder


def save_tiny_c2d(path: Path, op: str = "nonlocal", options: dict | None = None, seed: int = 0) -> Path:
    """A tiny C2D with one operator in stage 3 (an 8×8 grid per frame) and a spacetime card, saved at ``path``
    (the export tests' model)."""
    options = {"mode": "embedded_gaussian"} if options is None else options
    args = {"num_classes": 4, "widths": [8, 8, 8], "blocks": [{"op": op, "stage": 3, "index": 0, "options": options}]}
    card = {"task": SPACETIME_TASK, "input": SPACETIME_INPUT, "data": {"eval_seed": 7}}
    return save_random(path, "tiny_c2d", args, card, seed=seed, std=0.05)
