"""The hover component's payload (nlviz.session.hover): the rows recomputed in Python from what it carries equal the
library's rows for every family the browser computes; its geometry tables, frames, colormaps and label are the
ones the server-side views use; the other families keep click-to-update; the Explore page mounts the component
for the first and the click strip for the second."""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nlviz import session
from nlviz.render.colormap import lut
from nlviz.render.heatmap import pixel_map
from nlviz.render.layout import upscale
from support.app import PAGES
from support.checkpoints import save_tiny

HOVER = ["tiny_nl_embedded", "tiny_nl_dot", "tiny_nl_concat", "tiny_nl_sub", "tiny_bat3d", "tiny_bat2d", "tiny_im_nl"]
CLICK = ["tiny_cgnl", "tiny_sb"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """name → (Result, block) on synthetic clip 0, for every model of HOVER and CLICK."""
    folder = tmp_path_factory.mktemp("hover_zoo")
    out = {}
    for i, name in enumerate(HOVER + CLICK):
        lm = session.models.load(str(save_tiny(folder, name, seed=i)))
        result = session.results.run(lm, session.clips.synthetic(lm, 0))
        out[name] = result, result.blocks[0]
    return out


@pytest.mark.parametrize("name", HOVER)
def test_rows_from_the_payload_equal_the_librarys(results, name):
    result, block = results[name]
    assert session.hover.supported(result, block)
    data = json.loads(json.dumps(session.hover.payload(result, block, session.ViewOptions(), (0, 5, 7))))
    aff = result.rec.affinity(block)  # every query row
    factors = session.hover.decode(data)
    assert (data["kind"], data["groups"]) == (aff.kind, aff.groups)
    assert tuple(data["query_grid"]) == aff.query_grid and tuple(data["key_grid"]) == aff.key_grid
    want = aff.rows()[0].double().numpy()  # (G, N, Nk)
    got = factors.rows(np.arange(want.shape[1]))[0]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    assert np.abs(got - want).max() < 1e-6
    if name == "tiny_bat2d":  # per frame: the payload says the rows stay in the query's frame
        assert data["frame_local"] and "T" not in data["factors"]


@pytest.mark.parametrize("name", ["tiny_nl_sub", "tiny_bat3d", "tiny_im_nl"])
def test_the_geometry_tables_are_the_views(results, name):
    result, block = results[name]
    data = session.hover.payload(result, block, session.ViewOptions(), (0, 0, 0))
    m, geo = data["maps"], result.rec.geometry(block)
    t_in, h, w = result.data.shape
    rng = np.random.default_rng(0)
    for t, y, x in zip(rng.integers(0, t_in, 20), rng.integers(0, h, 20), rng.integers(0, w, 20)):
        cell = session.results.query_cell(result, block, (t, y, x))
        assert (m["query_t"][t], m["query_y"][y], m["query_x"][x]) == cell
    _, hk, wk = data["key_grid"]
    values = rng.random((hk, wk))
    np.testing.assert_array_equal(values[m["key_y"]][:, m["key_x"]], pixel_map(values, geo.key, h, w))
    centers = geo.key.cell_center([(t, 0, 0) for t in range(data["key_grid"][0])])
    assert m["key_center_t"] == pytest.approx(list(centers[:, 0]))
    assert [p["frame"] for p in data["panels"]] == [geo.key.cell_frames(t)[0] for t in range(data["key_grid"][0])]


def test_frames_are_nearest_neighbour_pngs_at_least_the_panel_size(results):
    result, block = results["tiny_nl_embedded"]
    data = session.hover.payload(result, block, session.ViewOptions(panel_size=160), (0, 0, 0))
    assert data["zoom"] == 5  # 32 px frames → 160 px
    for p in data["panels"]:
        url = data["frames"][str(p["frame"])]
        assert url.startswith("data:image/png;base64,")
        png = cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(png[..., ::-1], upscale(result.data.clip.frames[p["frame"]], 5))


@pytest.mark.parametrize(
    "opts",
    [
        session.ViewOptions(),
        session.ViewOptions(colormap="magma", groups="max", k=7, min_fraction=0.2),
        session.ViewOptions(values="share", groups=1, normalization=(0.0, 0.5)),
    ],
)
def test_view_options_colormaps_and_label_are_the_server_views(results, opts):
    result, block = results["tiny_bat3d"]  # 2 groups: the label says how they are reduced
    data = session.hover.payload(result, block, opts, (2, 9, 30))
    view = data["view"]
    assert (view["k"], view["min_fraction"], view["groups"], view["values"]) == (
        opts.k,
        opts.min_fraction,
        opts.groups,
        opts.values,
    )
    scene = session.views.explore(result, block, (2, 9, 30), opts).scene
    assert view["label"] == scene.scale.label
    names = ["viridis", "rdbu"] if opts.colormap == "auto" else [opts.colormap] * 2
    assert view["lut"]["names"] == names
    for which, n in zip(("seq", "div"), names):
        np.testing.assert_array_equal(session.hover.decode_array(view["lut"][which]), lut(n))
    assert view["fixed"] == (list(opts.normalization) if opts.normalization != "query" else None)
    assert data["pin"] == {"point": [2, 9, 30], "cell": list(session.results.query_cell(result, block, (2, 9, 30)))}


def test_the_pin_is_clamped_into_the_input(results):
    result, block = results["tiny_im_nl"]
    data = session.hover.payload(result, block, None, (3, 40, -2))
    assert data["pin"]["point"] == [0, 31, 0]


@pytest.mark.parametrize("name", CLICK)
def test_families_whose_rows_need_more_keep_click_to_update(results, name):
    result, block = results[name]
    assert not session.hover.supported(result, block)
    with pytest.raises(ValueError, match="click-to-update"):
        session.hover.payload(result, block, None, (0, 0, 0))


def test_a_payload_too_large_to_resend_keeps_click_to_update(results, monkeypatch):
    result, block = results["tiny_nl_embedded"]
    monkeypatch.setattr(session.hover, "MAX_FACTOR_BYTES", 1000)
    assert not session.hover.supported(result, block)


def _components(at: AppTest) -> list:
    return [
        e
        for e in at.main
        if getattr(e, "type", None) == "bidi_component" and e.proto.component_name == "nlviz_attention"
    ]


def test_explore_mounts_the_hover_component_where_the_browser_computes_rows(zoo):
    at = AppTest.from_file(str(PAGES / "explore.py"), default_timeout=90)
    at.run()
    at.session_state["model"] = "tiny_nl_embedded"
    at.run()
    assert not at.exception, at.exception
    (component,) = _components(at)
    assert component.proto.component_name == "nlviz_attention"
    data = json.loads(json.loads(component.proto.json))  # the payload goes as one JSON string
    point = tuple(at.session_state[k] for k in ("q_t", "q_y", "q_x"))
    assert data["block"] == "layer3.nl0" and tuple(data["pin"]["point"]) == point
    assert "strip_click" not in at.session_state  # no click strip beside it
    at.session_state["picker"] = "click strip"  # the strip on request
    at.run()
    assert not at.exception and not _components(at)


def test_explore_keeps_the_click_strip_for_other_families(zoo, tmp_path, monkeypatch):
    import streamlit as st

    save_tiny(tmp_path, "tiny_cgnl")
    monkeypatch.setenv("NLVIZ_CHECKPOINTS", str(tmp_path))  # a zoo of one CGNL model
    st.cache_resource.clear()
    at = AppTest.from_file(str(PAGES / "explore.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["model"] == "tiny_cgnl"
    assert not _components(at) and "query picker" not in [r.label for r in at.radio]
    assert "strip_click" in at.session_state
