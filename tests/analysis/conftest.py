"""Fixtures for the analysis tests: hand-built Affinities with geometry, and a tiny recorded video model."""

from __future__ import annotations

import pytest
import torch

import nlviz
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.models import build_model
from nlviz.ops.base import Affinity
from support.randomize import randomize


@pytest.fixture
def make_aff():
    """Factory: rows (Q, Nk) or weights (B, G, Q, Nk) → an Affinity on the given grids with geometry."""

    def make(rows, qgrid, kgrid, input_size, queries, *, normalized=True, kind="softmax", geometry=True):
        w = torch.as_tensor(rows, dtype=torch.float32)
        if w.dim() == 2:
            w = w[None, None]
        q = torch.as_tensor(queries, dtype=torch.long).reshape(-1, 3)
        geo = AffinityGeometry(GridGeometry(input_size, qgrid), GridGeometry(input_size, kgrid)) if geometry else None
        return Affinity(w.reshape(*w.shape[:3], *kgrid), q, qgrid, kgrid, normalized, kind, geometry=geo)

    return make


@pytest.fixture(scope="module")
def c2d():
    """tiny C2D: a subsampled embedded-gaussian NL in stage 2 (grid 4×8×8, keys 4×4×4) and a per-frame
    Spatial Bias block in stage 3 (grid 4×4×4, 3 groups, unnormalized)."""
    blocks = [
        {"op": "nonlocal", "stage": 2, "index": 0, "options": {"mode": "embedded_gaussian", "sub_sample": True}},
        {"op": "spatial_bias", "stage": 3, "index": 0},
    ]
    torch.manual_seed(0)
    return randomize(
        build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=blocks), seed=3, std=0.2, add=True
    )


@pytest.fixture(scope="module")
def recorded(c2d):
    """(model, x, recording) of one forward on a (1, 3, 4, 16, 16) input."""
    x = torch.randn(1, 3, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), nlviz.capture(c2d) as rec:
        c2d(x)
    return c2d, x, rec
