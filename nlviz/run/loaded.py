"""``LoadedModel``: a model in eval mode with everything reading inputs for it needs, and how to get one.

    lm = load("st_nl_embedded", device="cuda")  # a zoo name, a checkpoint file, a factory (file.py:build) ...
    lm = load(UserModel("my_model.py:build", weights="w.pth"))
    lm = describe("mine", my_module, spec=InputSpec(frames=16, size=112))

The input spec comes from the model's card (``model.card``, attached by :func:`nlviz.load_model`), overridden
by what the caller gives. ``blocks`` are the operator blocks :func:`nlviz.capture` records in this model (module
names); a model without any is refused, since there is nothing to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlviz.run.inputspec import InputSpec

#: file suffixes whose stem names a model (``models/i3d.json`` → ``i3d``)
_CHECKPOINT_SUFFIXES = (".json", ".safetensors", ".pth", ".pt", ".pyth", ".pkl", ".tar")


class BlockError(ValueError):
    """The blocks asked for are none of the model's operator blocks (the message lists those)."""


def safe_name(name: str) -> str:
    """A file-name-safe version of a model or block name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "x"


@dataclass
class LoadedModel:
    """A model and what running it on an input needs.

    Attributes:
        name: how the model was named (zoo name, checkpoint path, or a label for a module given in memory).
        label: a short file-name-safe label (outputs and figure titles).
        model: the ``nn.Module``, in eval mode.
        spec: its :class:`InputSpec`.
        task: the synthetic task of its card (``{"name", "params"}``), or None.
        seed: the data seed of ``synthetic:I`` inputs (the card's held-out seed unless overridden).
        blocks: the operator blocks to record (module names, forward order).
    """

    name: str
    label: str
    model: Any
    spec: InputSpec
    task: dict[str, Any] | None = None
    seed: int = 1
    blocks: list[str] = field(default_factory=list)

    @property
    def card(self) -> dict[str, Any]:
        return getattr(self.model, "card", None) or {}

    @property
    def entry(self) -> Any:
        """What names this model in a ViewSpec's ``models``: its :class:`~nlviz.run.usermodel.UserModel` when it was
        built from code (its card says how), else its name (zoo name or checkpoint path)."""
        from nlviz.run.usermodel import UserModel

        return UserModel.from_card(self.card) if self.card.get("source") == "factory" else self.name

    @property
    def device(self) -> Any:
        """The ``torch.device`` the model runs on (its inputs are moved there)."""
        from nlviz.run.device import device_of

        return device_of(self.model)

    # the spec's fields, read where a LoadedModel is at hand
    @property
    def video(self) -> bool:
        return self.spec.video

    @property
    def frames(self) -> int:
        return self.spec.frames

    @property
    def size(self) -> int | None:
        return self.spec.size

    @property
    def mean(self) -> tuple[float, ...]:
        return self.spec.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.spec.std


def label_of(name: str) -> str:
    """``models/i3d_nl.json`` → ``i3d_nl``, ``dir/my_model.py:build`` → ``my_model.build``; a zoo name stays as
    it is (made file-name-safe)."""
    from nlviz.run.usermodel import factory_label, is_factory

    if is_factory(name):
        return safe_name(factory_label(name))
    p = Path(name)
    return safe_name(p.stem if p.suffix in _CHECKPOINT_SUFFIXES else name)


def card_spec(model: Any) -> InputSpec:
    """The input spec of ``model``'s card; the arch registry decides video vs image when the card records no
    input (a public checkpoint without one: video)."""
    from nlviz.models import ARCHS

    card = getattr(model, "card", None) or {}
    video = None
    if not (card.get("input") or {}).get("shape"):
        arch = card.get("arch")
        video = ARCHS.get(arch).task == "video" if arch in ARCHS else True
    return InputSpec.from_card(card, video=video)


def describe(
    name: str,
    model: Any,
    *,
    spec: InputSpec | None = None,
    frames: int | None = None,
    size: int | None = None,
    seed: int | None = None,
    blocks: Any = "all",
    require_blocks: bool = True,
) -> LoadedModel:
    """The LoadedModel of ``model``: its card's input spec (or ``spec``), with ``frames``/``size`` overriding it,
    ``seed`` the synthetic data seed (default: the card's held-out seed), ``blocks`` "all" or module names.
    ``require_blocks=False`` accepts a model without operator blocks (a baseline: ``blocks`` is then empty)."""
    from nlviz.extract import block_names

    spec = spec if spec is not None else card_spec(model)
    spec = spec.override(frames=frames if spec.video else None, size=size)
    card = getattr(model, "card", None) or {}
    data = card.get("data") or {}
    seed = seed if seed is not None else data.get("eval_seed", card.get("metrics", {}).get("eval_seed", 1))
    names = block_names(model)
    if not names and not require_blocks:
        return LoadedModel(name, label_of(name), model, spec, card.get("task"), int(seed), [])
    if not names:
        raise ValueError(f"model {name!r} has no operator blocks to show (a baseline without non-local operators)")
    if blocks == "all":
        chosen = names
    else:
        chosen = [b for b in names if b in blocks]
        if not chosen:
            raise BlockError(f"none of {list(blocks)} is a block of model {name!r}; its operator blocks: {names}")
    return LoadedModel(name, label_of(name), model, spec, card.get("task"), int(seed), chosen)


def load(source: Any, *, device: Any = None, **options: Any) -> LoadedModel:
    """:func:`nlviz.load_model` (``source`` any name it takes, or a :class:`~nlviz.run.usermodel.UserModel`) on
    ``device``, then :func:`describe` (``options`` are describe's)."""
    from nlviz.run.loader import load_model

    name = source.display_name if hasattr(source, "display_name") else str(source)
    return describe(name, load_model(source, device=device), **options)
