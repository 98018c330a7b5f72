"""Import ``timm.layers.non_local_attn`` without torchvision (test helper; see OPERATORS.md "Reference packages").

``import timm`` pulls torchvision, which does not work with our torch build. The BAT/NL layers only need
``torchvision.ops.misc.FrozenBatchNorm2d`` as a name (for an isinstance check in ``norm_act``), so we stub
it, register ``timm`` and ``timm.layers`` as bare namespace modules (their ``__init__`` is never run) and
import the one module. Every ``sys.modules`` entry we add or replace is restored before returning, so the
stub never leaks into other tests; the returned module keeps working through its own references.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
import types

import pytest
import torch

_PREFIXES = ("timm", "torchvision")


def _stub(name: str, path: list[str] | None = None) -> types.ModuleType:
    mod = types.ModuleType(name)
    if path is not None:
        mod.__path__ = path
    return mod


@functools.lru_cache(maxsize=1)
def timm_non_local_attn() -> types.ModuleType:
    """The ``timm.layers.non_local_attn`` module, imported once (skips the test when timm is not installed)."""
    try:
        return import_non_local_attn()
    except ModuleNotFoundError as e:
        pytest.skip(f"{e} (install requirements-ref.txt with --no-deps)")


def import_non_local_attn() -> types.ModuleType:
    """Import a fresh ``timm.layers.non_local_attn``, then restore every timm/torchvision ``sys.modules`` entry."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("timm is not installed")
    root = list(spec.submodule_search_locations)
    before = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _PREFIXES}
    try:
        misc = _stub("torchvision.ops.misc")

        class FrozenBatchNorm2d(torch.nn.Module):  # only ever used in isinstance checks
            pass

        misc.FrozenBatchNorm2d = FrozenBatchNorm2d
        sys.modules.update(
            {
                "torchvision": _stub("torchvision", []),
                "torchvision.ops": _stub("torchvision.ops", []),
                "torchvision.ops.misc": misc,
                "timm": _stub("timm", root),
                "timm.layers": _stub("timm.layers", [os.path.join(root[0], "layers")]),
            }
        )
        return importlib.import_module("timm.layers.non_local_attn")
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] in _PREFIXES]:
            del sys.modules[k]
        sys.modules.update(before)


#: the name ``bench/ops.py`` imports (no pytest involved; raises ModuleNotFoundError without timm)
import_timm_non_local_attn = import_non_local_attn
