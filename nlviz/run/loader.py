"""``nlviz.load_model``: a model by any name — a zoo name, a checkpoint file, or a factory of the user's own code.

    nlviz.load_model("st_nl_embedded", device="cuda")
    nlviz.load_model("checkpoints/im_nl.json")
    nlviz.load_model("my_model.py:build", weights="w.pth", input_spec={"frames": 4, "size": 64})

Zoo names and checkpoint files are read by :func:`nlviz.io.checkpoint.load_model` (safetensors, or pickles through
``torch.load(weights_only=True)``): :func:`load_checkpoint` never runs code from anywhere. A factory
(``file.py:NAME`` / ``pkg.module:NAME``, :mod:`nlviz.run.usermodel`) is imported and called
(:func:`nlviz.run.factory.build_user_model`). Either way the model comes back in eval mode with a ``card``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nlviz.run.inputspec import InputSpec
from nlviz.run.usermodel import UserModel, as_input_spec, is_factory


def load_checkpoint(
    source: str | os.PathLike, *, format: str = "auto", input_spec: Any = None, device: Any = None
) -> Any:
    """A zoo model or a checkpoint file in eval mode on ``device`` (None: the CPU it is read to).

    ``input_spec`` (an :class:`InputSpec`, a JSON object or a spec file) replaces the input its card records.
    Nothing in the file is executed, and a factory name is refused: this is what names from a browser reach.
    """
    from nlviz.io.checkpoint import load_model as read_checkpoint
    from nlviz.run.device import to_device

    model = read_checkpoint(source, format=format)
    if input_spec is not None:
        spec = as_input_spec(input_spec)
        card = dict(getattr(model, "card", None) or {})
        card["input"] = spec.to_card()
        if spec.classes:
            card["classes"] = list(spec.classes)
        model.card = card
    return to_device(model, device).eval()


def load_model(
    source: str | os.PathLike | UserModel,
    *,
    weights: str | os.PathLike | None = None,
    input_spec: InputSpec | dict[str, Any] | str | os.PathLike | None = None,
    args: dict[str, Any] | None = None,
    task: str | dict[str, Any] | None = None,
    name: str | None = None,
    device: Any = None,
    format: str = "auto",
) -> Any:
    """Load a model in eval mode, with ``model.card`` describing it (see the module docstring).

    Args:
        source: a zoo name (``nlviz models``), an nlviz card or safetensors file, a public checkpoint
            (``.pth``/``.pt``/``.pkl`` ...), a factory ``path/to/file.py:NAME`` or ``pkg.module:NAME``, or a
            :class:`UserModel`.
        weights: the factory model's weights (``.safetensors`` or a weights-only pickle); loaded strictly.
        input_spec: what the model takes (:class:`InputSpec`, a JSON object, or a spec JSON file); for a
            checkpoint it replaces what its card records.
        args: keyword arguments of the factory.
        task: a synthetic task to show/evaluate a factory model on (``"spacetime"``, ``"image"``, or
            ``{"name", "params"}``).
        name: how a factory model is named (default: ``source``).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or a ``torch.device``; None leaves the model on
            the CPU (checkpoints) or where its factory put it.
        format: a checkpoint's layout (``auto`` detects it; see ``nlviz convert --formats``).

    Raises:
        ValueError: the source, its weights or its input spec cannot be used (the message says which and why).
    """
    from nlviz.run.factory import build_user_model

    if isinstance(source, UserModel):
        return build_user_model(source, device=device)
    if is_factory(source):
        um = UserModel(str(source), weights, args or {}, input_spec, task, name)  # type: ignore[arg-type]
        return build_user_model(um, device=device)
    extra = [k for k, v in (("weights", weights), ("args", args), ("task", task), ("name", name)) if v is not None]
    if extra:
        raise ValueError(
            f"{source}: {', '.join(extra)} apply to a model from code (path/to/file.py:NAME or pkg.module:NAME); "
            f"{Path(source).name!r} is read as a zoo name or a checkpoint file"
        )
    return load_checkpoint(source, format=format, input_spec=input_spec, device=device)
