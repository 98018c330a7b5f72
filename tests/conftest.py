"""Shared test fixtures: deterministic torch, the ../shared directory, opt-in slow tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLVIZ_SHARED", ROOT.parent / "shared"))


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NLVIZ_SLOW") or config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="slow test: opt in with NLVIZ_SLOW=1 or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED} (set NLVIZ_SHARED)")
    return SHARED
