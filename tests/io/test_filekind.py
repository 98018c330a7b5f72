"""A file that is not a checkpoint, or one whose reader fails in an unexpected way, gives a message that names
the file and says what it is (random bytes used to surface as "IndexError: pop from empty list")."""

from __future__ import annotations

import io
import pickle
import random

import pytest
import torch

from nlviz.io import filekind, public
from nlviz.io.checkpoint import CheckpointError


@pytest.mark.parametrize("seed", range(6))  # seed 2 used to raise IndexError inside the Caffe2 unpickler
def test_random_bytes_are_not_a_checkpoint(tmp_path, seed):
    path = tmp_path / "random.pth"
    path.write_bytes(random.Random(seed).randbytes(4096))
    with pytest.raises(CheckpointError) as err:
        public.read(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: not a checkpoint file") and "it starts with bytes" in msg
    assert "IndexError" not in msg and "weights_only` argument" not in msg


def test_file_kinds_and_reader_failures(tmp_path):
    from safetensors.torch import save_file

    zipped, pickled, st, empty = (tmp_path / n for n in ("a.pth", "b.pkl", "c.safetensors", "d.pth"))
    torch.save({"w": torch.ones(2)}, zipped)
    buf = io.BytesIO()
    pickle.dump({"a": 1}, buf, protocol=2)
    pickled.write_bytes(buf.getvalue())
    save_file({"w": torch.ones(2)}, str(st))
    empty.write_bytes(b"")
    assert [filekind.sniff(p) for p in (zipped, pickled, st, empty)] == ["zip", "pickle", "safetensors", "unknown"]
    assert public.read(st).state["w"].tolist() == [1.0, 1.0]  # a public layout's weights as safetensors
    with pytest.raises(
        CheckpointError,
        match=r"b\.pkl: cannot read .*as caffe2: not a Caffe2 weights pickle.*"
        r"as pytorch: not a PyTorch file",
    ):
        public.read(pickled)
    with pytest.raises(CheckpointError, match=r"d\.pth: not a checkpoint file.*\(none: the file is empty\)"):
        public.read(empty)


class Opaque:  # a class torch's weights-only unpickler refuses
    pass


def test_python_objects_in_a_weights_file_are_named(tmp_path):
    path = tmp_path / "objects.pth"
    torch.save({"model": Opaque()}, path)
    with pytest.raises(
        CheckpointError, match=r"it holds Python objects, not only tensors \(.*Opaque\).*never runs code"
    ):
        public.read(path)
