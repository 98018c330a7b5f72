"""``UserModel``: the user's own model, named by the code that builds it — a factory, its weights, its input.

    um = UserModel("my_model.py:build", weights="w.pth", input=InputSpec(frames=4, size=64))
    um = UserModel.from_dict({"model": "mypkg.nets:build", "weights": "w.safetensors", "args": {"width": 16}})

A factory is ``path/to/file.py:NAME`` (a file, imported as a module) or ``pkg.module:NAME`` (an importable module),
``NAME`` a callable that returns an ``nn.Module`` (``args`` are its keyword arguments). This record is what a
ViewSpec's ``models`` entry holds for such a model (``{"model": ..., "weights": ..., "input": {...}, "args": {...},
"task": {...}}``), what ``nlviz app`` hands the app in ``NLVIZ_USER_MODELS``, and what ``model.card`` of the loaded
model describes. :func:`nlviz.run.factory.build_user_model` imports and builds it.

``task`` names a synthetic task (``"spacetime"``, ``"image"``, or ``{"name": ..., "params": {...}}``) so the model
can be shown and evaluated on ``synthetic:I`` clips; :meth:`UserModel.resolve` makes it fit the input spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlviz.run.inputspec import InputSpec

#: ``file.py:NAME`` or ``pkg.module:NAME`` (NAME may be dotted: ``Net.create``)
_IDENT = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_REF = re.compile(rf"^(?P<target>.+\.py|{_IDENT}):(?P<attr>{_IDENT})$")
#: the JSON fields of a user-model entry
FIELDS = ("model", "weights", "args", "input", "task", "name")


def parse_factory(ref: str) -> tuple[str, str, bool]:
    """``"dir/file.py:build"`` → ("dir/file.py", "build", True); ``"pkg.mod:build"`` → ("pkg.mod", "build", False).

    Raises:
        ValueError: ``ref`` is not of either form.
    """
    m = _REF.match(str(ref).strip())
    if not m:
        raise ValueError(
            f"{ref!r} is not a model factory: write path/to/file.py:NAME or pkg.module:NAME, NAME a callable "
            "that returns a torch.nn.Module"
        )
    return m["target"], m["attr"], m["target"].endswith(".py")


def is_factory(source: Any) -> bool:
    """True when ``source`` names a factory (``file.py:NAME`` / ``pkg.module:NAME``), not a zoo name or a file."""
    if not isinstance(source, str) or not _REF.match(source.strip()):
        return False
    return not Path(source).exists()  # a checkpoint file whose name happens to contain a colon stays a file


def factory_label(ref: str) -> str:
    """A short name for outputs: ``dir/my_model.py:build`` → ``my_model.build``; ``pkg.nets:build`` →
    ``pkg.nets.build``."""
    target, attr, is_file = parse_factory(ref)
    return f"{Path(target).stem if is_file else target}.{attr}"


def _task_record(task: Any, where: str) -> dict[str, Any] | None:
    if task is None:
        return None
    if isinstance(task, str):
        task = {"name": task, "params": {}}
    if not isinstance(task, Mapping) or not isinstance(task.get("name"), str) or set(task) - {"name", "params"}:
        raise ValueError(f"{where}: task must be a name or {{'name': ..., 'params': {{...}}}}, got {task!r}")
    params = task.get("params") or {}
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}: task params must be an object, got {params!r}")
    return {"name": task["name"], "params": dict(params)}


@dataclass(frozen=True)
class UserModel:
    """A model built by the user's code (see the module docstring).

    Attributes:
        factory: ``path/to/file.py:NAME`` or ``pkg.module:NAME``.
        weights: a ``.safetensors`` file or a weights-only pickle (``.pth`` ...); None keeps the factory's weights.
        args: keyword arguments of the factory (JSON values).
        input: the input the model expects; None = :class:`InputSpec` defaults.
        task: ``{"name", "params"}`` of a synthetic task to show it on, or None.
        name: how the model is listed and named in outputs (default: ``factory``).
    """

    factory: str
    weights: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    input: InputSpec | None = None
    task: dict[str, Any] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        where = f"model {self.factory!r}"
        parse_factory(self.factory)
        if self.weights is not None and (not isinstance(self.weights, (str, Path)) or not str(self.weights)):
            raise ValueError(f"{where}: weights must be a file path, got {self.weights!r}")
        if self.weights is not None:
            object.__setattr__(self, "weights", str(self.weights))
        if not isinstance(self.args, Mapping) or not all(isinstance(k, str) for k in self.args):
            raise ValueError(f"{where}: args must be a JSON object of keyword arguments, got {self.args!r}")
        try:
            json.dumps(dict(self.args))
        except (TypeError, ValueError):
            raise ValueError(f"{where}: args must hold JSON values (numbers, strings, lists, objects)") from None
        object.__setattr__(self, "args", dict(self.args))
        if self.input is not None and not isinstance(self.input, InputSpec):
            object.__setattr__(self, "input", as_input_spec(self.input, where=f"{where} input"))
        object.__setattr__(self, "task", _task_record(self.task, where))
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip()):
            raise ValueError(f"{where}: name must be a non-empty string, got {self.name!r}")

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def display_name(self) -> str:
        """``name``, or the factory as written."""
        return self.name or self.factory

    def to_dict(self) -> dict[str, Any]:
        """The JSON entry (``model``, and ``weights``, ``args``, ``input``, ``task``, ``name`` when set)."""
        d: dict[str, Any] = {"model": self.factory}
        if self.weights is not None:
            d["weights"] = self.weights
        if self.args:
            d["args"] = dict(self.args)
        if self.input is not None:
            d["input"] = self.input.to_dict()
        if self.task is not None:
            d["task"] = {"name": self.task["name"], "params": dict(self.task["params"])}
        if self.name is not None and self.name != self.factory:
            d["name"] = self.name
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "model entry") -> UserModel:
        """From a JSON entry with :data:`FIELDS` (``input`` an input-spec object or the path of a spec file)."""
        if not isinstance(d, Mapping) or not isinstance(d.get("model"), str):
            raise ValueError(
                f"{where}: a model from code is an object like {{'model': 'file.py:build', 'weights': 'w.pth'}}, "
                f"got {d!r}"
            )
        unknown = sorted(set(d) - set(FIELDS))
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {unknown}; valid: {list(FIELDS)}")
        try:
            return cls(
                d["model"],
                d.get("weights"),
                d.get("args") or {},
                None if d.get("input") is None else as_input_spec(d["input"], where=f"{where}.input"),
                d.get("task"),
                d.get("name"),
            )
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> UserModel:
        """The entry that rebuilds a model whose card :func:`nlviz.run.factory.build_user_model` wrote."""
        return cls(
            card["factory"],
            card.get("weights"),
            card.get("args") or {},
            InputSpec.from_card(card),
            card.get("task"),
            card.get("name"),
        )

    def resolve(self) -> tuple[InputSpec, dict[str, Any] | None]:
        """The input spec and the full task record the model runs with.

        A task's ``frames`` and ``size`` follow the input spec unless its params set them; a spec without a size
        takes the task's; the task's class names name the logits when the spec has none. A task that cannot
        feed the model (image vs video, another size or number of frames or classes) is an error saying so.
        """
        import inspect

        from nlviz.data import TASKS, make_task

        spec = self.input or InputSpec()
        if self.task is None:
            return spec, None
        where = f"model {self.display_name!r}: task {self.task['name']!r}"
        params = dict(self.task["params"])
        try:
            accepted = inspect.signature(TASKS.get(self.task["name"]).__init__).parameters
            if "frames" in accepted and spec.video:
                params.setdefault("frames", spec.frames)
            if "size" in accepted and spec.size is not None:
                params.setdefault("size", spec.size)
            task = make_task(self.task["name"], **params)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        if (task.dim == 3) != spec.video:
            kind = "video clips" if task.dim == 3 else "images"
            raise ValueError(
                f"{where} gives {kind} but the model takes {'video clips' if spec.video else 'images'}: "
                f"{'drop --image' if task.dim == 3 else 'add --image'} or choose the other task"
            )
        if spec.size is None:
            spec = spec.override(size=task.size)
        for what, ours, theirs in (("size", spec.size, task.size), ("frames", spec.frames, task.frames)):
            if ours != theirs and (what == "size" or spec.video):
                raise ValueError(f"{where} has {what} {theirs} but the model input has {what} {ours}: make them agree")
        if spec.classes is None:
            spec = spec.override(classes=task.class_names)
        elif len(spec.classes) != task.num_classes:
            raise ValueError(
                f"{where} has {task.num_classes} classes {list(task.class_names)}; the input spec names "
                f"{len(spec.classes)}"
            )
        return spec, {"name": task.name, "params": task.params()}


def as_input_spec(value: Any, where: str = "input spec") -> InputSpec:
    """An :class:`InputSpec` from a spec, a JSON object or the path of a spec JSON file (:meth:`InputSpec.load`)."""
    if isinstance(value, InputSpec):
        return value
    if isinstance(value, (str, Path)):
        return InputSpec.load(value)
    if isinstance(value, Mapping):
        return InputSpec.from_dict(value, where=where)
    raise ValueError(f"{where}: give an InputSpec, a JSON object or the path of a spec file, got {value!r}")
