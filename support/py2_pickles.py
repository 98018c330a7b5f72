"""Python-2 pickles as video-nonlocal-net's Caffe2 code wrote them, and its ``{'blobs': ...}`` checkpoint files."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import torch


class Py2Pickler(pickle._Pickler):
    """Writes pickles as Python 2's cPickle did: ``str``/``bytes`` as py2 ``str`` (BINSTRING) and numpy under its
    numpy-1 module name ``numpy.core.multiarray``; protocol 2 (video-nonlocal-net's ``HIGHEST_PROTOCOL``)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj: str | bytes) -> None:
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str

    def save_global(self, obj, name=None):  # noqa: ANN001 - pickle's signature
        module = getattr(obj, "__module__", None)
        name = name or obj.__qualname__
        if module and module.startswith("numpy._core"):
            module = module.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("latin1"))
        self.memoize(obj)


def write_py2_pickle(obj: object, path: Path) -> Path:
    with open(path, "wb") as f:
        Py2Pickler(f, protocol=2).dump(obj)
    return path


def caffe2_file(blobs: dict[str, torch.Tensor], path: Path, *, solver: bool = True) -> Path:
    """A video-nonlocal-net style ``{'blobs': ...}`` Python-2 pickle of numpy arrays (plus solver state)."""
    out: dict[str, object] = {k: v.numpy().astype(np.float32) for k, v in blobs.items()}
    if solver:
        out.update(lr=np.array([0.01], dtype=np.float32), model_iter=400000)
        out.update({f"{k}_momentum": np.zeros_like(v) for k, v in list(out.items()) if k.endswith("_w")})
    return write_py2_pickle({"blobs": out}, path)
