"""Value fix-ups that key maps attach for what is not a rename (see :mod:`nlviz.io.keymap`), on our names.

Each is exact: a layout without a conv bias loads a zero bias; a frozen (affine-only) BatchNorm loads as BN with
mean 0 and variance 1 − eps; a BN step counter a format does not store loads as 0.
"""

from __future__ import annotations

import torch

from nlviz.io.keymap import StateDict

#: BatchNorm eps of the layouts that store affine-only BN (Caffe2 ``AffineNd``)
BN_EPS = 1e-5


def add_zero_biases(state: StateDict, convs: tuple[str, ...]) -> StateDict:
    """Give every conv in ``convs`` that has a weight but no bias a zero bias (C_out,)."""
    for conv in convs:
        w = state.get(f"{conv}.weight")
        if w is not None and f"{conv}.bias" not in state:
            state[f"{conv}.bias"] = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)  # (C_out,)
    return state


def drop_zero_biases(state: StateDict, convs: tuple[str, ...], where: str) -> StateDict:
    """The inverse of :func:`add_zero_biases` for a layout whose convs have no bias: a non-zero one is an error."""
    biases = [f"{conv}.bias" for conv in convs if f"{conv}.bias" in state]
    nonzero = [k for k in biases if state[k].any()]
    if nonzero:
        raise ValueError(f"{where} convs have no bias; this block has non-zero biases {nonzero}")
    return {k: v for k, v in state.items() if k not in biases}


def complete_affine_bn(state: StateDict, prefix: str) -> bool:
    """Give an affine-only BN (``{prefix}.weight``/``.bias``) running mean 0 and variance 1 − eps.

    Returns:
        True if the BN was affine-only (and is now complete).
    """
    w = state.get(f"{prefix}.weight")
    if w is None or f"{prefix}.running_mean" in state:
        return False
    state[f"{prefix}.running_mean"] = torch.zeros_like(w)  # (C,)
    state[f"{prefix}.running_var"] = torch.full_like(w, 1.0 - BN_EPS)  # (C,)
    return True


def with_step_counter(state: StateDict, norm: str = "norm") -> StateDict:
    """Values as tensors (Caffe2 blobs may be numpy arrays) and a zero BN step counter when the format has none."""
    state = {k: torch.as_tensor(v) for k, v in state.items()}
    if f"{norm}.running_mean" in state and f"{norm}.num_batches_tracked" not in state:
        state[f"{norm}.num_batches_tracked"] = torch.tensor(0)
    return state
