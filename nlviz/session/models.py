"""Models for an interactive session: the user's models and the zoo, the default choice, and loading by name or
from uploads.

Names are what the browser sends. :func:`load` imports code only for a model ``nlviz app`` listed in the
environment (:mod:`nlviz.session.usermodels`); any other name is a zoo name or a checkpoint file, read by
:func:`nlviz.run.load_checkpoint`, which never runs code — so no value from the browser can import a module.
Models run on the device ``nlviz app --device`` chose (``NLVIZ_DEVICE``).

A loaded model is a :class:`nlviz.run.LoadedModel` (the model in eval mode plus what reading inputs for it
needs: its input spec, synthetic task, data seed, operator blocks) — the same record the batch exporter uses, so
a view shown in the app and the files ``nlviz export`` writes see the same inputs.

Uploaded checkpoints are written to a private folder and read only through :func:`nlviz.run.load_checkpoint`
(safetensors, or ``torch.load(weights_only=True)``): nothing in an uploaded file is executed. Any problem —
too large, wrong kind of file, unreadable, weights that match no known layout — is an :class:`UploadError`
whose message names the file and the problem.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from nlviz.run import LoadedModel

#: the model the app opens on when it exists
DEFAULT_MODEL = "st_nl_embedded"
#: uploaded checkpoints larger than this are refused (bytes)
MAX_CHECKPOINT_BYTES = 200 * 2**20
#: one-file checkpoint formats (public layouts, read weights-only)
PICKLE_SUFFIXES = (".pth", ".pt", ".pyth", ".pkl", ".tar", ".bin", ".ckpt")
#: model-input side used when a checkpoint does not record its input size
FALLBACK_SIZE = 224


class UploadError(ValueError):
    """An uploaded file that cannot be used; ``str(err)`` names the file and says what is wrong."""


def upload_dir() -> Path:
    """The folder uploads are written to (one per machine user; files are named by their content hash)."""
    d = Path(tempfile.gettempdir()) / "nlviz-uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def digest(*parts: bytes) -> str:
    """A short content hash (16 hex digits) of one or more byte strings."""
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:16]


def safe_filename(name: str) -> str:
    """An uploaded file's base name reduced to safe characters (no folders, no leading dots)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name)).name).lstrip(".")
    return base or "upload"


def zoo_models() -> list[dict[str, Any]]:
    """The zoo cards (``nlviz models``), each with ``name``, ``operator`` ("none" for baselines), ``task``."""
    from nlviz.io.checkpoint import zoo_cards

    return [c | {"operator": c.get("operator", "none")} for c in zoo_cards()]


def zoo_folder() -> Path:
    """The folder the zoo is read from (``checkpoints/`` or ``NLVIZ_CHECKPOINTS``)."""
    from nlviz.io.checkpoint import zoo_dir

    return zoo_dir()


def model_names() -> list[str]:
    """What the model picker lists: the user's models (``nlviz app --model``) first, then the zoo models that have
    an operator."""
    from nlviz.session.usermodels import user_models

    return [*user_models(), *(c["name"] for c in zoo_models() if c["operator"] != "none")]


def caption(name: str) -> str:
    """One line about a listed model: its factory and weights, or its zoo card (operator, arch, task, top-1)."""
    from nlviz.session.usermodels import find

    um = find(name)
    if um is not None:
        weights = Path(um.weights).name if um.weights else "the factory's own weights"
        task = f" · task {um.task['name']}" if um.task else ""
        return f"your model · {um.factory} · {weights}{task}"
    c = next((c for c in zoo_models() if c["name"] == name), None)
    if c is None:
        return name
    top1 = c.get("metrics", {}).get("top1")
    task = (c.get("task") or {}).get("name", "?")
    text = f"{c['operator']} · {c['arch']} · task {task}" + (f" · top-1 {top1:.3f}" if top1 is not None else "")
    if links_frames(c) is False:
        text += " · its operator works per frame, so it cannot link the cue's frames to the target's"
    chance = 1 / len(c["classes"]) if c.get("classes") else None
    if top1 is not None and chance and top1 < chance + 0.1:
        text += f" · near chance ({chance:.2f}): the task needs what this model lacks (checkpoints/README.md)"
    return text


def links_frames(card: dict[str, Any]) -> bool | None:
    """Whether a video model's operators can link frames, from its card's operator blocks: non-local and CGNL
    blocks span the clip; BAT does only with its temporal transform (``temporal=True``); Spatial Bias works per
    frame. None for image models, and for cards that list no operator blocks."""
    task = (card.get("task") or {}).get("name")
    blocks = card.get("operator_blocks") or []
    if task != "spacetime" or not blocks:
        return None
    for b in blocks:
        if b.get("op") in ("nonlocal", "cgnl") or (b.get("op") == "bat" and b.get("options", {}).get("temporal")):
            return True
    return False


def picker_label(name: str) -> str:
    """How the model picker lists a model: its name, its top-1 when the card has one, and for video models whose
    operators work per frame, that they cannot link frames."""
    c = next((c for c in zoo_models() if c["name"] == name), None)
    if c is None:
        return Path(name).name if os.sep in name else name
    top1 = c.get("metrics", {}).get("top1")
    label = name + (f" — top-1 {top1:.2f}" if top1 is not None else "")
    return label + (" · per-frame: cannot link frames" if links_frames(c) is False else "")


