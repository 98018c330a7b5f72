"""Whole-model checkpoints in public layouts (``.pth``/``.pt``/``.pkl``), read without executing code.

PyTorch files are opened with ``torch.load(weights_only=True)`` only (plain numpy arrays and scalars in their
metadata are allowed through ``torch.serialization.safe_globals``); Caffe2 pickles through the allow-list
unpickler of :mod:`nlviz.io.caffe2`. ``detect`` names the layout from the keys; ``load`` builds the matching
nlviz model and loads the converted weights strictly; ``convert_file`` writes them as an nlviz checkpoint.

A format is ``NAME`` or ``NAME:VARIANT`` for conventions the keys cannot show (``mmaction2:dot_product``);
``formats()`` lists them, ``LAYOUTS`` holds the layouts (one file each in :mod:`nlviz.io.layouts`, registered
there).
A file whose keys no layout fully recognizes, or that does not match the layout asked for, is an error that
lists the missing and unexpected keys and names the closest known format: there are no partial loads.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from nlviz.io import (
    filekind,
    layouts,  # noqa: F401  importing the layout modules registers them in LAYOUTS
)
from nlviz.io.checkpoint import CheckpointError, check_state_dict
from nlviz.io.convert import strip_prefix
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.registries import LAYOUTS

_WRAPPERS = ("state_dict", "model_state", "model")
_TEXT_KEYS = ("cfg", "config", "config_name", "arch")


def formats() -> list[str]:
    """Every accepted format string: layout names and ``NAME:VARIANT``."""
    out = []
    for name in LAYOUTS.names():
        out += [name, *(f"{name}:{v}" for v in LAYOUTS.get(name).variants)]
    return out


def parse_format(fmt: str) -> tuple[Layout, str | None]:
    name, _, variant = fmt.partition(":")
    if fmt not in formats():
        raise CheckpointError(f"format {fmt!r} is not supported; allowed: {['auto', 'nlviz', *formats()]}")
    return LAYOUTS.get(name), variant or None


# ---------------------------------------------------------------------------------------------------- reading
def _numpy_safe_globals() -> list[Any]:
    import numpy as np

    try:
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    dtypes = [type(np.dtype(t)) for t in ("float16", "float32", "float64", "int32", "int64", "bool")]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtypes]


def _torch_load(path: Path) -> Any:
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "numpy" not in str(e):
            raise
    with torch.serialization.safe_globals(_numpy_safe_globals()):
        return torch.load(path, map_location="cpu", weights_only=True)


def _safetensors_load(path: Path) -> Any:
    from safetensors.torch import load_file

    return load_file(str(path))


def _text(obj: Any) -> str:
    """Config text stored beside the weights (mmengine ``meta.cfg``, mmcv ``meta.config``, SlowFast ``cfg``)."""
    parts = []
    for holder in (obj, obj.get("meta") if isinstance(obj, dict) else None):
        if isinstance(holder, dict):
            parts += [holder[k] for k in _TEXT_KEYS if isinstance(holder.get(k), str)]
    return "\n".join(parts)


def read(path: str | os.PathLike) -> Checkpoint:
    """A public checkpoint file → :class:`Checkpoint` (flat tensors + stored config text). No code runs."""
    import torch

    from nlviz.io import caffe2

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found")
    kind = filekind.sniff(path)
    if kind == "unknown":
        raise CheckpointError(filekind.not_a_checkpoint(path))
    errors = []
    readers = {"zip": [("pytorch", _torch_load)], "safetensors": [("safetensors", _safetensors_load)]}.get(
        kind,
        [("caffe2", caffe2.read_blobs), ("pytorch", _torch_load)],  # a plain pickle: Caffe2 or legacy torch
    )
    if kind == "pickle" and path.suffix != ".pkl":
        readers.reverse()
    for name, reader in readers:
        try:
            obj = reader(path)
            break
        except Exception as e:  # noqa: BLE001 - an untrusted file: every failure becomes a message naming it
            errors.append(filekind.explain(name, e).replace(f"{path}: ", ""))
    else:
        raise CheckpointError(f"{path}: cannot read as a weights-only checkpoint ({'; '.join(errors)})")
    text, state = _text(obj), obj
    for key in _WRAPPERS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)] if isinstance(state, dict) else None
    if bad is None or bad:
        raise CheckpointError(
            f"{path}: expected a state dict (names → tensors), got {type(state).__name__}"
            + (f" with non-tensor entries {sorted(map(str, bad))[:8]}" if bad else "")
        )
    return Checkpoint(path, strip_prefix(state), text)


# ---------------------------------------------------------------------------------------------------- detecting
def rank(keys: list[str]) -> list[tuple[str, int, int]]:
    """Layouts by how well they know ``keys``: (name, keys recognized, operator keys recognized), best first."""
    rows = [(name, *LAYOUTS.get(name).score(keys)) for name in LAYOUTS.names()]
    return sorted(rows, key=lambda r: (r[1], r[2], LAYOUTS.get(r[0]).generic), reverse=True)


def closest(keys: list[str]) -> str:
    name, known, _ = rank(keys)[0]
    layout = LAYOUTS.get(name)
    unknown = sorted(k for k in keys if not layout.knows(k))
    return f"closest known format: {name} ({layout.summary}) recognizes {known} of {len(keys)} keys" + (
        f"; keys it does not know ({len(unknown)}): {unknown[:10]}{' …' if len(unknown) > 10 else ''}"
        if unknown
        else ""
    )


def detect(source: str | os.PathLike | Checkpoint) -> str:
    """The layout name of a checkpoint file (every key must be known to it), or a CheckpointError."""
    ckpt = source if isinstance(source, Checkpoint) else read(source)
    keys = list(ckpt.state)
    name, known, _ = rank(keys)[0]
    if not keys or known < len(keys):
        raise CheckpointError(
            f"{ckpt.path}: unknown checkpoint layout; {closest(keys)}. Supported formats: {formats()}; "
            "pass format=... to force one"
        )
    return name


# ---------------------------------------------------------------------------------------------------- loading
def convert(source: str | os.PathLike | Checkpoint, fmt: str = "auto") -> Converted:
    """Read a checkpoint and convert it (layout detected unless ``fmt`` names one) without building the model."""
    ckpt = source if isinstance(source, Checkpoint) else read(source)
    layout, variant = parse_format(detect(ckpt) if fmt == "auto" else fmt)
    try:
        converted = layout.build(ckpt, variant)
    except ValueError as e:  # CheckpointError, or a block converter naming keys it does not know
        where = "" if str(e).startswith(str(ckpt.path)) else f"{ckpt.path}: "
        raise CheckpointError(f"{where}{e}; {closest(list(ckpt.state))}") from None
    converted.card = {
        "format": layout.name
        + (f":{converted.card['variant']}" if converted.card.get("variant") in layout.variants else ""),
        "source": str(ckpt.path),
        **converted.card,
    }
    return converted


def build(converted: Converted, where: Any) -> Any:
    """The nlviz model of ``converted`` with its weights loaded strictly (missing/unexpected keys raise)."""
    from nlviz.models import build_model

    model = build_model(converted.arch, **converted.args)
    state = dict(converted.state)
    for key, value in model.state_dict().items():  # BN step counters: absent from Caffe2 and old files
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = value.new_zeros(())
    try:
        check_state_dict(model, state, where)
    except CheckpointError as e:
        raise CheckpointError(
            str(e).replace(
                "the model described by its card", f"the {converted.card.get('format')} layout (keys in nlviz names)"
            )
        ) from None
    model.load_state_dict(state, strict=True)
    model.card = {
        "name": Path(str(where)).stem,
        "arch": converted.arch,
        "args": model.arch_spec["args"],
        **converted.card,
    }
    return model


def load(path: str | os.PathLike, fmt: str = "auto") -> Any:
    """``nlviz.load_model`` for public files: the converted model in eval mode, ``model.card`` describing it."""
    ckpt = read(path)
    converted = convert(ckpt, fmt)
    try:
        return build(converted, ckpt.path).eval()
    except CheckpointError as e:
        raise CheckpointError(f"{e}; {closest(list(ckpt.state))}") from None


def convert_file(src: str | os.PathLike, out: str | os.PathLike, fmt: str = "auto") -> tuple[Path, Path, Any]:
    """Convert a public checkpoint into an nlviz checkpoint ``OUT.safetensors`` + ``OUT.json``.

    The card records the format, where each convention came from and the input the model expects.
    Returns (weights path, card path, model).
    """
    from nlviz.io.checkpoint import save_checkpoint

    model = load(src, fmt)
    card = {k: v for k, v in model.card.items() if k != "name"}
    card["params"] = sum(p.numel() for p in model.parameters())
    weights, card_path = save_checkpoint(model, card, out)
    return weights, card_path, model


def export_state_dict(model: Any, fmt: str) -> dict[str, Any]:
    """Our model's weights under the key names of a public layout (the inverse of loading)."""
    layout, _ = parse_format(fmt)
    return layout.export(model)
