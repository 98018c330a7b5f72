"""Devices: where a model and its inputs live while it runs (``--device auto|cpu|cuda|mps``).

    resolve_device("auto")      # cuda if available, else mps if available, else cpu
    resolve_device("cuda:1")    # an error naming what this machine has, when there is no second GPU

``mps`` exists only where ``torch.backends.mps.is_available()`` does (Apple silicon builds). Rows of a capture
are computed on the device their block ran on and returned on the CPU (:meth:`nlviz.extract.Recording.affinity`).
"""

from __future__ import annotations

from typing import Any

import torch

#: the names ``--device`` takes (``cuda:N`` picks one GPU)
DEVICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """The devices this machine can run on now: ``cpu``, then ``cuda:0`` … and ``mps`` where present."""
    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        out.append("mps")
    return out


def _why_no_cuda() -> str:
    if torch.version.cuda is None:
        return f"this torch build ({torch.__version__}) has no CUDA support"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU: torch.cuda.is_available() is False"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` that ``device`` names; ``auto`` picks cuda, else mps, else cpu.

    Args:
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or a ``torch.device``.

    Raises:
        ValueError: an unknown name, or a device this machine does not have (the message says what it has).
    """
    if isinstance(device, str) and device.strip().lower() == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        dev = torch.device(device.strip().lower() if isinstance(device, str) else device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {device!r} is not known; use one of {list(DEVICES)} (or cuda:N)") from None
    have = available_devices()
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(dev)!r} is not available: {_why_no_cuda()}; available: {have}")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(dev)!r} is not available: this machine has {have}")
        return dev
    if dev.type == "mps":
        if not _mps_available():
            raise ValueError(
                f"device 'mps' is not available (torch.backends.mps.is_available() is False); available: {have}"
            )
        return dev
    raise ValueError(f"device {str(dev)!r} is not supported; use one of {list(DEVICES)} (or cuda:N)")


def device_of(model: Any) -> torch.device:
    """The device of a module's first parameter (or buffer); cpu for a module that has neither."""
    for tensors in (model.parameters(), model.buffers()):
        for t in tensors:
            return t.device
    return torch.device("cpu")


def to_device(model: Any, device: str | torch.device | None) -> Any:
    """``model`` moved to ``device`` (resolved by :func:`resolve_device`); None leaves it where it is."""
    return model if device is None else model.to(resolve_device(device))
