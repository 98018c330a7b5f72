"""Whole-model checkpoints in public layouts (``.pth``/``.pt``), read without executing code.

Pickles are opened with ``torch.load(weights_only=True)`` only. ``detect`` names the layout from the keys;
``load`` builds the matching nlviz model and loads the converted weights strictly.
Supported so far: ``alexhex7`` (AlexHex7/Non-local_pytorch's MNIST network).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlviz.io.checkpoint import CheckpointError, check_state_dict
from nlviz.io.convert import strip_prefix
from nlviz.registry import Registry

LAYOUTS = Registry("checkpoint layout")


def read_state_dict(path: Path) -> dict[str, Any]:
    """A flat tensor dict from a pickle, with common wrappers (``state_dict``, ``model``) and ``module.`` removed."""
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot read as a weights-only PyTorch checkpoint ({str(e).splitlines()[0]})") from None
    for key in ("state_dict", "model", "model_state"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict), got {type(obj).__name__}")
    return strip_prefix(obj)


@LAYOUTS.register("alexhex7")
def _alexhex7(sd: dict[str, Any]) -> Any:
    from nlviz.models.alexhex7 import AlexHex7MNIST, load_alexhex7_state_dict

    model = AlexHex7MNIST()
    return model, load_alexhex7_state_dict(sd)


_SIGNATURES: dict[str, Callable[[set[str]], bool]] = {
    "alexhex7": lambda keys: {"conv_1.0.weight", "nl_1.theta.weight", "fc.3.weight"} <= keys,
}


def detect(path: Path) -> str:
    keys = set(read_state_dict(path))
    for name, test in _SIGNATURES.items():
        if test(keys):
            return name
    sample = sorted(keys)[:8]
    raise CheckpointError(
        f"{path}: unknown checkpoint layout (first keys: {sample}); supported public layouts: {LAYOUTS.names()}; "
        "pass format=... to force one"
    )


def load(path: Path, layout: str) -> Any:
    build = LAYOUTS.get(layout)
    sd = read_state_dict(path)
    try:
        model, state = build(sd)
    except ValueError as e:
        raise CheckpointError(f"{path}: does not match the {layout!r} layout: {e}") from None
    check_state_dict(model, state, path)
    model.load_state_dict(state, strict=True)
    model.card = {"name": path.stem, "arch": layout, "format": layout, "source": str(path)}
    return model
