"""Cached resources shared by all sessions: models (eval mode, read-only), inputs, and one forward + capture per
(model, input). Keys are plain strings, so two sessions asking for the same thing share one object."""

import streamlit as st

from nlviz import session


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def model(name: str):
    """A zoo model or checkpoint path → LoadedModel (nlviz.load_model: safetensors or weights-only pickles)."""
    return session.models.load(name)


@st.cache_resource(max_entries=64, show_spinner="Reading the input…")
def clip(model_name: str, kind: str, arg: str):
    """The input (kind, arg) as ``model_name`` reads it (its frames, size, normalization)."""
    return session.clips.read(model(model_name), kind, arg)


@st.cache_resource(max_entries=64, show_spinner="Running the model on the clip (forward + capture, once)…")
def result(model_name: str, clip_model: str, kind: str, arg: str):
    """Forward ``model_name`` on the input as ``clip_model`` reads it, under nlviz.capture."""
    return session.results.run(model(model_name), clip(clip_model, kind, arg))


def load_upload(files: list[tuple[str, bytes]]):
    """Save and load uploaded checkpoint files through the cached loader (UploadError on any problem)."""
    return session.models.load_upload(files, loader=model)


@st.cache_resource(max_entries=16, show_spinner="Finding a clip that shows the model's point…")
def first_clip(model_name: str) -> int:
    """The synthetic clip the app opens on for ``model_name`` (nlviz.session.showcase.first_clip)."""
    return session.showcase.first_clip(model(model_name), lambda i: result(model_name, model_name, "synthetic", str(i)))
