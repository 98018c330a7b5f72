"""The reference packages, imported without the parts their wheels cannot give us (OPERATORS.md "Reference packages").

Used by the parity tests and by bench/ops.py; nothing here needs pytest. A loader raises ModuleNotFoundError
when its package is not installed; a test wraps it in :func:`load_or_skip` to be skipped instead.

timm: ``import timm`` pulls torchvision, which does not work with our torch build. The timm modules we compare
against only need ``torchvision.ops.misc.FrozenBatchNorm2d`` as a name (an isinstance check in ``norm_act``),
so :func:`isolated_timm` stubs it, registers ``timm`` and the one subpackage we need as bare namespace modules
(their ``__init__`` is never run) and we import the one module. Every timm/torchvision ``sys.modules`` entry is
restored afterwards, so the stubs never leak into other code; the returned module keeps working through its own
references.

mmaction2: the 1.2.0 wheel lacks ``mmaction/models/localizers/drn``, so ``import mmaction.models`` fails. We
register ``mmaction``, ``mmaction.models`` and ``mmaction.models.backbones`` as bare namespace modules, import
the two backbone modules, then put back whatever those three names were before. The real modules imported on
the way stay loaded: mmengine's registries are process-global, and importing ``mmaction.registry`` a second time
would register the ``mmaction`` scope twice (an AssertionError in mmengine), which is also why an earlier import
of ``resnet3d`` elsewhere is tolerated by registering with ``force=True`` while we import.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import types
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch

T = TypeVar("T")
_TIMM_PREFIXES = ("timm", "torchvision")
_MMACTION_STUBS = ("mmaction", "mmaction.models", "mmaction.models.backbones")
INSTALL_HINT = "install requirements-ref.txt with --no-deps"


def load_or_skip(loader: Callable[[], T]) -> T:
    """``loader()``, or skip the calling test when its reference package is not installed."""
    try:
        return loader()
    except ModuleNotFoundError as e:
        import pytest

        pytest.skip(f"{e} ({INSTALL_HINT})")


# ---- timm ---------------------------------------------------------------------------------------------------


def bare_module(name: str, path: list[str] | None = None) -> types.ModuleType:
    """A module whose ``__init__`` never runs: empty, or a namespace package over ``path``."""
    mod = types.ModuleType(name)
    if path is not None:
        mod.__path__ = path
    return mod


def timm_root() -> list[str]:
    """The installed ``timm`` package's search locations; ModuleNotFoundError when timm is not installed."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("timm is not installed")
    return list(spec.submodule_search_locations)


@contextlib.contextmanager
def isolated_timm(root: list[str], subpackage: str) -> Iterator[types.ModuleType]:
    """Within: no timm/torchvision modules but a stubbed ``torchvision.ops.misc``, a bare ``timm`` (yielded, to
    add attributes to) and a bare ``timm.<subpackage>`` to import from. On exit every timm/torchvision
    ``sys.modules`` entry is restored as it was before."""
    before = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _TIMM_PREFIXES}
    try:
        for k in before:
            del sys.modules[k]
        misc = bare_module("torchvision.ops.misc")

        class FrozenBatchNorm2d(torch.nn.Module):  # only ever used in isinstance checks
            pass

        misc.FrozenBatchNorm2d = FrozenBatchNorm2d
        timm = bare_module("timm", root)
        sys.modules.update(
            {
                "torchvision": bare_module("torchvision", []),
                "torchvision.ops": bare_module("torchvision.ops", []),
                "torchvision.ops.misc": misc,
                "timm": timm,
                f"timm.{subpackage}": bare_module(f"timm.{subpackage}", [os.path.join(root[0], subpackage)]),
            }
        )
        yield timm
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] in _TIMM_PREFIXES]:
            del sys.modules[k]
        sys.modules.update(before)


def import_timm_non_local_attn() -> types.ModuleType:
    """A fresh import of ``timm.layers.non_local_attn`` (``BatNonLocalAttn``), sys.modules left as it was."""
    with isolated_timm(timm_root(), "layers"):
        return importlib.import_module("timm.layers.non_local_attn")


@functools.lru_cache(maxsize=1)
def timm_non_local_attn() -> types.ModuleType:
    """``timm.layers.non_local_attn``, imported once per process."""
    return import_timm_non_local_attn()


@functools.lru_cache(maxsize=1)
def timm_byobnet() -> types.ModuleType:
    """``timm.models.byobnet`` (``bat_resnext26ts``), imported once per process.

    ``timm.models`` needs ``timm.layers`` (imported for real: it only needs ``torchvision.ops.misc`` as a name)
    and ``timm.data`` constants: on top of :func:`isolated_timm` we stub ``timm.data`` and give ``timm`` its
    ``__version__``."""
    with isolated_timm(timm_root(), "models") as timm:
        timm.__version__ = importlib.metadata.version("timm")
        data = bare_module("timm.data", [])
        data.__getattr__ = lambda name: (0.5, 0.5, 0.5)  # normalization constants of pretrained cfgs only
        sys.modules["timm.data"] = data
        return importlib.import_module("timm.models.byobnet")


# ---- mmaction2 ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _forced_registration() -> Iterator[None]:
    """Let ``@MODELS.register_module()`` replace a class registered earlier under the same name."""
    from mmengine.registry import Registry

    original = Registry._register_module

    def register(self, module, module_name=None, force=False):  # noqa: ANN001 - mmengine's signature
        return original(self, module, module_name, True)

    Registry._register_module = register
    try:
        yield
    finally:
        Registry._register_module = original


@functools.lru_cache(maxsize=1)
def mmaction_backbones() -> types.SimpleNamespace:
    """mmaction2's ``ResNet3d`` and ``ResNet3dSlowOnly``, imported once per process."""
    if importlib.util.find_spec("mmaction") is None or importlib.util.find_spec("mmcv") is None:
        raise ModuleNotFoundError("mmaction2 / mmcv-lite not installed")
    root = os.path.dirname(importlib.util.find_spec("mmaction").origin)
    before = {name: sys.modules.get(name) for name in _MMACTION_STUBS}
    try:
        for name in _MMACTION_STUBS:
            sys.modules[name] = bare_module(name, [os.path.join(root, *name.split(".")[1:])])
        with _forced_registration():
            resnet3d = importlib.import_module("mmaction.models.backbones.resnet3d")
            slowonly = importlib.import_module("mmaction.models.backbones.resnet3d_slowonly")
        return types.SimpleNamespace(ResNet3d=resnet3d.ResNet3d, ResNet3dSlowOnly=slowonly.ResNet3dSlowOnly)
    finally:
        for name, module in before.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
