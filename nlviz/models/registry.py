"""The model registry: ``ARCHS``, ``build_model(arch, **args)`` and ``arch_spec(model)``.

A checkpoint card stores ``{"arch": name, "args": {...}}`` (JSON) and ``build_model(name, **args)`` rebuilds
the same architecture (nanoGPT style). Each family has a config dataclass; ``arch_spec`` returns the *full*
config (defaults included) so a card does not depend on today's defaults. Families are imported lazily: a
family whose module fails to import (e.g. still being written) breaks only its own archs.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from nlviz.registry import Registry, check_options

ARCHS = Registry("model architecture")


@dataclass(frozen=True)
class Arch:
    """A registered architecture.

    Attributes:
        name: registry name.
        summary: one line for listings.
        task: "video" (input (B, 3, T, H, W)) or "image" (input (B, C, H, W)).
        example_input: a small input shape the model accepts (tests, smoke runs).
        module, model: where the model class lives (imported on first use).
        config: name of its config dataclass in ``module``; None = keyword arguments of the model class.
        defaults: arch-specific config defaults (e.g. I3D's inflation), applied under the user's args.
    """

    name: str
    summary: str
    task: str
    example_input: tuple[int, ...]
    module: str
    model: str
    config: str | None = None
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)

    def classes(self) -> tuple[type, type | None]:
        try:
            mod = importlib.import_module(self.module)
        except ImportError as err:
            raise ImportError(
                f"arch {self.name!r} is unavailable: module {self.module} failed to import: {err}"
            ) from err
        return getattr(mod, self.model), (getattr(mod, self.config) if self.config else None)

    def options(self) -> list[str]:
        """The valid argument names of this arch."""
        model_cls, config_cls = self.classes()
        if config_cls is not None:
            return [f.name for f in dataclasses.fields(config_cls)]
        return _init_options(model_cls)

    def build(self, args: dict[str, Any]) -> nn.Module:
        _check_json(self.name, args)
        model_cls, config_cls = self.classes()
        if config_cls is None:
            check_options(f"arch {self.name!r}", args, set(_init_options(model_cls)))
            model, stored = model_cls(**args), copy.deepcopy(args)
        else:
            cfg = make_config(config_cls, {**self.defaults, **args}, f"arch {self.name!r}")
            model, stored = model_cls(cfg), config_args(cfg)
        model.arch_spec = {"arch": self.name, "args": stored}
        return model


def register_arch(arch: Arch) -> Arch:
    return ARCHS.register(arch.name, arch)


def build_model(arch: str, **args: Any) -> nn.Module:
    """Build a registered architecture: ``build_model("tiny_c2d", num_classes=3, blocks=[...])``.

    Unknown arch or argument → ValueError listing the valid ones. ``args`` must be JSON-serializable.
    The model carries ``model.arch_spec = {"arch": ..., "args": {...}}`` (see :func:`arch_spec`).
    """
    return ARCHS.get(arch).build(args)


def arch_spec(model: nn.Module) -> dict[str, Any]:
    """``{"arch": name, "args": {...}}`` (JSON types) from which ``build_model(**)`` rebuilds ``model``."""
    spec = getattr(model, "arch_spec", None)
    if not isinstance(spec, dict):
        raise ValueError(f"{type(model).__name__} was not built by nlviz.models.build_model: no arch_spec")
    return copy.deepcopy(spec)


def from_spec(spec: dict[str, Any]) -> nn.Module:
    """Rebuild a model from an :func:`arch_spec` dict (what a checkpoint card stores)."""
    if not isinstance(spec, dict) or set(spec) != {"arch", "args"}:
        raise ValueError(f"a model spec is {{'arch': name, 'args': {{...}}}}; got {spec!r}")
    return build_model(spec["arch"], **spec["args"])


def make_config(config_cls: type, args: dict[str, Any], where: str) -> Any:
    """``config_cls(**args)`` with unknown keys reported by name (and the valid ones listed)."""
    valid = [f.name for f in dataclasses.fields(config_cls)]
    unknown = sorted(set(args) - set(valid))
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {unknown}; valid: {valid}")
    return config_cls(**args)


def config_args(cfg: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON types (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def _init_options(model_cls: Callable[..., Any]) -> list[str]:
    params = inspect.signature(model_cls.__init__).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in params if p.kind in kinds and p.name != "self"]


def _check_json(name: str, args: dict[str, Any]) -> None:
    try:
        json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"arch {name!r}: args must be JSON-serializable (a card stores them): {err}") from None
