"""Build the user's own model: import its factory, call it, load its weights strictly, attach its card.

    model = build_user_model(UserModel("my_model.py:build", weights="w.pth", input=InputSpec(size=64)))
    model.card   # {"name", "factory", "weights", "args", "input", "classes", "task"}: what nlviz.run.describe reads

Only code named on the command line, in the environment of ``nlviz app``, in a ViewSpec file or in a Python call
is imported — never anything a browser sends. A file ``dir/file.py`` is executed as a module of its own (its
folder is put on ``sys.path``, as ``python dir/file.py`` would, so it can import its neighbours; it is executed
again only when it changed); ``pkg.module`` is imported normally, the current folder searched too.

Weights are read without running code: ``.safetensors``, or a pickle through ``torch.load(weights_only=True)``
(:func:`nlviz.io.public.read`). A ``state_dict`` / ``model`` / ``model_state`` wrapper is unwrapped, a
``module.`` prefix stripped, and the state loaded strictly: a mismatch lists the missing and unexpected keys and
names the file. Every problem is a ValueError naming the file or factory and what is wrong.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlviz.run.usermodel import UserModel, parse_factory

#: a factory file's executed module per absolute path: (mtime_ns, size, module)
_FILES: dict[str, tuple[int, int, Any]] = {}


def _where_raised(e: BaseException, path: Path | None) -> str:
    """`` (file.py, line N)``: the deepest frame of the traceback inside ``path`` (or the deepest frame)."""
    frames = traceback.extract_tb(e.__traceback__)
    if path is not None:
        frames = [f for f in frames if Path(f.filename).resolve() == path.resolve()] or frames[-1:]
    if not frames:
        return ""
    f = frames[-1]
    return f" ({Path(f.filename).name}, line {f.lineno})"


def _source_file(obj: Any) -> Path | None:
    import inspect

    try:
        return Path(inspect.getsourcefile(obj) or "")
    except TypeError:
        return None


def _import_file(path: Path, ref: str) -> Any:
    if not path.is_file():
        where = "is a folder, not a Python file" if path.is_dir() else "file not found"
        raise ValueError(f"{ref}: {path} {where}")
    key = str(path.resolve())
    st = path.stat()
    cached = _FILES.get(key)
    if cached and cached[:2] == (st.st_mtime_ns, st.st_size):
        return cached[2]
    name = f"nlviz_user_{path.stem}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{ref}: {path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(name, None)
        raise ValueError(f"{ref}: {path} has a syntax error at line {e.lineno}: {e.msg}") from e
    except Exception as e:
        sys.modules.pop(name, None)
        raise ValueError(f"{ref}: importing {path} failed: {type(e).__name__}: {e}{_where_raised(e, path)}") from e
    _FILES[key] = (st.st_mtime_ns, st.st_size, module)
    return module


def _import_module(target: str, ref: str) -> Any:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as e:
        cwd = os.getcwd()
        if e.name and target.split(".")[0] == e.name.split(".")[0] and cwd not in sys.path and "" not in sys.path:
            sys.path.insert(0, cwd)  # `nlviz` run as a script: the current folder is not on sys.path yet
            return _import_module(target, ref)
        raise ValueError(
            f"{ref}: no module named {e.name!r} (searched sys.path and the current folder {cwd}; "
            "for a file write path/to/file.py:NAME)"
        ) from None
    except Exception as e:
        raise ValueError(f"{ref}: importing module {target!r} failed: {type(e).__name__}: {e}") from e


def import_factory(ref: str) -> Callable[..., Any]:
    """The callable ``ref`` names (``file.py:NAME`` or ``pkg.module:NAME``; NAME may be dotted).

    Raises:
        ValueError: the file or module is missing or fails to import, or it has no such callable.
    """
    target, attr, is_file = parse_factory(ref)
    path = Path(target) if is_file else None
    module = _import_file(path, ref) if path is not None else _import_module(target, ref)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            where = path or target
            names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
            raise ValueError(f"{ref}: {where} has no attribute {attr!r}; callables defined there: {names}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{ref}: {attr} is a {type(obj).__name__}, not a callable that builds a model")
    return obj


def read_weights(path: str | os.PathLike, *, what: str = "weights") -> dict[str, Any]:
    """A state dict (names → tensors) from a ``.safetensors`` file or a weights-only pickle, unwrapped from
    ``state_dict``/``model``/``model_state`` and without a ``module.`` prefix. No code in the file runs."""
    from nlviz.io.convert import strip_prefix

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: {what} file not found" + (" (it is a folder)" if p.is_dir() else ""))
    if p.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return strip_prefix(load_file(str(p)))
        except (SafetensorError, OSError) as e:
            raise ValueError(f"{p}: not a readable safetensors file ({e})") from None
    from nlviz.io.public import read

    return read(p).state


def load_weights(model: Any, path: str | os.PathLike, ref: str) -> None:
    """Load the weights file into ``model`` strictly (a mismatch names the file and lists the keys)."""
    from nlviz.io.checkpoint import CheckpointError, check_state_dict

    state = read_weights(path)
    try:
        check_state_dict(model, state, path)
    except CheckpointError as e:
        raise ValueError(str(e).replace("the model described by its card", f"the model {ref} builds", 1)) from None
    model.load_state_dict(state, strict=True)


def build_user_model(um: UserModel, *, device: Any = None) -> Any:
    """Import and call ``um``'s factory, load its weights, and return the model in eval mode on ``device`` (None:
    where the factory put it) with ``model.card`` describing it (see the module docstring)."""
    from torch import nn

    from nlviz.run.device import to_device

    spec, task = um.resolve()
    factory = import_factory(um.factory)
    try:
        model = factory(**um.args)
    except Exception as e:
        raise ValueError(
            f"{um.factory}: the factory raised {type(e).__name__}: {e}"
            + _where_raised(e, _source_file(factory))
            + (f" (called with {um.args})" if um.args else "")
        ) from e
    if not isinstance(model, nn.Module):
        raise ValueError(f"{um.factory}: the factory returned a {type(model).__name__}, not a torch.nn.Module")
    if um.weights is not None:
        load_weights(model, um.weights, um.factory)
    card: dict[str, Any] = {
        "name": um.display_name,
        "source": "factory",
        "factory": um.factory,
        "weights": um.weights,
        "args": dict(um.args),
        "input": spec.to_card(),
        "classes": list(spec.classes) if spec.classes else None,
    }
    if task is not None:
        card["task"] = task
    model.card = card
    return to_device(model, device).eval()
