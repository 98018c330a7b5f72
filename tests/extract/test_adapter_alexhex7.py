"""AlexHex7's NONLocalBlock1D/2D/3D (re-typed copies of its four ``lib/non_local_*.py`` in support.foreign)
captured as they are: the mode comes from the file that defines the class, and rows equal the weights each
forward builds for every file × dimension × sub_sample × bn_layer on odd, non-square shapes. The released MNIST
network (tests/assets/alexhex7_mnist) captured as it is reproduces the publisher's own maps."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
import torch
from extract_helpers import assert_recorded, assert_rows_exact
from torch import nn

import nlviz
from nlviz.extract import declare, known_classes, undeclare
from nlviz.extract.adapters.alexhex7 import FILES, file_of
from support.randomize import randomize

LIB = "support.foreign.alexhex7.lib"
SHAPES = {1: [(2, 8, 13), (2, 8, 6)], 2: [(2, 8, 7, 9), (2, 8, 5, 4)], 3: [(2, 8, 3, 5, 7), (2, 8, 2, 4, 5)]}
CASES = [
    (file, dim, sub, bn, shape)
    for file, dim, sub, bn in itertools.product(FILES, (1, 2, 3), (True, False), (True, False))
    for shape in SHAPES[dim]
]


def _class(file: str, dim: int) -> type:
    return getattr(importlib.import_module(f"{LIB}.{file}"), f"NONLocalBlock{dim}D")


@pytest.mark.parametrize("file,dim,sub,bn,shape", CASES, ids=str)
def test_rows_equal_the_blocks_own_weights(file, dim, sub, bn, shape):
    block = randomize(_class(file, dim)(8, sub_sample=sub, bn_layer=bn), seed=dim, std=0.3)
    assert assert_rows_exact(block, torch.randn(*shape)) <= 1e-5


@pytest.mark.parametrize("file", FILES)
def test_the_mode_comes_from_the_defining_file(file):
    mode, kind, _ = FILES[file]
    model = nn.Sequential(nn.Conv2d(1, 8, 1), nn.Sequential(_class(file, 2)(8))).eval()
    # φ/g max-pooled 2×2 after their convs: keys 3×4, floor on odd sizes
    assert_recorded(model, torch.randn(2, 1, 7, 9), "1.0", kind=kind, grids=((1, 7, 9), (1, 3, 4)))
    assert file_of(model[1][0]) == file
    assert f"AlexHex7 ({mode}): {file}.NONLocalBlock2D ({kind})" in known_classes()


@pytest.mark.parametrize(
    "dim,shape,grids", [(1, (1, 8, 13), ((1, 1, 13), (1, 1, 6))), (3, (1, 8, 3, 5, 7), ((3, 5, 7), (3, 2, 3)))]
)
def test_key_grids_of_1d_and_3d(dim, shape, grids):
    model = nn.Sequential(_class("non_local_dot_product", dim)(8)).eval()
    assert_recorded(model, torch.randn(*shape), "0", kind="dot_product", grids=grids)  # pool 2 / 1×2×2, floor


def test_a_subclass_declared_like_a_file_keeps_that_files_mode():
    base = _class("non_local_dot_product", 2)

    class Mine(base):
        pass

    try:
        declare(Mine, like="non_local_dot_product.NONLocalBlock2D")
        model = nn.Sequential(randomize(Mine(8), std=0.3))
        with torch.no_grad(), nlviz.capture(model) as rec:
            model(torch.randn(1, 8, 5, 6))
        assert rec.affinity("0").kind == "dot_product"
    finally:
        undeclare(Mine)


# ---- the released MNIST network -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist(alexhex7_dir):
    """(AlexHex7's Network with net.pth loaded, sample.png as (1, 1, 28, 28) in [0, 1])."""
    import cv2

    from support.foreign.alexhex7.lib.network import Network

    state = torch.load(alexhex7_dir / "net.pth", weights_only=True, map_location="cpu")
    net = Network()
    net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()}, strict=True)
    img = cv2.imread(str(alexhex7_dir / "sample.png"), cv2.IMREAD_GRAYSCALE)
    assert img is not None and img.shape == (28, 28)
    return net.eval(), torch.from_numpy(img).float().div(255).reshape(1, 1, 28, 28)


def test_the_released_network_reproduces_the_publishers_maps(mnist, alexhex7_dir):
    net, x = mnist
    with torch.no_grad(), nlviz.capture(net) as rec:
        logits = net(x)
    assert logits.argmax(1).item() == 7
    assert rec.blocks == ["nl_1", "nl_2"]
    assert rec.grids("nl_1") == ((1, 14, 14), (1, 7, 7)) and rec.grids("nl_2") == ((1, 7, 7), (1, 3, 3))
    with torch.no_grad():
        _, maps = net.forward_with_nl_map(x)
    for block, name, own in zip(rec.blocks, ("nl_map_1.npy", "nl_map_2.npy"), maps):
        want = np.load(alexhex7_dir / name)  # (1, Nq, Nk), queries and keys row-major (y, x)
        aff = rec.affinity(block)
        ours = aff.rows()[:, 0]  # (1, Nq, Nk)
        assert aff.kind == "softmax" and aff.normalized and ours.shape == want.shape
        err, err_own = np.abs(ours.numpy() - want).max(), float((ours - own).abs().max())
        print(f"{block}: publisher's map {err:.3g}, this copy's forward {err_own:.3g}")
        assert err <= 1e-5 and err_own <= 1e-5, (block, err, err_own)
