"""Import timm modules without torchvision (test helper; see OPERATORS.md "Reference packages").

``import timm`` pulls torchvision, which does not work with our torch build. The timm layers we test against
only need ``torchvision.ops.misc.FrozenBatchNorm2d`` as a name (for an isinstance check in ``norm_act``), so we
stub it, register ``timm`` and the one subpackage we need as bare namespace modules (their ``__init__`` is
never run) and import the one module. Every timm/torchvision ``sys.modules`` entry is restored before
returning (:func:`isolated_timm`), so the stub never leaks into other tests; the returned module keeps working
through its own references. ``tests/io/timm_byobnet.py`` imports ``timm.models.byobnet`` the same way.
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
import torch

_PREFIXES = ("timm", "torchvision")


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


def skip_without_timm(error: ModuleNotFoundError) -> None:
    pytest.skip(f"{error} (install requirements-ref.txt with --no-deps)")


@contextlib.contextmanager
def isolated_timm(root: list[str], subpackage: str) -> Iterator[types.ModuleType]:
    """Within: no timm/torchvision modules but a stubbed ``torchvision.ops.misc``, a bare ``timm`` (yielded, to
    add attributes to) and a bare ``timm.<subpackage>`` to import from. On exit every timm/torchvision
    ``sys.modules`` entry is restored as it was before."""
    before = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _PREFIXES}
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
        for k in [k for k in sys.modules if k.split(".")[0] in _PREFIXES]:
            del sys.modules[k]
        sys.modules.update(before)


@functools.lru_cache(maxsize=1)
def timm_non_local_attn() -> types.ModuleType:
    """The ``timm.layers.non_local_attn`` module, imported once (skips the test when timm is not installed)."""
    try:
        return import_non_local_attn()
    except ModuleNotFoundError as e:
        skip_without_timm(e)


def import_non_local_attn() -> types.ModuleType:
    """Import a fresh ``timm.layers.non_local_attn``, then restore every timm/torchvision ``sys.modules`` entry."""
    with isolated_timm(timm_root(), "layers"):
        return importlib.import_module("timm.layers.non_local_attn")


#: the name ``bench/ops.py`` imports (no pytest involved; raises ModuleNotFoundError without timm)
import_timm_non_local_attn = import_non_local_attn
