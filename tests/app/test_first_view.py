"""The first impression (issue 13.3): the app opens on a clip the model gets right with a query on the target whose
attention reaches the cue; the model list gives each model's top-1 and says which operators cannot link frames;
real media on a model trained on a synthetic task gets an out-of-domain notice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from nlviz import session
from nlviz.analysis.objects import object_coverage
from nlviz.session import showcase
from support.app import APP


def _runner(lm):
    cache = {}

    def run(i):
        if i not in cache:
            cache[i] = session.results.run(lm, session.clips.synthetic(lm, i))
        return cache[i]

    return run


def test_best_query_is_the_target_centre_with_most_cue_mass(zoo):
    """Brute force: every target centre's row, its cross-frame mass on the cue over chance, from the full row."""
    lm = session.models.load("tiny_nl_embedded")
    result = _runner(lm)(0)
    point, info = showcase.best_query(result, "layer3.nl0")
    target = next(o for o in result.data.objects.values() if o.role == "target")
    geo = result.rec.geometry("layer3.nl0")
    cover = object_coverage(result.data.masks, target.partner, geo.key).numpy()  # (Tk, Hk, Wk)
    ratios = {}
    for t, (y, x) in zip(target.frames, target.centers):
        row = session.results.query_affinity(result, "layer3.nl0", (t, y, x)).weights[0, 0, 0].abs().double().numpy()
        qt = session.results.query_cell(result, "layer3.nl0", (t, y, x))[0]
        other = np.arange(row.shape[0]) != qt
        mass = (row[other] * cover[other]).sum() / row[other].sum()
        chance = cover[other].sum() / cover[other].size
        ratios[(t, y, x)] = (mass, chance)
    best = max(ratios, key=lambda p: ratios[p][0] / ratios[p][1])
    assert point == best
    assert info["cue_mass"] == pytest.approx(ratios[best][0], abs=1e-6)
    assert info["chance"] == pytest.approx(ratios[best][1], abs=1e-12)
    assert info["ratio"] == pytest.approx(ratios[best][0] / ratios[best][1], rel=1e-6)


def test_inputs_without_masks_keep_the_default_point(zoo):
    lm = session.models.load("tiny_nl_embedded")
    data = session.clips.sample_video(lm)
    result = session.results.run(lm, data)
    assert showcase.best_query(result, "layer3.nl0") == (session.clips.default_point(data), {})


def test_first_clip_is_classified_correctly_when_any_is(zoo, monkeypatch):
    lm = session.models.load("tiny_nl_embedded")
    run = _runner(lm)
    index = showcase.first_clip(lm, run)
    correct = [i for i in range(showcase.TRIED_CLIPS) if run(i).predicted == run(i).data.label]
    if correct:
        assert index in correct
        ratios = {i: showcase.best_query(run(i), "layer3.nl0")[1].get("ratio", 0.0) for i in correct}
        shows = [i for i in correct if ratios[i] >= showcase.SHOWS_IT]
        assert index == (shows[0] if shows else max(correct, key=lambda i: (ratios[i], -i)))
    else:
        assert index == 0
    # a model that gets every clip wrong opens on clip 0
    monkeypatch.setattr(session.results.Result, "predicted", property(lambda r: (r.data.label + 1) % 4))
    assert showcase.first_clip(lm, _runner(lm)) == 0


def test_home_opens_on_the_first_view(zoo):
    at = AppTest.from_file(str(APP / "Home.py"), default_timeout=90)
    at.run()
    assert not at.exception
    lm = session.models.load(at.session_state["model"])
    index = showcase.first_clip(lm, _runner(lm))
    assert at.session_state["input_index"] == index
    result = _runner(lm)(index)
    point, _ = showcase.best_query(result, at.session_state["block"])
    assert (at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"]) == point
    # the user's choice of clip is theirs from then on
    at.session_state["input_index"] = 3
    at.run()
    assert at.session_state["input_index"] == 3


def test_links_frames_from_the_card():
    video = {"task": {"name": "spacetime"}}
    assert session.models.links_frames(video | {"operator_blocks": [{"op": "nonlocal", "options": {}}]}) is True
    assert session.models.links_frames(video | {"operator_blocks": [{"op": "cgnl", "options": {}}]}) is True
    per_frame = [{"op": "bat", "options": {"dim": 2}}]
    assert session.models.links_frames(video | {"operator_blocks": per_frame}) is False
    assert session.models.links_frames(video | {"operator_blocks": [{"op": "spatial_bias", "options": {}}]}) is False
    temporal = [{"op": "bat", "options": {"dim": 3, "temporal": True}}]
    assert session.models.links_frames(video | {"operator_blocks": temporal}) is True
    both = [{"op": "spatial_bias", "options": {}}, {"op": "nonlocal", "options": {}}]
    assert session.models.links_frames(video | {"operator_blocks": both}) is True
    assert session.models.links_frames({"task": {"name": "image"}, "operator_blocks": per_frame}) is None


def test_picker_labels_and_captions_say_top1_and_per_frame(zoo, monkeypatch):
    cards = [
        {
            "name": "a",
            "operator": "nonlocal",
            "arch": "x",
            "classes": list("abcd"),
            "metrics": {"top1": 0.912},
            "task": {"name": "spacetime"},
            "operator_blocks": [{"op": "nonlocal", "options": {}}],
        },
        {
            "name": "b",
            "operator": "bat",
            "arch": "x",
            "classes": list("abcd"),
            "metrics": {"top1": 0.264},
            "task": {"name": "spacetime"},
            "operator_blocks": [{"op": "bat", "options": {"dim": 2}}],
        },
    ]
    monkeypatch.setattr(session.models, "zoo_models", lambda: cards)
    assert session.models.picker_label("a") == "a — top-1 0.91"
    assert session.models.picker_label("b") == "b — top-1 0.26 · per-frame: cannot link frames"
    assert "near chance" not in session.models.caption("a")
    cap = session.models.caption("b")
    assert "cannot link" in cap and "near chance (0.25)" in cap


def test_real_media_on_a_zoo_model_gets_an_out_of_domain_notice(zoo):
    at = AppTest.from_file(str(APP / "Home.py"), default_timeout=90)
    at.run()
    assert not any("Out of domain" in i.value for i in at.info)  # a synthetic clip: no notice
    at.session_state["input_kind"] = "sample video"
    at.run()
    assert not at.exception
    notes = [i.value for i in at.info if "Out of domain" in i.value]
    assert len(notes) == 1 and "synthetic 'spacetime' task (4 frames of 32×32 px)" in notes[0]


def test_no_notice_without_a_task(zoo):
    lm = session.models.load("tiny_nl_embedded")
    plain = session.models.describe("plain", torch.nn.Sequential(lm.model))
    assert session.models.domain_note(plain, "clip.mp4") is None
    assert session.models.domain_note(lm, "synthetic:3") is None
