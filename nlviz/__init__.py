"""nlviz — see what non-local operators in vision models attend to.

``import nlviz`` stays light: torch and the heavy modules load on first use of an attribute.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_model": ("nlviz.run.loader", "load_model"),
    "InputSpec": ("nlviz.run.inputspec", "InputSpec"),
    "UserModel": ("nlviz.run.usermodel", "UserModel"),
    "capture": ("nlviz.extract.capture", "capture"),
    "extract": ("nlviz.extract", None),
    "run": ("nlviz.run", None),
    "ops": ("nlviz.ops", None),
    "models": ("nlviz.models", None),
    "data": ("nlviz.data", None),
    "io": ("nlviz.io", None),
    "analysis": ("nlviz.analysis", None),
    "export": ("nlviz.export", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nlviz' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
