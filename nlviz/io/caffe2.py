"""Read Caffe2 weight pickles (video-nonlocal-net, Detectron, SlowFast's ``CHECKPOINT_TYPE: caffe2``) safely.

These files are Python-2 pickles of ``{'blobs': {name: numpy array, ...}}`` (sometimes the blob dict alone),
written with ``pickle.HIGHEST_PROTOCOL`` (2) by ``lib/utils/checkpoints.py:save_model_params``; besides the
weights they hold solver state (``*_momentum`` arrays, ``lr``, ``model_iter``). Python 2 ``str`` payloads are
decoded as latin1, the standard way to read them in Python 3 (``numpy`` arrays carry their raw bytes in them).

Nothing is executed: the unpickler resolves only an allow-list of globals — the numpy functions and types
that rebuild plain numeric arrays and scalars (``numpy.core.multiarray._reconstruct``/``scalar``,
``numpy.ndarray``, ``numpy.dtype``; numpy 1 and 2 module names), ``collections.OrderedDict``, and
``_codecs.encode`` restricted to latin1 (how Python 3 writes ``bytes`` at protocol 2). Any other global raises
a :class:`~nlviz.io.checkpoint.CheckpointError` naming it. Object arrays are refused after loading.
"""

from __future__ import annotations

import collections
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nlviz.io.checkpoint import CheckpointError

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 protocol-2 pickles use it for ``bytes``: latin1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise CheckpointError(f"refusing _codecs.encode({type(text).__name__}, {encoding!r}) in a weights pickle")
    return text.encode("latin1")


_MULTIARRAY = {"_reconstruct": _multiarray._reconstruct, "scalar": _multiarray.scalar}

#: (module, name) → the object the unpickler may return; nothing else is importable
ALLOWED: dict[tuple[str, str], Any] = {
    **{
        (mod, name): obj
        for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name, obj in _MULTIARRAY.items()
    },
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): _latin1_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise CheckpointError(
                f"refusing to load global {module}.{name}: a weights pickle may only hold numpy arrays "
                f"(allowed: {sorted(f'{m}.{n}' for m, n in ALLOWED)})"
            ) from None


def load_pickle(path: str | os.PathLike) -> Any:
    """Unpickle ``path`` with the allow-list above (latin1 for Python 2 strings). Raises CheckpointError."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _RestrictedUnpickler(f, encoding="latin1").load()
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise CheckpointError(f"{path}: not a readable pickle ({type(e).__name__}: {e})") from None


def blobs_of(obj: Any, path: str | os.PathLike = "<pickle>") -> dict[str, Any]:
    """The blob dict of an unpickled Caffe2 file: ``obj['blobs']`` or ``obj`` itself when it maps names to arrays."""
    blobs = obj.get("blobs") if isinstance(obj, dict) and isinstance(obj.get("blobs"), dict) else obj
    if not isinstance(blobs, dict) or not blobs or not any(isinstance(v, np.ndarray) for v in blobs.values()):
        raise CheckpointError(
            f"{path}: not a Caffe2 weights pickle (expected {{'blobs': {{name: array}}}}, got {type(obj).__name__})"
        )
    return blobs


def read_blobs(path: str | os.PathLike) -> dict[str, Tensor]:
    """Caffe2 blobs as tensors: arrays → tensors (same dtype), numbers (``lr``, ``model_iter``) → 0-d tensors.

    Raises CheckpointError for a file that is not such a pickle, holds a non-allowed global, or holds object arrays.
    """
    blobs = blobs_of(load_pickle(path), path)
    out: dict[str, Tensor] = {}
    for name, value in blobs.items():
        if not isinstance(name, str):
            raise CheckpointError(f"{path}: blob names must be strings, got {name!r}")
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise CheckpointError(f"{path}: blob {name!r} has dtype {array.dtype}; only numeric arrays are allowed")
            out[name] = torch.from_numpy(array.copy())
        elif isinstance(value, (bool, int, float)):
            out[name] = torch.tensor(value)
        else:
            raise CheckpointError(f"{path}: blob {name!r} is a {type(value).__name__}, not an array or a number")
    return out
