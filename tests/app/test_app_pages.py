"""One AppTest per page, driven through session state (model, block, the query keys, a click on the strip); every
number checked against the library computed directly in the test."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import nlviz
from nlviz import session
from support.app import APP, PAGES, direct


def page(name: str, **state) -> AppTest:
    """Run a page once (defaults), set ``state`` and run it again (on clip 0 unless ``state`` names a clip: the
    first view opens on the clip that shows the default model's point, test_first_view checks that)."""
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    if state:
        state.setdefault("input_index", 0)
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, at.exception
    return at


def test_home_opens_on_explore_with_a_clip_loaded(zoo):
    at = AppTest.from_file(str(APP / "Home.py"), default_timeout=90)
    at.run()
    assert not at.exception
    assert at.session_state["model"] == "tiny_bat3d"  # no st_nl_embedded: the first model with an operator
    assert at.session_state["input_kind"] == "synthetic" and len(at.dataframe) == 2


def test_explore_click_and_numeric_query(zoo):
    # every top-k link, as topk() gives; the click strip (the hover component is driven in a real browser)
    at = page("explore", model="tiny_nl_embedded", min_fraction=0.0, picker="click strip")
    _, clip, rec, _ = direct("tiny_nl_embedded", 0)
    lm = session.models.load("tiny_nl_embedded")
    first, _ = session.showcase.best_query(session.results.run(lm, session.clips.synthetic(lm, 0)), "layer3.nl0")
    assert (at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"]) == first
    # a click on the strip: frame 3, pixel (21, 6) (the component sends the strip image's own pixels)
    grid = session.strip.strip_layout((4, 32, 32), panel_size=160)
    x, y = session.strip.point_on_strip(grid, (3, 21, 6))
    at.session_state["strip_click"] = {"click": {"x": x + 0.5, "y": y + 0.5, "n": 1.0}}
    at.run()
    assert not at.exception
    assert (at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"]) == (3, 21, 6)
    assert [n.value for n in at.number_input if n.key in ("q_t", "q_y", "q_x")] == [3, 21, 6]
    top = rec.affinity("layer3.nl0", [(3, 5, 1)]).topk(20)
    table = at.dataframe[1].value
    np.testing.assert_allclose(table["weight"].to_numpy(), top.weights[0, 0, 0].numpy(), rtol=1e-6, atol=1e-12)
    assert list(table["key cell (t,y,x)"]) == ["({},{},{})".format(*c) for c in top.cells[0, 0, 0].tolist()]
    # the numeric inputs mirror the click: typing a query gives the same numbers as clicking it
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 1, 2, 30
    at.session_state["k"] = 5
    at.run()
    top = rec.affinity("layer3.nl0", [(1, 0, 7)]).topk(5)
    np.testing.assert_allclose(at.dataframe[1].value["weight"].to_numpy(), top.weights[0, 0, 0].numpy(), rtol=1e-6)
    assert "`(1, 0, 7)`" in at.markdown[-1].value


def test_explore_shows_shares_when_asked(zoo):
    """values = "share": the top-k table holds each key's share of the row's |weight| (the option used to be read
    as the session state's ``values`` method, so the page always showed raw weights)."""
    at = page("explore", model="tiny_nl_dot", min_fraction=0.0, values="share", picker="click strip")
    point = tuple(at.session_state[k] for k in ("q_t", "q_y", "q_x"))
    _, _, rec, _ = direct("tiny_nl_dot", 0)
    cell = [int(v) for v in rec.geometry("layer3.nl0").query.cell_at(*point)[0]]
    row = rec.affinity("layer3.nl0", [cell]).rows()[0, 0, 0].double().abs()
    shares = (row / row.sum()).topk(20).values.numpy()
    np.testing.assert_allclose(at.dataframe[1].value["weight"].to_numpy(), shares, rtol=1e-6)


def test_explore_image_model(zoo):
    """An image model: a one-frame clip of the image task; the same click → numbers path."""
    at = page("explore", model="tiny_im_nl", min_fraction=0.0)
    at.session_state["q_y"], at.session_state["q_x"] = 30, 13
    at.run()
    assert at.session_state["q_t"] == 0 and [n.proto.max for n in at.number_input if n.key == "q_t"] == [0]
    _, clip, rec, _ = direct("tiny_im_nl")
    assert clip.frames.shape == (1, 32, 32, 3) and rec.input_size == (1, 32, 32)
    cell = [int(v) for v in rec.geometry("layer3.nl0").query.cell_at(0, 30, 13)[0]]
    assert f"`{tuple(cell)}`" in at.markdown[-1].value
    top = rec.affinity("layer3.nl0", [cell]).topk(20)
    np.testing.assert_allclose(at.dataframe[1].value["weight"].to_numpy(), top.weights[0, 0, 0].numpy(), rtol=1e-6)


def test_compare_divergence_table(zoo):
    at = page("compare", model="tiny_nl_embedded")
    assert "tiny_nl_dot :: layer3.nl0" in at.session_state["compare"]  # defaults: the other models of this input size
    assert "tiny_nl_embedded :: layer3.nl0" not in at.session_state["compare"]  # never the sidebar's own entry
    at.session_state["compare"] = ["tiny_nl_dot :: layer3.nl0"]
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 2, 10, 10
    at.run()
    assert not at.exception
    rows = at.dataframe[0].value
    from nlviz.analysis import js_divergence
    from nlviz.analysis.mass import grid_mass

    ma = grid_mass(direct("tiny_nl_embedded")[2].affinity("layer3.nl0", [(2, 2, 2)]))[0, 0, 0]
    mb = grid_mass(direct("tiny_nl_dot")[2].affinity("layer3.nl0", [(2, 2, 2)]))[0, 0, 0]
    assert len(rows) == 1 and rows["entry"][0] == "tiny_nl_dot layer3.nl0"
    assert rows["JS divergence"][0] == pytest.approx(float(js_divergence(mb.flatten(), ma.flatten())), abs=1e-9)


def test_bat_page(zoo):
    at = page("bat", model="tiny_nl_embedded")
    assert any("has no BA-Transform block" in i.value and "tiny_bat3d" in i.value for i in at.info)
    at.session_state["model"] = "tiny_bat3d"
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 2, 5, 9
    at.run()
    assert not at.exception
    rows = at.dataframe[0].value
    _, _, rec, _ = direct("tiny_bat3d")
    ext = rec.affinity("layer3.nl0", [(2, 1, 2)]).extras
    p, q, t = (ext[k][0].double() for k in ("P", "Q", "T"))  # (G, T, H, H), (G, T, W, W), (G, T, T)
    np.testing.assert_allclose(rows["P̃ row i sum"], p[:, 2, 1].sum(-1).numpy(), atol=1e-9)
    np.testing.assert_allclose(rows["Q̃ column j sum"], q[:, 2, :, 2].sum(-1).numpy(), atol=1e-9)
    np.testing.assert_allclose(rows["T̃[t,t]"], t[:, 2, 2].numpy(), atol=1e-7)
    assert (rows["max |effective − T̃·P̃ᵢ⊗Q̃ⱼ|"] < 1e-6).all()


def test_analysis_page(zoo):
    from nlviz.analysis import STAT_LABELS, block_stats

    at = page("analysis", model="tiny_nl_embedded", input_index=1)
    table = at.dataframe[0].value
    ref = block_stats(direct("tiny_nl_embedded", 1)[2], "layer3.nl0", sample=512, k=20).to_dict()
    assert table["queries"][0] == 256
    for key in ("spatial_distance", "temporal_distance", "entropy", "same_frame_mass"):
        assert table[STAT_LABELS[key]][0] == pytest.approx(ref[key], rel=1e-9)
    objects = at.dataframe[2].value
    assert sorted(o.split()[0] for o in objects["queries on"]) == ["cue", "target"]


def test_attribution_page(zoo):
    from nlviz.analysis import attribution_agreement, saliency

    at = page("attribution", model="tiny_nl_embedded", attr_method="saliency")
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 3, 8, 24
    at.run()
    assert not at.exception
    model, clip, rec, logits = direct("tiny_nl_embedded")
    x = clip.to_tensor(model.card["input"]["mean"], model.card["input"]["std"])
    amap = saliency(model, x, int(logits.argmax())).map
    ref = attribution_agreement(rec.affinity("layer3.nl0", [(3, 2, 6)]), amap.detach(), k=10)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spearman ρ (attention vs |attribution|)"] == f"{ref['spearman']:.3f}"
    assert metrics["top-10 IoU"] == f"{ref['topk_iou']:.3f}"


def test_export_page(zoo):
    at = page("export", model="tiny_nl_embedded")
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 1, 30, 3
    at.session_state["formats"] = ["png", "json"]
    at.run()
    spec = json.loads(at.code[0].value)
    assert spec["queries"] == {"mode": "explicit", "units": "cells", "points": [[1, 7, 0]]}
    assert spec["models"] == ["tiny_nl_embedded"] and spec["seed"] == 3
    assert at.code[1].value == "nlviz export --spec spec.json --input synthetic:1 --out out/"
    at.button[0].click()
    at.run()
    assert not at.exception
    files = dict(at.session_state["export_files"])
    record = json.loads(files["tiny_nl_embedded__layer3.nl0.json"])
    _, _, rec, _ = direct("tiny_nl_embedded")
    top = rec.affinity("layer3.nl0", [(1, 7, 0)]).topk(20)
    np.testing.assert_allclose(
        [t["weight"] for t in record["queries"][0]["topk"]], top.weights[0, 0, 0].numpy(), rtol=1e-6, atol=1e-12
    )
    assert files["tiny_nl_embedded__layer3.nl0_q00_arrows.png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_zoo_page(zoo):
    at = page("zoo")
    table = at.dataframe[0].value
    assert list(table["name"]) == ["tiny_baseline", "tiny_bat3d", "tiny_im_nl", "tiny_nl_dot", "tiny_nl_embedded"]
    assert list(table["operator"]) == ["none", "bat", "nonlocal", "nonlocal", "nonlocal"]


def test_empty_zoo_shows_a_message(zoo, tmp_path, monkeypatch):
    monkeypatch.setenv("NLVIZ_CHECKPOINTS", str(tmp_path))
    at = page("explore")
    assert any("No models with non-local operators found" in w.value for w in at.warning)


def test_models_stay_in_eval_mode_and_unchanged(zoo):
    """Pages never train or modify the cached model (attribution included)."""
    import resources

    page("attribution", model="tiny_nl_embedded", attr_method="integrated gradients")
    lm = resources.model("tiny_nl_embedded")
    fresh = nlviz.load_model("tiny_nl_embedded")
    assert not lm.model.training
    for (k, a), b in zip(lm.model.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), k
