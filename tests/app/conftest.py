"""Fixtures for the app tests: a tiny random zoo (no training) as NLVIZ_CHECKPOINTS, app/ on sys.path, and
Streamlit's resource caches cleared so a test never sees models of another zoo."""

from __future__ import annotations

import os
import sys

import pytest

from support.app import app_on_path
from support.checkpoints import tiny_zoo


@pytest.fixture(scope="session")
def zoo_dir(tmp_path_factory):
    return tiny_zoo(tmp_path_factory.mktemp("zoo"))


@pytest.fixture
def zoo(zoo_dir, monkeypatch):
    """The tiny zoo as the checkpoint folder, app/ importable, caches cleared (before and after)."""
    import streamlit as st
    import torch

    torch.set_num_threads(1)
    monkeypatch.setenv("NLVIZ_CHECKPOINTS", str(zoo_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    app_on_path()
    st.cache_resource.clear()
    main = sys.modules["__main__"]
    yield zoo_dir
    st.cache_resource.clear()
    # AppTest leaves the last page script as __main__; a later "spawn" worker pool (nlviz export --workers)
    # would re-run that page in every child and die. Put pytest's __main__ back.
    sys.modules["__main__"] = main
