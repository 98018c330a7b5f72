"""Register the toy operators of ``model_helpers`` for every test in tests/models (restored afterwards)."""

from __future__ import annotations

import pytest
from model_helpers import Toy2DOp, ToyOp

from nlviz.ops.base import OPS


@pytest.fixture(autouse=True)
def toy_ops(monkeypatch):
    """Register the toys for the duration of one test (the registry is restored afterwards)."""
    monkeypatch.setitem(OPS._items, "toy", ToyOp)
    monkeypatch.setitem(OPS._items, "toy2d", Toy2DOp)
    yield
