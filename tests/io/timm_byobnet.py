"""Import timm's ``byobnet`` (``bat_resnext26ts``) without torchvision (test helper; see tests/refs_timm.py).

``timm.models`` needs ``timm.layers`` (imported for real: it only needs ``torchvision.ops.misc`` as a name) and
``timm.data`` constants; on top of :func:`refs_timm.isolated_timm` we stub ``timm.data`` and give ``timm`` its
``__version__``, import the one module, then every timm/torchvision ``sys.modules`` entry is restored.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import sys
import types

from refs_timm import bare_module, isolated_timm, skip_without_timm, timm_root


@functools.lru_cache(maxsize=1)
def byobnet() -> types.ModuleType:
    """``timm.models.byobnet`` (skips the test when timm is not installed)."""
    try:
        root = timm_root()
    except ModuleNotFoundError as e:
        skip_without_timm(e)
    with isolated_timm(root, "models") as timm:
        timm.__version__ = importlib.metadata.version("timm")
        data = bare_module("timm.data", [])
        data.__getattr__ = lambda name: (0.5, 0.5, 0.5)  # normalization constants of pretrained cfgs only
        sys.modules["timm.data"] = data
        return importlib.import_module("timm.models.byobnet")