def domain_note(lm: LoadedModel, source: str) -> str | None:
    """A notice when real media meets a model trained only on a synthetic task: its prediction uses the task's
    class names and its attention is out of domain. None for synthetic clips and for models without a task."""
    if not lm.task or source.startswith("synthetic"):
        return None
    t, h = lm.frames, lm.size
    shape = f"{t} frames of {h}×{h} px" if lm.video else f"{h}×{h} px images"
    return (
        f"Out of domain: {lm.name} was trained only on nlviz's synthetic '{lm.task['name']}' task ({shape}). This "
        f"input is resized to that, and the prediction uses that task's class names, so it means little here; the "
        f"attention shows what the operator does on unfamiliar input."
    )


def default_model(cards: list[dict[str, Any]]) -> str | None:
    """The first of the user's models when there are any; else ``st_nl_embedded`` if present, else the first
    model with a non-local operator, else the first; None if there is nothing."""
    from nlviz.session.usermodels import user_models

    users = list(user_models())
    if users:
        return users[0]
    names = [c["name"] for c in cards]
    if DEFAULT_MODEL in names:
        return DEFAULT_MODEL
    with_ops = [c["name"] for c in cards if c["operator"] != "none"]
    return (with_ops or names or [None])[0]


def describe(name: str, model: Any) -> LoadedModel:
    """The LoadedModel of a model (every operator block selected); a model without operator blocks raises a
    ValueError that says so."""
    from nlviz import run

    lm = run.describe(name, model)
    if lm.size is None:  # the card records no input size: read inputs at a common ImageNet size
        lm.spec = lm.spec.override(size=FALLBACK_SIZE)
    return lm


def load(name: str) -> LoadedModel:
    """A listed model of the user's (built by its factory), else a zoo model or checkpoint path by name, in eval
    mode on the session's device. Only a listed name imports code (see the module docstring)."""
    from nlviz.run import build_user_model, load_checkpoint
    from nlviz.session.usermodels import device, find

    um = find(name)
    model = build_user_model(um, device=device()) if um is not None else load_checkpoint(name, device=device())
    return describe(name, model)


def save_checkpoint_upload(files: list[tuple[str, bytes]], *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Path:
    """Write uploaded checkpoint files under :func:`upload_dir` and return the path to load.

    ``files`` is one public checkpoint (``.pth``, ``.pt``, ``.pyth``, ``.pkl``, ``.pth.tar`` ...) or an nlviz
    checkpoint's two files (``NAME.safetensors`` + ``NAME.json``, written with one stem).
    """
    if not files:
        raise UploadError("no checkpoint file uploaded")
    for name, data in files:
        if len(data) > max_bytes:
            raise UploadError(f"{name}: {len(data) / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB upload limit")
        if not data:
            raise UploadError(f"{name}: the file is empty (0 bytes)")
    suffixes = {Path(n).suffix.lower(): (n, d) for n, d in files}
    folder = upload_dir() / digest(*(d for _, d in files))
    folder.mkdir(parents=True, exist_ok=True)
    if set(suffixes) == {".safetensors", ".json"} and len(files) == 2:
        stem = Path(safe_filename(suffixes[".json"][0])).stem or "model"  # one stem: the card names the weights
        for suffix, (_, data) in suffixes.items():
            _write(folder / f"{stem}{suffix}", data)
        return folder / f"{stem}.json"
    if len(files) == 1 and Path(files[0][0]).suffix.lower() in PICKLE_SUFFIXES:
        name, data = files[0]
        path = folder / safe_filename(name)
        _write(path, data)
        return path
    names = ", ".join(n for n, _ in files)
    if suffixes.keys() & {".safetensors", ".json"}:
        raise UploadError(
            f"{names}: an nlviz checkpoint is two files, NAME.safetensors and NAME.json; upload both together"
        )
    raise UploadError(
        f"{names}: not a checkpoint; upload one of {list(PICKLE_SUFFIXES)} or a .safetensors + .json pair"
    )


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)


def load_upload(
    files: list[tuple[str, bytes]], *, max_bytes: int = MAX_CHECKPOINT_BYTES, loader: Any = None
) -> LoadedModel:
    """Save and load uploaded checkpoint files (see :func:`save_checkpoint_upload`); every failure is an
    UploadError. ``loader(path)`` loads the saved file (default :func:`load`; the app passes its cached one)."""
    path = save_checkpoint_upload(files, max_bytes=max_bytes)
    shown = " + ".join(n for n, _ in files)
    try:
        return (loader or load)(str(path))
    except ValueError as e:  # CheckpointError and friends already name the file and the problem
        msg = str(e).replace(f"{path.parent}{os.sep}", "")  # the private upload folder means nothing to the user
        raise UploadError(msg if msg.startswith(path.name) else f"{shown}: {msg}") from None
    except Exception as e:  # noqa: BLE001 - an untrusted file: any failure becomes a message, never a traceback
        raise UploadError(f"{shown}: cannot be loaded as a checkpoint ({type(e).__name__}: {e})") from None
