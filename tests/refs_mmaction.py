"""Import mmaction2's ``ResNet3d``/``ResNet3dSlowOnly`` without ``mmaction.models`` (test helper).

The mmaction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn``, so ``import mmaction.models`` fails
(OPERATORS.md "Reference packages"). We register ``mmaction``, ``mmaction.models`` and
``mmaction.models.backbones`` as bare namespace modules (their ``__init__`` never runs), import the two backbone
modules, then put back whatever those three names were before, so the stubs never leak into other tests.

The real modules imported on the way stay loaded: mmengine's registries are process-global, and importing
``mmaction.registry`` a second time would register the ``mmaction`` scope twice (an AssertionError in mmengine),
which is also why another test's earlier import of ``resnet3d`` is tolerated by registering with ``force=True``
while we import.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterator

import pytest

_STUBS = ("mmaction", "mmaction.models", "mmaction.models.backbones")


@contextlib.contextmanager
def _forced_registration() -> Iterator[None]:
    """Let ``@MODELS.register_module()`` replace a class another test already registered under the same name."""
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
def backbones() -> types.SimpleNamespace:
    """``ResNet3d`` and ``ResNet3dSlowOnly`` (skips the test when mmaction2 or mmcv is not installed)."""
    if importlib.util.find_spec("mmaction") is None or importlib.util.find_spec("mmcv") is None:
        pytest.skip("mmaction2 / mmcv-lite not installed (install requirements-ref.txt with --no-deps)")
    root = os.path.dirname(importlib.util.find_spec("mmaction").origin)
    before = {name: sys.modules.get(name) for name in _STUBS}
    try:
        for name in _STUBS:
            module = types.ModuleType(name)
            module.__path__ = [os.path.join(root, *name.split(".")[1:])]
            sys.modules[name] = module
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
