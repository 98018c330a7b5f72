"""Vector paper figures: what the Explore and Compare figures contain, the page width in SVG and PDF, embedded fonts,
byte-identical re-runs, and no clipped or overlapping text on any zoo family at either column width."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch

from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity
from nlviz.render.compare import compare_view
from nlviz.render.paper import draw_arrows, explore_paper, figure_bytes
from nlviz.render.paper_compare import compare_paper
from nlviz.render.paper_layout import layout_problems
from nlviz.render.paper_size import PAPER_WIDTHS, width_inches
from nlviz.render.scene import make_scene

pypdf = pytest.importorskip("pypdf")
ROOT = Path(__file__).resolve().parents[2]

T, H, W = 4, 16, 16
QG, KG = (4, 8, 8), (4, 4, 4)
#: one zoo model per operator family (video and image)
FAMILIES = ["st_nl_embedded", "st_nl_concat", "st_cgnl_gauss", "st_bat3d", "st_sb", "st_i3d_nl", "im_bat", "im_sb"]


def make_aff(w: torch.Tensor, kind: str = "softmax") -> Affinity:
    geo = AffinityGeometry(GridGeometry((T, H, W), QG), GridGeometry((T, H, W), KG))
    return Affinity(
        weights=w,
        queries=torch.tensor([[1, 3, 5]]),
        query_grid=QG,
        key_grid=KG,
        normalized=True,
        kind=kind,
        geometry=geo,
    )


def toy_scene():
    """A row with a few strong keys, many weak ones (left out by min_fraction) and the query's own cell on top."""
    g = torch.Generator().manual_seed(3)
    w = torch.rand(1, 1, 1, *KG, generator=g) ** 8
    w[0, 0, 0, 1, 1, 2] = w.max() * 2  # the key cell under the query (1, 3, 5): self-attention, a ring
    frames = np.random.default_rng(0).integers(0, 255, (T, H, W, 3), dtype=np.uint8)
    return make_scene(frames, make_aff(w / w.sum()), 0, k=12, min_fraction=0.25, title="test | blk")


@pytest.fixture
def scene():
    return toy_scene()


def images(fig) -> list:
    return [im for ax in fig.axes for im in ax.images]


def test_one_image_per_frame_and_one_arrow_per_kept_key(scene):
    fig = explore_paper(scene, width="single")
    assert len(images(fig)) == len(scene.input_frames) == T
    kept = len(scene.top_weights)
    assert 0 < kept < 12  # min_fraction left some of the top 12 out
    assert scene.self_key.sum() == 1
    arrows = draw_arrows(fig, scene, [ax for ax in fig.axes if ax.images])
    assert len(arrows) == kept  # every kept key: an arrow, or the ring for the query itself
    assert sum(type(a).__name__ == "Circle" for a in arrows) == 1


def test_colorbar_label_is_the_scale_label(scene):
    fig = explore_paper(scene, width="single")
    bars = [ax for ax in fig.axes if not ax.images]
    assert len(bars) == 1
    assert " ".join(bars[0].get_xlabel().split()) == scene.scale.label  # wrapped over lines, same words


@pytest.mark.parametrize("width", ["single", "double", 5, "12cm"])
def test_svg_and_pdf_have_the_page_width(scene, width):
    fig = explore_paper(scene, width=width)
    points = width_inches(width) * 72
    root = ET.fromstring(figure_bytes(fig, "svg"))
    assert root.tag.endswith("svg") and abs(float(root.get("width").removesuffix("pt")) - points) <= 1
    reader = pypdf.PdfReader(io.BytesIO(figure_bytes(fig, "pdf")))
    box = reader.pages[0].mediabox
    assert len(reader.pages) == 1 and abs(float(box.width) - points) <= 1


def embedded_truetype(font) -> bool:
    """A PDF font dict is TrueType outlines embedded in the file (/FontFile2), directly or as a CID font."""
    if font["/Subtype"] == "/Type0":
        font = font["/DescendantFonts"][0].get_object()
        return font["/Subtype"] == "/CIDFontType2" and "/FontFile2" in font["/FontDescriptor"].get_object()
    return font["/Subtype"] == "/TrueType" and "/FontFile2" in font["/FontDescriptor"].get_object()


