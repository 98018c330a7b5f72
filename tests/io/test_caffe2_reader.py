"""The Caffe2 pickle reader: Python-2 ``{'blobs': ...}`` files load as tensors; anything but numpy arrays is
refused before it can run."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from nlviz.io.caffe2 import read_blobs
from nlviz.io.checkpoint import CheckpointError
from support.py2_pickles import write_py2_pickle


def test_python2_blobs_pickle_loads_exactly(tmp_path):
    w = np.random.default_rng(0).standard_normal((64, 3, 5, 7, 7)).astype(np.float32)
    blobs = {
        "conv1_w": w,
        "res_conv1_bn_riv": np.linspace(0.5, 1.5, 64, dtype=np.float32),
        "lr": np.array([0.01], dtype=np.float32),
        "model_iter": 400000,
    }
    path = write_py2_pickle({"blobs": blobs}, tmp_path / "i3d_nonlocal_8x8.pkl")
    assert b"numpy.core.multiarray\n_reconstruct" in path.read_bytes()  # numpy-1 names, py2 strings
    out = read_blobs(path)
    assert sorted(out) == ["conv1_w", "lr", "model_iter", "res_conv1_bn_riv"]
    assert out["conv1_w"].dtype == torch.float32 and out["conv1_w"].shape == (64, 3, 5, 7, 7)
    assert torch.equal(out["conv1_w"], torch.from_numpy(w))
    assert out["model_iter"].item() == 400000 and out["lr"].tolist() == [pytest.approx(0.01)]


def test_python3_protocol2_pickle_loads(tmp_path):
    """Python 3 writes bytes at protocol 2 through ``_codecs.encode(text, 'latin1')``: allowed, latin1 only."""
    path = tmp_path / "blobs.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"pred_w": np.ones((4, 8), np.float32)}}, protocol=2))
    assert read_blobs(path)["pred_w"].sum().item() == 32.0


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_refuses_non_numpy_globals_without_running_them(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"conv1_w": np.zeros(2, np.float32), "x": _Evil()}}, protocol=2))
    with pytest.raises(CheckpointError, match=r"evil\.pkl: refusing to load global posix\.system"):
        read_blobs(path)


@pytest.mark.parametrize(
    "payload, needle",
    [
        ({"blobs": {"w": np.array(["a", None], dtype=object)}}, r"only numeric arrays"),
        ({"weights": [1, 2]}, r"not a Caffe2 weights pickle"),
        ({"blobs": {"w": np.zeros(2), "cfg": {"a": 1}}}, r"blob 'cfg' is a dict"),
    ],
)
def test_refuses_what_is_not_numeric_blobs(tmp_path, payload, needle):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(CheckpointError, match=needle):
        read_blobs(path)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"w": np.zeros(1000, np.float32)}}, protocol=2)[:200])
    with pytest.raises(CheckpointError, match=r"cut\.pkl: not a readable pickle"):
        read_blobs(path)
