"""Register the toy operators of ``support.toy_ops`` for every test in tests/models (restored afterwards)."""

from __future__ import annotations

import pytest

from nlviz.ops.base import OPS
from support.toy_ops import Toy2DOp, ToyOp


@pytest.fixture(autouse=True)
def toy_ops(monkeypatch):
    """Register the toys for the duration of one test (the registry is restored afterwards)."""
    monkeypatch.setitem(OPS._items, "toy", ToyOp)
    monkeypatch.setitem(OPS._items, "toy2d", Toy2DOp)
    yield
