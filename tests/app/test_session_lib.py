"""nlviz.session: what the app shows equals what the library computes directly; clicks map to the right pixel;
comparisons and BAT checks give the exact numbers; the exporter writes the view."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import nlviz
from nlviz import session
from support.app import direct


def test_default_model_prefers_embedded_then_nl_then_first():
    cards = [{"name": "a_base", "operator": "none"}, {"name": "b_bat", "operator": "bat"}]
    assert session.models.default_model(cards) == "b_bat"
    assert (
        session.models.default_model(cards + [{"name": "st_nl_embedded", "operator": "nonlocal"}]) == "st_nl_embedded"
    )
    assert session.models.default_model([{"name": "a_base", "operator": "none"}]) == "a_base"
    assert session.models.default_model([]) is None


def test_explore_topk_and_stats_equal_direct_affinity(zoo):
    lm = session.models.load("tiny_nl_embedded")
    result = session.results.run(lm, session.clips.synthetic(lm, 2))
    _, clip, rec, logits = direct("tiny_nl_embedded", 2)
    assert torch.allclose(result.logits, logits, atol=1e-6)
    block = rec.blocks[0]
    view = session.views.explore(result, block, (3, 20, 9), session.ViewOptions(k=7))
    cell = tuple(int(v) for v in rec.geometry(block).query.cell_at(3, 20, 9)[0])
    assert view.cell == cell == (3, 5, 2)  # 32 px over an 8-cell grid: 4 px per cell
    top = rec.affinity(block, [cell]).topk(7)
    got_w = np.array([r["weight"] for r in view.topk])
    np.testing.assert_allclose(got_w, top.weights[0, 0, 0].numpy(), rtol=1e-6, atol=1e-9)
    got_cells = [r["key cell (t,y,x)"] for r in view.topk]
    assert got_cells == ["({},{},{})".format(*c) for c in top.cells[0, 0, 0].tolist()]
    assert sum(view.profile[f"query {cell}"]) == pytest.approx(1.0, abs=1e-5)  # softmax: one row sums to 1
    ent = nlviz.analysis.normalized_entropy(rec.affinity(block, [cell]))
    assert view.stats["normalized entropy (0 = one key, 1 = uniform)"] == pytest.approx(float(ent[0, 0, 0]), abs=1e-9)


def test_strip_click_maps_back_to_the_pixel():
    grid = session.strip.strip_layout((8, 32, 32), panel_size=160)
    assert (grid.rows, grid.cols, grid.scale) == (2, 4, 5)  # 4 frames per row: 8 at 160 px overflowed the page
    for point in [(0, 0, 0), (5, 20, 8), (7, 31, 31)]:
        x, y = session.strip.point_on_strip(grid, point)
        h, w = grid.size
        assert session.strip.strip_point(grid, 8, x + 0.5, y + 0.5, w, h) == point
        # the same click on the strip shown at 60 % of its size
        assert session.strip.strip_point(grid, 8, (x + 0.5) * 0.6, (y + 0.5) * 0.6, w * 0.6, h * 0.6) == point
    assert session.strip.strip_point(grid, 8, 2.0, 2.0, grid.size[1], grid.size[0]) is None  # the title band
    two_rows = session.strip.strip_layout((12, 16, 16), panel_size=48)
    x, y = session.strip.point_on_strip(two_rows, (10, 3, 4))
    assert (two_rows.rows, two_rows.cols) == (3, 4)
    assert session.strip.strip_point(two_rows, 12, x, y, two_rows.size[1], two_rows.size[0]) == (10, 3, 4)


def test_strip_goes_to_the_browser_as_a_compressed_png(zoo):
    """The strip crosses the websocket on every click: it used to go as an uncompressed PNG (1 MB at 8 frames of
    160 px, streamlit-image-coordinates' default), now as our compressed one, decoding to the same pixels."""
    import base64

    import cv2

    lm = session.models.load("tiny_nl_embedded")
    result = session.results.run(lm, session.clips.synthetic(lm, 0))
    view = session.views.explore(result, result.blocks[0], (1, 10, 10))
    strip = session.strip.click_strip(view.scene, 160)
    uri = session.strip.data_uri(strip)
    assert uri.startswith("data:image/png;base64,")
    png = base64.b64decode(uri.split(",", 1)[1])
    assert len(png) < strip.image.nbytes / 10  # compressed (a raw PNG is larger than the pixels)
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    np.testing.assert_array_equal(decoded, strip.image)


def test_compare_divergence_equals_direct(zoo):
    from nlviz.analysis import js_divergence, topk_iou
    from nlviz.analysis.mass import grid_mass

    a, b = (session.models.load(n) for n in ("tiny_nl_embedded", "tiny_nl_dot"))
    data = session.clips.synthetic(a, 1)
    ra, rb = session.results.run(a, data), session.results.run(b, data)
    block = ra.blocks[0]
    _, rows = session.compare.compare([("a", ra, block), ("a again", ra, block)], (2, 10, 10))[1:]
    assert rows[0]["JS divergence"] == pytest.approx(0.0, abs=1e-12) and rows[0]["top-20 overlap (IoU)"] == 1.0
    cview, _, rows = session.compare.compare([("emb", ra, block), ("dot", rb, block)], (2, 10, 10))
    cell = [(2, 2, 2)]
    ma = grid_mass(direct("tiny_nl_embedded", 1)[2].affinity(block, cell))[0, 0, 0]
    mb = grid_mass(direct("tiny_nl_dot", 1)[2].affinity(block, cell))[0, 0, 0]
    assert rows[0]["JS divergence"] == pytest.approx(float(js_divergence(mb.flatten(), ma.flatten())), abs=1e-9)
    assert rows[0]["top-20 overlap (IoU)"] == pytest.approx(topk_iou(mb, ma, 20))
    assert cview.maps.shape == (2, 4, 32, 32) and cview.diffs.shape == (1, 4, 32, 32)


def test_compare_refuses_a_different_clip(zoo):
    lm = session.models.load("tiny_nl_embedded")
    r0, r1 = (session.results.run(lm, session.clips.synthetic(lm, i)) for i in (0, 1))
    with pytest.raises(ValueError, match="compare one clip"):
        session.compare.compare([("a", r0, r0.blocks[0]), ("b", r1, r1.blocks[0])], (0, 0, 0))


def test_bat_effective_map_is_the_outer_product(zoo):
    lm = session.models.load("tiny_bat3d")
    result = session.results.run(lm, session.clips.synthetic(lm, 0))
    block = session.views.bat_blocks(result)[0]
    view, rows = session.views.bat(result, block, (1, 13, 30))
    t, i, j = view.query_cell
    assert (t, i, j) == (1, 3, 7)
    p = result.rec.affinity(block, [(t, i, j)]).extras["P"][0]  # (G, T, H, H)
    assert len(rows) == 2
    for g, row in enumerate(rows):
        assert row["P̃ row i sum"] == pytest.approx(float(p[g, t, i].double().sum()), abs=1e-9)
        assert row["P̃ row i sum"] == pytest.approx(1.0, abs=1e-5)
        assert row["max |effective − T̃·P̃ᵢ⊗Q̃ⱼ|"] < 1e-6
    with pytest.raises(ValueError, match="not a BA-Transform"):
        lm2 = session.models.load("tiny_nl_embedded")
        session.views.bat(session.results.run(lm2, session.clips.synthetic(lm2, 0)), "layer3.nl0", (0, 0, 0))


def test_summary_rows_equal_block_stats(zoo):
    from nlviz.analysis import STAT_LABELS, block_stats, query_independence

    lm = session.models.load("tiny_nl_embedded")
    result = session.results.run(lm, session.clips.synthetic(lm, 0))
    rows = session.summary.block_rows(result, sample=512, k=20)
    _, _, rec, _ = direct("tiny_nl_embedded", 0)
    ref = block_stats(rec, "layer3.nl0", sample=512, k=20).to_dict()
    assert rows[0]["queries"] == 256 and rows[0][STAT_LABELS["entropy"]] == pytest.approx(ref["entropy"])
    assert rows[0][STAT_LABELS["spatial_distance"]] == pytest.approx(ref["spatial_distance"])
    assert rows[0]["query independence (JS)"] == pytest.approx(
        float(query_independence(rec, "layer3.nl0", pairs=1024).mean())
    )
    objects = session.summary.object_rows(result)
    assert {r["queries on"].split()[0] for r in objects} == {"cue", "target"}
    assert all(0 <= r["chance (itself)"] <= 1 for r in objects)


def test_export_writes_the_view_and_a_reproducible_spec(zoo, tmp_path):
    from nlviz.viewspec import ViewSpec

    lm = session.models.load("tiny_nl_embedded")
    result = session.results.run(lm, session.clips.synthetic(lm, 1))
    opts = session.ViewOptions(k=5)
    paths = session.exporting.export(result, "layer3.nl0", (2, 17, 14), opts, ["png", "json"], tmp_path)
    names = sorted(p.name for p in paths)
    assert "tiny_nl_embedded__layer3.nl0_q00_arrows.png" in names and all(p.is_file() for p in paths)
    record = __import__("json").loads((tmp_path / "synthetic-1" / "tiny_nl_embedded__layer3.nl0.json").read_text())
    view = session.views.explore(result, "layer3.nl0", (2, 17, 14), opts)
    assert record["queries"][0]["cell"] == list(view.cell)
    np.testing.assert_allclose(
        [t["weight"] for t in record["queries"][0]["topk"]], [r["weight"] for r in view.topk], rtol=1e-6
    )
    spec = ViewSpec.from_dict(
        __import__("json").loads(
            session.exporting.view_spec(result, "layer3.nl0", (2, 17, 14), opts, ["png"]).to_json()
        )
    )
    assert spec.queries.points == ((2, 4, 3),) and spec.seed == 3 and spec.models == ("tiny_nl_embedded",)
    assert session.exporting.command_line(result) == "nlviz export --spec view.json --input synthetic:2 --out out/"


def test_sample_video_is_read_like_a_video(zoo):
    lm = session.models.load("tiny_nl_embedded")
    data = session.clips.sample_video(lm, 0)
    assert data.shape == (4, 32, 32) and data.masks is None
    g = data.clip.geometry
    assert g.source_size == (64, 96) and g.crop_box == (0, 8, 32, 40)  # the 16-px side bands are cropped away
    result = session.results.run(lm, data)
    assert result.logits.shape == (1, 4)


@pytest.mark.parametrize("name", ["tiny_nl_sub", "tiny_bat2d", "tiny_cgnl", "tiny_sb"])
def test_every_operator_family_goes_through_the_views(zoo, tmp_path, name, monkeypatch):
    """Subsampled keys, per-frame BAT, signed linear contributions: explore/compare/summary/export all work, and
    a comparison against the plain NL block (another key grid) moves mass without losing any."""
    from nlviz.session.compare import mass_on
    from support.checkpoints import save_tiny

    save_tiny(tmp_path, name)
    for other in ("tiny_nl_embedded",):
        (tmp_path / f"{other}.json").symlink_to(zoo / f"{other}.json")
        (tmp_path / f"{other}.safetensors").symlink_to(zoo / f"{other}.safetensors")
    monkeypatch.setenv("NLVIZ_CHECKPOINTS", str(tmp_path))
    lm, ref = session.models.load(name), session.models.load("tiny_nl_embedded")
    data = session.clips.synthetic(lm, 0)
    r, r_ref = session.results.run(lm, data), session.results.run(ref, data)
    block = r.blocks[0]
    view = session.views.explore(r, block, (2, 9, 21))
    every = session.views.explore(r, block, (2, 9, 21), session.ViewOptions(min_fraction=0.0))
    assert view.cell == (2, 2, 5) and len(every.topk) == 20  # all 20 links without the cut-off
    top = abs(every.topk[0]["weight"])
    assert [row["weight"] for row in view.topk] == [
        row["weight"] for row in every.topk if abs(row["weight"]) >= 0.05 * top
    ]  # the default leaves out links below 5 % of the strongest
    assert float(mass_on(view.aff, (4, 8, 8)).sum()) == pytest.approx(1.0, abs=1e-9)
    _, _, rows = session.compare.compare([("ref", r_ref, "layer3.nl0"), (name, r, block)], (2, 9, 21))
    assert 0 <= rows[0]["JS divergence"] <= 1
    assert len(session.summary.block_rows(r)) == 1
    if block in session.views.bat_blocks(r):
        assert max(row["max |effective − T̃·P̃ᵢ⊗Q̃ⱼ|"] for row in session.views.bat(r, block, (2, 9, 21))[1]) < 1e-6
    paths = session.exporting.export(r, block, (2, 9, 21), session.ViewOptions(), ["json"], tmp_path / "out")
    assert any(p.suffix == ".npz" for p in paths)


def test_an_all_zero_row_is_explained_not_drawn_blank(zoo, tmp_path, monkeypatch):
    """A concatenation block with w_f = 0 has ReLU(0) = 0 for every pair (how a dead block looks): the view says
    so (the first zoo concatenation model showed blank figures and NaN statistics without a word)."""
    from safetensors.torch import load_file, save_file

    from support.checkpoints import save_tiny

    save_tiny(tmp_path, "tiny_nl_concat")
    monkeypatch.setenv("NLVIZ_CHECKPOINTS", str(tmp_path))
    live = session.results.run(lm := session.models.load("tiny_nl_concat"), session.clips.synthetic(lm, 0))
    views = [session.views.explore(live, live.blocks[0], (t, y, 21)) for t in range(4) for y in (2, 9, 17, 30)]
    assert any(v.note is None for v in views)  # random weights: most rows have weight somewhere...
    for v in views:  # ...and a note appears exactly on the rows that have none
        assert (v.note is None) == bool(v.aff.rows().any())
    weights = load_file(tmp_path / "tiny_nl_concat.safetensors")
    key = next(k for k in weights if k.endswith("concat_project.weight"))
    weights[key] = torch.zeros_like(weights[key])
    save_file(weights, tmp_path / "tiny_nl_dead.safetensors")
    card = json.loads((tmp_path / "tiny_nl_concat.json").read_text())
    (tmp_path / "tiny_nl_dead.json").write_text(json.dumps({**card, "name": "tiny_nl_dead"}))
    dead = session.results.run(lm := session.models.load("tiny_nl_dead"), session.clips.synthetic(lm, 0))
    view = session.views.explore(dead, dead.blocks[0], (2, 9, 21))
    assert view.note.startswith("This query's row is all zero: layer3.nl0 gives it no weight")
    assert "ReLU(a_i + b_j) ≤ 0 for every key j" in view.note
    assert view.topk == [] or all(r["weight"] == 0 for r in view.topk)
    assert all(np.isnan(v) for k, v in view.stats.items() if "mass" in k or "entropy" in k)
