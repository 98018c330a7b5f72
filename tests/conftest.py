"""Shared test fixtures: deterministic torch, the in-repo AlexHex7 checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

#: AlexHex7/Non-local_pytorch's released MNIST network and its maps, copied into the repository (see its NOTICE)
ALEXHEX7 = Path(__file__).resolve().parent / "assets" / "alexhex7_mnist"


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def alexhex7_dir() -> Path:
    """tests/assets/alexhex7_mnist: net.pth, sample.png, nl_map_1.npy, nl_map_2.npy (README.md there)."""
    return ALEXHEX7
