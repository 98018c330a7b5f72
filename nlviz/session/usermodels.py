"""The user's own models and the device, as ``nlviz app`` hands them to the app: through the environment only.

    NLVIZ_USER_MODELS='[{"model": "/abs/my_model.py:build", "weights": "/abs/w.pth", "input": {...}, "name": ...}]'
    NLVIZ_DEVICE=auto

``nlviz app --model file.py:build --weights w.pth ...`` writes these variables for the Streamlit process it
starts (:func:`environment`). The app lists the models by name and loads one only when its name is listed here
(:func:`find`): the browser picks among these names and can never make the app import a module — a name that
is not listed is read as a zoo name or a checkpoint file (:func:`nlviz.run.load_checkpoint`), which runs no code.
"""

from __future__ import annotations

import json
import os
from typing import Any

from nlviz.jsonfile import parse_json
from nlviz.run import UserModel

#: JSON list of model entries (:meth:`nlviz.run.UserModel.to_dict`)
USER_MODELS_ENV = "NLVIZ_USER_MODELS"
#: the device models run on (``auto|cpu|cuda|cuda:N|mps``; default auto)
DEVICE_ENV = "NLVIZ_DEVICE"


def environment(models: list[UserModel], device: str = "auto") -> dict[str, str]:
    """The variables that hand ``models`` and ``device`` to the app process."""
    return {USER_MODELS_ENV: json.dumps([m.to_dict() for m in models]), DEVICE_ENV: str(device)}


def user_models() -> dict[str, UserModel]:
    """The models listed in ``NLVIZ_USER_MODELS`` by name (empty when it is unset).

    Raises:
        ValueError: the variable is not a JSON list of valid entries, or two entries share a name.
    """
    text = os.environ.get(USER_MODELS_ENV, "").strip()
    if not text:
        return {}
    entries = parse_json(text, USER_MODELS_ENV, list, hint="start the app with nlviz app --model file.py:build")
    out: dict[str, UserModel] = {}
    for i, d in enumerate(entries):
        um = UserModel.from_dict(d, where=f"{USER_MODELS_ENV}[{i}]")
        if um.display_name in out:
            raise ValueError(f"{USER_MODELS_ENV}: two models are named {um.display_name!r}; give one a 'name'")
        out[um.display_name] = um
    return out


def find(name: str) -> UserModel | None:
    """The listed model called ``name``, or None (then ``name`` is a zoo name or a checkpoint path). A malformed
    ``NLVIZ_USER_MODELS`` lists nothing here; :func:`user_models` (the model picker) reports it."""
    try:
        return user_models().get(name)
    except ValueError:
        return None


def device() -> Any:
    """The ``torch.device`` of ``NLVIZ_DEVICE`` (``auto`` when unset); an unavailable device is a ValueError."""
    from nlviz.run import resolve_device

    return resolve_device(os.environ.get(DEVICE_ENV, "auto") or "auto")
