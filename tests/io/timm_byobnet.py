"""Import timm's ``byobnet`` (``bat_resnext26ts``) without torchvision (test helper; see tests/refs_timm.py).

``timm.models`` needs ``timm.layers`` (imported for real: it only needs ``torchvision.ops.misc`` as a name) and
``timm.data`` constants; we stub torchvision and ``timm.data``, register ``timm`` and ``timm.models`` as bare
namespace modules, import the one module, then restore every timm/torchvision ``sys.modules`` entry.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
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
def byobnet() -> types.ModuleType:
    """``timm.models.byobnet`` (skips the test when timm is not installed)."""
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("timm is not installed (install requirements-ref.txt with --no-deps)")
    root = list(spec.submodule_search_locations)
    before = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _PREFIXES}
    try:
        for k in before:
            del sys.modules[k]
        misc = _stub("torchvision.ops.misc")

        class FrozenBatchNorm2d(torch.nn.Module):  # only ever used in isinstance checks
            pass

        misc.FrozenBatchNorm2d = FrozenBatchNorm2d
        timm = _stub("timm", root)
        timm.__version__ = importlib.metadata.version("timm")
        data = _stub("timm.data", [])
        data.__getattr__ = lambda name: (0.5, 0.5, 0.5)  # normalization constants of pretrained cfgs only
        sys.modules.update({
            "torchvision": _stub("torchvision", []), "torchvision.ops": _stub("torchvision.ops", []),
            "torchvision.ops.misc": misc, "timm": timm, "timm.data": data,
            "timm.models": _stub("timm.models", [os.path.join(root[0], "models")]),
        })  # fmt: skip
        return importlib.import_module("timm.models.byobnet")
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] in _PREFIXES]:
            del sys.modules[k]
        sys.modules.update(before)
