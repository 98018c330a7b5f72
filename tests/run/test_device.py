"""Devices: ``auto`` picks cuda, then mps, then cpu; an unavailable or unknown device is a clear error; the model
and its inputs move together; and on a GPU, rows and logits equal the CPU's (skipped loudly without one)."""

from __future__ import annotations

import pytest
import torch

import nlviz
from nlviz.run import available_devices, forward, load, read_input, resolve_device


def test_auto_is_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("AUTO") == torch.device("cuda")


def test_cpu_and_torch_devices_resolve():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert available_devices()[0] == "cpu"


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", ""])
def test_unknown_devices_list_the_choices(name):
    with pytest.raises(ValueError, match=r"is not known; use one of \['auto', 'cpu', 'cuda', 'mps'\]"):
        resolve_device(name)


def test_unavailable_devices_say_what_the_machine_has(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device 'cuda' is not available: .*; available: \['cpu'\]"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match=r"device 'mps' is not available .*; available: \['cpu'\]"):
        resolve_device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"device 'cuda:3' is not available: this machine has \['cpu', 'cuda:0'\]"):
        resolve_device("cuda:3")


def test_meta_is_not_a_device_to_run_on():
    with pytest.raises(ValueError, match=r"device 'meta' is not supported"):
        resolve_device("meta")


def test_load_model_rejects_an_unavailable_device_before_running(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        nlviz.load_model("st_nl_embedded", device="cuda")


def test_the_input_follows_the_model_device():
    lm = load("st_nl_embedded", device="cpu")
    assert lm.device == torch.device("cpu")
    out = forward(lm, read_input("synthetic:0", lm))
    assert out.logits.device.type == "cpu" and out.rec.affinity(lm.blocks[0], [(0, 1, 1)]).weights.device.type == "cpu"


def test_rows_on_cuda_equal_rows_on_cpu():
    if not torch.cuda.is_available():
        pytest.skip(
            f"no CUDA device: torch {torch.__version__} (CUDA build: {torch.version.cuda}) sees no GPU, so rows on "
            "CUDA vs CPU were NOT compared on this machine"
        )
    cpu, gpu = load("st_nl_embedded", device="cpu"), load("st_nl_embedded", device="cuda")
    assert gpu.device.type == "cuda" and next(gpu.model.parameters()).is_cuda
    clip = read_input("synthetic:3", cpu)
    a, b = forward(cpu, clip), forward(gpu, clip)
    assert b.logits.device.type == "cpu"  # logits and rows come back on the CPU
    torch.testing.assert_close(b.logits, a.logits, rtol=1e-4, atol=1e-5)
    for block in cpu.blocks:
        ra, rb = a.rec.affinity(block), b.rec.affinity(block)  # every row of the block
        assert rb.weights.device.type == "cpu"
        torch.testing.assert_close(rb.weights, ra.weights, rtol=1e-4, atol=1e-6)
