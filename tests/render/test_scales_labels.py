"""Color scales and labels: what the weights are, symmetric signed ranges, one table for both back ends."""

from __future__ import annotations

import numpy as np
import pytest

from nlviz.render import colormap
from nlviz.render.scale import ColorScale, ascii_text, make_scale, weight_label


@pytest.mark.parametrize(
    ("kind", "normalized", "text"),
    [
        ("softmax", True, "softmax weight (rows sum to 1)"),
        ("dot_product", False, "dot product ÷N (not normalized)"),
        ("linear_contribution", False, "linear contribution to y (signed, units of y)"),
        ("bilinear", True, "bilinear weight P·Q (rows sum to 1)"),
        ("something_new", False, "something_new weight (not normalized)"),
    ],
)
def test_weight_labels_say_what_the_numbers_are(kind, normalized, text):
    assert weight_label(kind, normalized) == text
    assert weight_label(kind, normalized, "mean of 4 groups") == f"{text}, mean of 4 groups"


def test_ascii_text_for_opencv_fonts():
    assert ascii_text("dot product ÷N") == "dot product /N"
    assert ascii_text("P̃ · Q̃ — T̃") == "P * Q - T"


def test_scales_cover_the_values():
    s = make_scale(np.array([0.1, 0.4, 0.2]), "w")
    assert (s.vmin, s.vmax, s.cmap, s.signed) == (0.0, 0.4, "viridis", False)
    s = make_scale(np.array([-0.3, 0.1]), "w")
    assert (s.vmin, s.vmax, s.cmap, s.signed) == (-0.3, 0.3, "rdbu", True)
    s = make_scale(np.array([0.1]), "w", cmap="magma", fixed=(-1.0, 2.0))
    assert (s.vmin, s.vmax, s.cmap, s.signed) == (-1.0, 2.0, "magma", True)
    s = make_scale(np.zeros(4), "w")  # all zero: a valid [0, 1] range, not a division by zero
    assert (s.vmin, s.vmax) == (0.0, 1.0)
    np.testing.assert_allclose(make_scale(np.array([2.0]), "w").normalize([-1, 0, 1, 2, 3]), [0, 0, 0.5, 1, 1])
    assert make_scale(np.array([2.0]), "w").ticks() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="vmin < vmax"):
        ColorScale(1.0, 1.0, "viridis", "w")
    with pytest.raises(ValueError, match="colormap 'nope' is not known"):
        ColorScale(0.0, 1.0, "nope", "w")


def test_plotly_colorscale_samples_the_same_table():
    for name in colormap.COLORMAPS:
        table = colormap.lut(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
        cs = colormap.plotly_colorscale(name)
        assert cs[0][0] == 0.0 and cs[-1][0] == 1.0 and len(cs) == colormap.PLOTLY_STOPS
        assert cs[0][1] == "rgb({},{},{})".format(*table[0]) and cs[-1][1] == "rgb({},{},{})".format(*table[255])
    rdbu = colormap.lut("rdbu")
    assert tuple(rdbu[0]) == (5, 48, 97) and tuple(rdbu[255]) == (103, 0, 31)
    assert abs(int(rdbu[128, 0]) - 247) <= 2  # zero is (near) white
    np.testing.assert_array_equal(colormap.apply("gray", np.array([0.0, 0.5, 1.0]))[:, 0], [0, 128, 255])