def test_pdf_fonts_are_embedded_truetype_and_no_text_is_below_6pt(scene):
    reader = pypdf.PdfReader(io.BytesIO(figure_bytes(explore_paper(scene, width="single"), "pdf")))
    fonts = [f.get_object() for f in reader.pages[0]["/Resources"]["/Font"].values()]
    assert fonts and all(embedded_truetype(f) for f in fonts), fonts  # Type 42, never Type 3
    assert layout_problems(explore_paper(scene, width="single"), min_font=6.0) == []
    assert reader.metadata.get("/CreationDate") is None


def test_bytes_are_identical_on_a_rerun_and_in_another_process(scene):
    a = {f: figure_bytes(explore_paper(scene, width="single"), f, title="t") for f in ("svg", "pdf")}
    b = {f: figure_bytes(explore_paper(scene, width="single"), f, title="t") for f in ("svg", "pdf")}
    assert a == b
    code = (
        "import sys; sys.path.insert(0, 'tests/render'); from test_paper import toy_scene;"
        "from nlviz.render.paper import explore_paper, figure_bytes;"
        "sys.stdout.buffer.write(figure_bytes(explore_paper(toy_scene(), width='single'), 'svg', title='t'))"
    )
    env = dict(os.environ, PYTHONHASHSEED="7")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env, cwd=ROOT)
    assert other.stdout == a["svg"]


def test_a_bad_width_says_what_is_accepted(scene):
    for bad in ("wide", "3 furlongs", 0.2, True):
        with pytest.raises(ValueError, match="single.*double"):
            explore_paper(scene, width=bad)
    assert PAPER_WIDTHS == {"single": 3.25, "double": 6.875}
    assert width_inches("8.3cm") == pytest.approx(3.268, abs=1e-3) and width_inches("252pt") == 3.5


def test_compare_has_a_row_per_entry_and_difference_and_two_colorbars(scene):
    other = make_scene(scene.frames, make_aff(torch.full((1, 1, 1, *KG), 1 / 64)), 0)
    for per_row in (False, True):
        view = compare_view([("A", scene), ("B uniform", other)], per_row=per_row)
        fig = compare_paper(view, width="single")
        assert len(images(fig)) == 3 * T  # A, B, B − A
        labels = sorted(" ".join(ax.get_xlabel().split()) for ax in fig.axes if not ax.images)
        assert len(labels) == 2 and labels[0].startswith("difference to A")
        assert layout_problems(fig) == []


@pytest.fixture(scope="module")
def zoo_scenes():
    """(model name → (label, Scene)) of every family, on the same synthetic clip per input kind, memoized."""
    from nlviz.render.scene import make_scene
    from nlviz.run import forward, load, read_input

    torch.set_num_threads(1)
    cache = {}

    def get(name: str):
        if name not in cache:
            lm = load(name)
            clip = read_input("synthetic:0", lm)
            rec = forward(lm, clip).rec
            block = rec.blocks[0]
            qg = rec.grids(block)[0]
            aff = rec.affinity(block, [(qg[0] // 2, qg[1] // 2, qg[2] // 3)])
            cache[name] = (f"{name} {block}", make_scene(clip.frames, aff, 0, k=20, min_fraction=0.05))
        return cache[name]

    return get


@pytest.mark.parametrize("name", FAMILIES)
def test_zoo_figures_have_no_clipped_or_overlapping_text(zoo_scenes, name):
    label, scene = zoo_scenes(name)
    ref = zoo_scenes("im_nl" if name.startswith("im_") else "st_nl_gaussian")
    for width in ("single", "double"):
        fig = explore_paper(scene, width=width)
        assert layout_problems(fig) == [], (name, width)
        assert len(images(fig)) == len(scene.input_frames)
        view = compare_view([ref, (label, scene)], per_row=width == "double")
        assert layout_problems(compare_paper(view, width=width)) == [], (name, width, "compare")
