"""Bad uploads: each one is an UploadError naming the file and the problem (library), shown as st.error on the page
with no exception, and the session keeps working (AppTest); good uploads switch the model / input."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nlviz import session
from nlviz.session import UploadError
from support.app import PAGES, corrupt_video, huge_png, random_pth
from support.checkpoints import save_tiny


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("model.pth", random_pth())], r"model\.pth: .*unknown checkpoint layout"),
        ([("junk.pth", b"\x80\x04not a pickle at all" * 10)], r"junk\.pth: .*cannot read as a weights-only checkpoint"),
        ([("w.safetensors", b"\x00" * 64)], r"two files, NAME\.safetensors and NAME\.json"),
        ([("notes.txt", b"hello")], r"notes\.txt: not a checkpoint"),
        ([("empty.pth", b"")], r"empty\.pth: the file is empty"),
    ],
)
def test_bad_checkpoint_uploads_raise_upload_errors(zoo, files, message):
    with pytest.raises(UploadError, match=message):
        session.models.load_upload(files)


def test_checkpoint_size_limit(zoo):
    with pytest.raises(UploadError, match=r"big\.pth: 0\.0 MB is over the 0 MB upload limit"):
        session.models.load_upload([("big.pth", b"x" * 100)], max_bytes=10)


def test_safetensors_pair_with_a_wrong_card(zoo, tmp_path):
    card = save_tiny(tmp_path, "tiny_nl_embedded")
    other = save_tiny(tmp_path, "tiny_bat3d")
    weights = card.with_suffix(".safetensors").read_bytes()
    with pytest.raises(UploadError, match="weights do not match the model described by its card"):
        session.models.load_upload([("a.safetensors", weights), ("a.json", other.read_bytes())])
    lm = session.models.load_upload([("a.safetensors", weights), ("a.json", card.read_bytes())])
    assert lm.blocks == ["layer3.nl0"] and not lm.model.training and lm.label == "a"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("clip.mp4", corrupt_video(), r"clip\.mp4: cannot be opened as a video"),
        ("big.png", huge_png(), r"big\.png: resolution 5000×5000 is too large; at most 4096 px"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, r"broken\.png: cannot be decoded as an image"),
        ("clip.exe", b"MZ\x00", r"clip\.exe: \.exe is not a video or image"),
        ("empty.mp4", b"", r"empty\.mp4: the file is empty"),
    ],
)
def test_bad_media_uploads_raise_upload_errors(zoo, name, data, message):
    lm = session.models.load("tiny_nl_embedded")
    with pytest.raises(UploadError, match=message):
        session.clips.uploaded(lm, name, data)


def test_an_uploaded_image_is_read_for_the_model(zoo):
    lm = session.models.load("tiny_nl_embedded")
    ok, png = cv2.imencode(".png", np.full((40, 60, 3), 200, np.uint8))
    data = session.clips.uploaded(lm, "frame.png", png.tobytes())
    assert data.shape == (4, 32, 32) and data.clip.geometry.source_size == (40, 60)


def _page(zoo_state: dict) -> AppTest:
    at = AppTest.from_file(str(PAGES / "explore.py"), default_timeout=60)
    at.run()
    assert not at.exception
    at.session_state["min_fraction"] = 0.0  # every one of the top 20 is listed
    for k, v in zoo_state.items():
        at.session_state[k] = v
    at.run()
    return at


def _still_working(at: AppTest) -> None:
    """No exception, and the Explore page still shows the top-k table for the query."""
    assert not at.exception, at.exception
    assert len(at.dataframe) == 2 and len(at.dataframe[1].value) == 20


@pytest.mark.parametrize(
    ("pending", "message"),
    [
        ({"ckpt_pending": [("model.pth", random_pth())]}, "model.pth: "),
        ({"ckpt_pending": [("w.safetensors", b"\x00" * 64)]}, "upload both together"),
        ({"media_pending": ("clip.mp4", corrupt_video())}, "clip.mp4: cannot be opened as a video"),
        ({"media_pending": ("big.png", huge_png())}, "resolution 5000×5000 is too large"),
    ],
)
def test_bad_upload_shows_an_error_and_the_page_keeps_working(zoo, pending, message):
    at = _page(pending)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    _still_working(at)
    assert at.session_state["input_kind"] == "synthetic" and at.session_state["model"] == "tiny_bat3d"
    at.session_state["q_t"] = 2  # the session goes on: a click after the failed upload
    at.run()
    _still_working(at)
    assert "(2, " in at.markdown[-1].value


def test_good_uploads_switch_model_and_input(zoo, tmp_path):
    card = save_tiny(tmp_path, "tiny_nl_dot")
    files = [("mine.safetensors", card.with_suffix(".safetensors").read_bytes()), ("mine.json", card.read_bytes())]
    buf = io.BytesIO(cv2.imencode(".png", np.full((48, 64, 3), 90, np.uint8))[1].tobytes())
    at = _page({"ckpt_pending": files})
    assert not at.error and at.session_state["model"].endswith("/mine.json")
    _still_working(at)
    at.session_state["media_pending"] = ("still.png", buf.getvalue())
    at.run()
    assert not at.error and at.session_state["input_kind"] == "upload"
    _still_working(at)
    assert "uploaded still.png" in at.markdown[-1].value


def test_a_model_that_cannot_take_the_input_is_a_message(zoo, monkeypatch):
    """A forward that fails (e.g. an uploaded checkpoint whose card promises the wrong input) → ValueError."""

    def broken(x):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x12 and 16x4)\nmore lines")

    lm = session.models.load("tiny_nl_embedded")  # a fresh object: not the cached one
    data = session.clips.synthetic(lm, 0)
    monkeypatch.setattr(lm.model, "forward", broken)
    with pytest.raises(ValueError, match=r"cannot run on synthetic .* \(input \(1, 3, 4, 32, 32\)\): mat1 and mat2"):
        session.results.run(lm, data)
