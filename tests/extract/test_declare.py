"""A block nlviz does not know, declared by its roles in a few lines, is captured exactly; check_declaration tells
a right declaration from a wrong one; subclasses of known classes are reported, not guessed."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from extract_helpers import captured_rows, internal_weights
from torch import nn

import nlviz
from nlviz.extract import NonLocalRoles, check_declaration, declare, inv_sqrt_inner, undeclare
from support.randomize import randomize


class ResearchNL(nn.Module):
    """A typical research variant: keys and values pooled 2×2 before their convs, 4 heads, a scaled softmax,
    an output projection and BatchNorm, and a learnable gate on the residual."""

    def __init__(self, c: int = 16, inner: int = 8, heads: int = 4) -> None:
        super().__init__()
        self.query, self.key, self.value = (nn.Conv2d(c, inner, 1) for _ in range(3))
        self.down = nn.MaxPool2d(2)
        self.proj, self.bn = nn.Conv2d(inner, c, 1), nn.BatchNorm2d(c)
        self.heads, self.gate = heads, 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        q = self.query(x).flatten(2)  # (B, C', N)
        xs = self.down(x)
        k, v = self.key(xs).flatten(2), self.value(xs).flatten(2)  # (B, C', Nk)
        d = q.shape[1] // self.heads
        q, k, v = (t.reshape(b, self.heads, d, -1) for t in (q, k, v))
        att = F.softmax(torch.einsum("bhdq,bhdk->bhqk", q, k) * d**-0.5, dim=-1)  # (B, H, N, Nk)
        y = torch.einsum("bhqk,bhdk->bhdq", att, v).reshape(b, -1, h, w)
        return x + self.gate * self.bn(self.proj(y))


class ConcatNL(nn.Module):
    """Concatenation with a biased w_f as a Linear layer, pooling after the convs, no residual."""

    def __init__(self, c: int = 8, inner: int = 4) -> None:
        super().__init__()
        self.t, self.p, self.g = (nn.Conv1d(c, inner, 1) for _ in range(3))
        self.pool = nn.MaxPool1d(2)
        self.wf = nn.Linear(2 * inner, 1)
        self.out = nn.Conv1d(inner, c, 1)

    def forward(self, x):
        t, p, g = self.t(x), self.pool(self.p(x)), self.pool(self.g(x))  # (B, C', N), (B, C', Nk) ×2
        a = torch.einsum("c,bcn->bn", self.wf.weight[0, : t.shape[1]], t) + self.wf.bias
        bk = torch.einsum("c,bck->bk", self.wf.weight[0, t.shape[1] :], p)
        w = F.relu(a[:, :, None] + bk[:, None, :]) / p.shape[-1]  # (B, N, Nk)
        return self.out(torch.matmul(w, g.transpose(1, 2)).transpose(1, 2))


@pytest.fixture
def declared():
    yield
    for cls in (ResearchNL, ConcatNL):
        undeclare(cls)


def test_a_research_block_declared_in_a_few_lines_is_exact(declared):
    roles = declare(  # the README's worked example: one statement
        ResearchNL,
        theta="query",
        phi="key",
        g="value",
        pool="down",
        pool_order="before_conv",
        pairwise="softmax",
        scale=inv_sqrt_inner,
        heads=4,
        out=("proj", "bn"),
    )
    block = randomize(ResearchNL(), seed=1, std=0.3)
    model = nn.Sequential(nn.Conv2d(3, 16, 1), block).eval()
    x = torch.randn(2, 3, 9, 11)  # odd, non-square: keys 4×5
    rows = captured_rows(model, x, "1")
    assert rows.shape == (2, 4, 99, 20)
    ref = internal_weights(block, model[0](x), 99, 20)
    torch.testing.assert_close(rows, ref, atol=1e-6, rtol=0)
    assert check_declaration(block, model[0](x)) == pytest.approx(0, abs=1e-5)  # gate = 1: the residual is x + y
    wrong = NonLocalRoles(**{**roles.__dict__, "scale": 1.0})
    assert check_declaration(block, model[0](x), wrong) > 1e-3  # a wrong scale is caught


def test_concatenation_with_a_biased_projection(declared):
    declare(
        ConcatNL,
        theta="t",
        phi="p",
        g="g",
        pool="pool",
        pairwise="concatenation",
        concat="wf",
        out="out",
        residual=False,
    )
    block = randomize(ConcatNL(), seed=2, std=0.5)
    x = torch.randn(2, 8, 13)
    rows = captured_rows(nn.Sequential(block), x, "0")
    torch.testing.assert_close(rows, internal_weights(block, x, 13, 6), atol=1e-6, rtol=0)
    assert (rows == 0).any() and (rows > 0).any()  # the ReLU cuts some pairs, not all
    assert check_declaration(block, x) == pytest.approx(0, abs=1e-5)


def test_bad_declarations_name_the_problem(declared):
    with pytest.raises(ValueError, match="pairwise='cosine' is not known"):
        declare(ResearchNL, theta="query", phi="key", g="value", pairwise="cosine")
    with pytest.raises(ValueError, match="concat="):
        declare(ResearchNL, theta="query", phi="key", g="value", pairwise="concatenation")
    declare(ResearchNL, theta="query", phi="nope", g="value")
    with pytest.raises(ValueError, match=r"ResearchNL has no \['nope'\]; its submodules: \['query', 'key'"):
        with nlviz.capture(nn.Sequential(ResearchNL())):
            pass
    with pytest.raises(TypeError, match="not an nn.Module class"):
        declare(int, g="g")


def test_a_subclass_of_a_known_class_is_reported_and_can_be_declared_like_it():
    mmcv_nl = pytest.importorskip("mmcv.cnn.bricks.non_local")

    class GatedNonLocal(mmcv_nl.NonLocal2d):
        pass

    model = nn.Sequential(nn.Conv2d(3, 8, 1), randomize(GatedNonLocal(8, mode="dot_product"), std=0.3))
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ValueError, match="found no operator block"):
        warnings.simplefilter("always")
        with nlviz.capture(model):
            pass
    assert any("subclasses mmcv's NonLocal2d" in str(w.message) for w in caught)
    try:
        declare(GatedNonLocal, like="NonLocal2d")
        x = torch.randn(1, 3, 5, 6)
        rows = captured_rows(model, x, "1")
        torch.testing.assert_close(rows, internal_weights(model[1], model[0](x), 30, 30), atol=1e-6, rtol=0)
    finally:
        undeclare(GatedNonLocal)


def test_a_model_without_blocks_says_what_nlviz_knows_and_how_to_declare():
    with pytest.raises(ValueError) as err:
        with nlviz.capture(nn.Sequential(nn.Conv2d(3, 4, 1))):
            pass
    msg = str(err.value)
    for needle in (
        "found no operator block",
        "mmcv.cnn.bricks.non_local.NonLocal2d",
        "nlviz.extract.declare(",
        "fallback=True",
        "nonlocal",
        "spatial_bias",
    ):
        assert needle in msg, needle
