"""The user's own model in the app: ``nlviz app --model file.py:build`` lists it first (NLVIZ_USER_MODELS) and
Explore opens it with the in-memory model's numbers; a model without a task gets the sample video; and no value
a browser can set makes the app import a module."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import nlviz
from nlviz import session
from nlviz.data import make_task
from nlviz.run import UserModel
from nlviz.session.usermodels import USER_MODELS_ENV, environment
from support.app import PAGES
from support.factories import SPEC, TASK, saved_model

pytest.importorskip("mmcv.cnn.bricks.non_local", reason="mmcv-lite (requirements-ref.txt)")

NAME = "usernet.py:build"  # the name as typed on the command line


@pytest.fixture
def user(zoo, tmp_path, monkeypatch):
    """The user's model listed for the app (image task, 32×32 input); returns (entry, in-memory model)."""
    ref, weights = saved_model(tmp_path)
    um = UserModel(f"{tmp_path}/usernet.py:build", str(weights), input=SPEC, task=TASK, name=NAME)
    monkeypatch.setenv(USER_MODELS_ENV, environment([um], "cpu")[USER_MODELS_ENV])
    monkeypatch.setenv("NLVIZ_DEVICE", "cpu")
    return um, ref


def _explore(**state) -> AppTest:
    at = AppTest.from_file(str(PAGES / "explore.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    for k, v in state.items():
        at.session_state[k] = v
    if state:
        at.run()
        assert not at.exception, at.exception
    return at


def test_explore_lists_the_user_model_first_and_opens_it(user):
    _, ref = user
    at = _explore()
    picker = next(s for s in at.selectbox if s.key == "model")
    assert picker.options[0] == NAME and "tiny_nl_embedded — top-1 0.25" in picker.options  # zoo: name + top-1
    assert at.session_state["model"] == NAME and at.session_state["input_kind"] == "synthetic"
    assert any("your model" in c.value and "w.pth" in c.value for c in at.sidebar.caption)
    at.session_state["input_index"] = 2
    at.run()  # a new input resets the query to its default point: click after it
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 0, 21, 6
    at.run()
    assert not at.exception
    clip = make_task("image", radius=3, size=32).sample(1, 2).to_clip()  # the model's data seed is 1
    with torch.no_grad(), nlviz.capture(ref) as rec:
        logits = ref(clip.image_tensor(0, SPEC["mean"], SPEC["std"]))
    top = rec.affinity("nl", [(0, 10, 3)]).topk(20)  # pixel (21, 6) → cell (10, 3) of the stride-2 grid
    table = at.dataframe[1].value
    np.testing.assert_allclose(table["weight"].to_numpy(), top.weights[0, 0, 0].numpy(), rtol=1e-6)
    assert list(table["key cell (t,y,x)"]) == ["({},{},{})".format(*c) for c in top.cells[0, 0, 0].tolist()]
    names = ("top-left", "top-right", "bottom-left", "bottom-right")
    assert f"predicted **{names[int(logits.argmax())]}**" in at.caption[0].value


def test_a_user_model_without_a_task_reads_the_sample_video(user, monkeypatch):
    um, ref = user
    plain = UserModel(um.factory, um.weights, input=SPEC, name="plain")
    monkeypatch.setenv(USER_MODELS_ENV, environment([plain], "cpu")[USER_MODELS_ENV])
    at = _explore()
    radio = next(r for r in at.sidebar.radio if r.key == "input_kind")
    assert at.session_state["model"] == "plain" and radio.options == ["sample video", "upload"]
    lm = session.models.load("plain")
    data = session.clips.sample_video(lm, 0)
    want = session.results.run(lm, data).rec.affinity("nl", [(0, 8, 8)]).weights
    assert data.clip.frames.shape == (1, 32, 32, 3)
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 0, 16, 16
    at.run()
    np.testing.assert_allclose(at.dataframe[1].value["weight"].to_numpy()[0], float(want.max()), rtol=1e-6)


def test_the_export_page_writes_the_factory_entry(user):
    um, _ = user
    at = AppTest.from_file(str(PAGES / "export.py"), default_timeout=90)
    at.run()
    assert not at.exception
    (entry,) = json.loads(at.code[0].value)["models"]
    assert (entry["model"], entry["weights"], entry["name"]) == (um.factory, um.weights, NAME)
    assert entry["input"]["size"] == 32 and entry["input"]["video"] is False
    assert entry["task"]["name"] == "image" and entry["task"]["params"]["size"] == 32
    assert UserModel.from_dict(entry).resolve() == um.resolve()  # the spec rebuilds the same model and input


def test_compare_offers_the_user_model_beside_zoo_models_of_its_input(user):
    at = AppTest.from_file(str(PAGES / "compare.py"), default_timeout=90)
    at.session_state["model"] = "tiny_im_nl"  # an image model read at 32×32, like the user's
    at.run()
    assert not at.exception
    assert f"{NAME} :: nl" in next(m for m in at.multiselect if m.key == "compare").options


def _evil(tmp_path):
    """A factory file that leaves a marker when it is imported: it must never be."""
    marker = tmp_path / "IMPORTED"
    (tmp_path / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n\ndef build():\n    pass\n")
    return f"{tmp_path}/evil.py:build", marker


def test_a_browser_supplied_factory_is_never_imported(user, tmp_path):
    ref, marker = _evil(tmp_path)
    for page in ("explore", "compare", "export", "analysis"):  # the model key set as a crafted message could
        at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=90)
        at.session_state["model"] = ref
        at.run()
        assert not at.exception and at.session_state["model"] == NAME  # refused: replaced by the listed model
    assert not marker.exists()


def test_the_session_loads_only_listed_factories(user, tmp_path):
    ref, marker = _evil(tmp_path)
    with pytest.raises(ValueError, match="file not found"):  # read as a checkpoint path, not imported
        session.models.load(ref)
    with pytest.raises(ValueError):
        session.models.load_upload([("evil.py:build", b"import os")])
    assert not marker.exists()
    assert session.models.load(NAME).blocks == ["nl"]  # the listed one loads
    assert session.models.model_names()[0] == NAME


def test_a_malformed_user_model_list_is_shown_and_the_zoo_still_works(zoo, monkeypatch):
    monkeypatch.setenv(USER_MODELS_ENV, "[{not json")
    at = _explore()
    assert any(USER_MODELS_ENV in e.value and "not valid JSON" in e.value for e in at.error)
    assert at.session_state["model"] == "tiny_bat3d"
