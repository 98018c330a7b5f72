"""nlviz checkpoints: safetensors weights + a JSON card that rebuilds the model (nanoGPT style).

A checkpoint is two files with one stem: ``NAME.safetensors`` and ``NAME.json``. The card holds everything
needed to rebuild and judge the model: ``arch`` and ``args`` (passed to ``nlviz.models.build_model``), the
operator and its options, classes, input geometry, data recipe, seed, metrics, training time, code version.

``load_model(source)`` accepts a zoo name (``nlviz models`` lists them), a card or safetensors path, or a
public checkpoint file (``.pth``/``.pt``) in a supported layout. Pickles are only ever read with
``torch.load(weights_only=True)``: untrusted files never execute code.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from nlviz.jsonfile import read_json

CARD_VERSION = 1
ROOT = Path(__file__).resolve().parents[2]


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message names the file and the problem."""


def zoo_dir() -> Path:
    """Where the shipped checkpoints live (``NLVIZ_CHECKPOINTS`` overrides)."""
    return Path(os.environ.get("NLVIZ_CHECKPOINTS", ROOT / "checkpoints"))


def zoo_cards() -> list[dict[str, Any]]:
    """The cards of every shipped checkpoint, sorted by name."""
    d = zoo_dir()
    cards = []
    for path in sorted(d.glob("*.json")):
        if path.name == "manifest.json":
            continue
        card = json.loads(path.read_text())
        if card.get("nlviz_card"):
            card["card"] = str(path)
            cards.append(card)
    return cards


def code_version() -> str:
    """The git commit of the code that wrote a checkpoint (or the package version outside a checkout)."""
    from nlviz import __version__

    try:
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


def save_checkpoint(model: Any, card: dict[str, Any], path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``PATH.safetensors`` and ``PATH.json`` atomically (temp name, then rename).

    ``card`` must contain ``arch`` and ``args``; ``nlviz_card`` and ``code_version`` are filled in.
    """
    from safetensors.torch import save_file

    if "arch" not in card or "args" not in card:
        raise ValueError("a checkpoint card needs 'arch' and 'args' to rebuild the model")
    stem = Path(path).with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights, card_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    card = {"nlviz_card": CARD_VERSION, "name": stem.name, "code_version": code_version(), **card}
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    tmp_w, tmp_c = weights.with_name(weights.name + ".tmp"), card_path.with_name(card_path.name + ".tmp")
    save_file(state, str(tmp_w), metadata={"nlviz_card": json.dumps({"arch": card["arch"]})})
    tmp_c.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    os.replace(tmp_w, weights)
    os.replace(tmp_c, card_path)
    return weights, card_path


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    card = read_json(
        path,
        missing="card not found (an nlviz checkpoint is NAME.safetensors + NAME.json)",
        invalid="the card is not valid JSON",
        error=CheckpointError,
    )
    if not isinstance(card, dict) or "arch" not in card or "args" not in card:
        raise CheckpointError(f"{path}: not an nlviz card (needs 'arch' and 'args')")
    return card


def _resolve(source: str | os.PathLike) -> Path:
    """A zoo name or a path → the path of a file on disk."""
    p = Path(source)
    if p.exists():
        return p
    if not p.suffix and os.sep not in str(source):
        cand = zoo_dir() / f"{source}.json"
        if cand.exists():
            return cand
        names = [c["name"] for c in zoo_cards()]
        raise CheckpointError(
            f"{source!r} is neither a file nor a zoo model; zoo models: {', '.join(names) or '(none)'}"
        )
    raise CheckpointError(f"{source}: file not found")


def load_model(source: str | os.PathLike, *, format: str = "auto") -> Any:
    """Load a model in eval mode from a zoo name or a checkpoint file (see module docstring)."""
    from nlviz.io import public

    allowed = ["auto", "nlviz", *public.formats()]
    if format not in allowed:
        raise CheckpointError(f"format={format!r} is not supported; allowed: {allowed}")
    path = _resolve(source)
    if format == "auto" and path.suffix in (".json", ".safetensors"):
        format = "nlviz"
    model = _load_nlviz(path) if format == "nlviz" else public.load(path, format)  # "auto": detected from keys
    return model.eval()


def _load_nlviz(path: Path) -> Any:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from nlviz.models import build_model

    card_path, weights = path.with_suffix(".json"), path.with_suffix(".safetensors")
    card = read_card(card_path)
    try:
        state = load_file(str(weights))
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: weights file not found beside the card {card_path.name}") from None
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({e})") from None
    model = build_model(card["arch"], **card["args"])
    check_state_dict(model, state, weights)
    model.load_state_dict(state, strict=True)
    model.card = card
    return model


def check_state_dict(model: Any, state: dict[str, Any], where: Any) -> None:
    """Raise a CheckpointError listing missing/unexpected keys and shape mismatches (no partial loads)."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state))
        if own[k].shape != state[k].shape
    ]
    if missing or unexpected or shapes:
        parts = [f"{where}: weights do not match the model described by its card"]
        if missing:
            parts.append(f"missing keys ({len(missing)}): {missing[:12]}{' …' if len(missing) > 12 else ''}")
        if unexpected:
            parts.append(
                f"unexpected keys ({len(unexpected)}): {unexpected[:12]}{' …' if len(unexpected) > 12 else ''}"
            )
        if shapes:
            parts.append(f"shape mismatches: {shapes[:8]}")
        raise CheckpointError("; ".join(parts))
