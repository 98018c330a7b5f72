"""Session state: every key the pages use, initialized here and only here.

The selected query is the model-input pixel (t, y, x) in ``q_t``, ``q_y``, ``q_x`` — the keys of the numeric
inputs, set by a click on the frame strip (``strip_click``) too, so tests drive a click by setting them.
"""

import copy

import streamlit as st

from nlviz.session import ViewOptions
from nlviz.session.clips import default_point

DEFAULTS = {
    "model": None,  # zoo name or the path of an uploaded checkpoint
    "input_kind": "synthetic",  # nlviz.session.clips.INPUT_KINDS
    "input_index": 0,  # synthetic clip / sample video index
    "media_path": None,  # uploaded video or image (saved path)
    "block": None,
    "k": 20,
    "frames": "all",
    "groups": "mean",
    "colormap": "auto",
    "norm": "query",  # "query" or "fixed"
    "vmin": 0.0,
    "vmax": 1.0,
    "panel": 96,
    "hover": False,  # Explore: also draw the interactive (plotly) per-frame heatmaps
    "q_t": 0,
    "q_y": 0,
    "q_x": 0,
    "q_for": None,  # the input the query belongs to (a new input resets the query)
    "strip_seen": None,  # unix_time of the last click handled
    "compare": [],  # extra "model :: block" entries of the Compare page
    "uploaded": {},  # path → file name of uploaded checkpoints
    "ckpt_pending": None,  # [(name, bytes)] of a checkpoint upload not processed yet
    "media_pending": None,  # (name, bytes) of a media upload not processed yet
    "upload_error": None,  # the message of the last failed upload
    "attr_method": "saliency",
    "formats": ["png", "json"],
    "export_files": [],  # [(file name, bytes)] the exporter wrote for export_cell
    "export_cell": None,
}
#: widget keys whose values must survive page switches
WIDGETS = [
    "model",
    "input_kind",
    "input_index",
    "block",
    "k",
    "frames",
    "groups",
    "colormap",
    "norm",
    "vmin",
    "vmax",
    "panel",
    "hover",
    "q_t",
    "q_y",
    "q_x",
    "compare",
    "attr_method",
    "formats",
]


def init() -> None:
    """Fill missing keys with their defaults, and keep widget values across pages."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = copy.deepcopy(value)
    for key in WIDGETS:
        st.session_state[key] = st.session_state[key]


def options() -> ViewOptions:
    s = st.session_state
    norm = (float(s.vmin), float(s.vmax)) if s.norm == "fixed" and s.vmin < s.vmax else "query"
    return ViewOptions(
        k=int(s.k), frames=s.frames, groups=s.groups, colormap=s.colormap, normalization=norm, panel_size=int(s.panel)
    )


def point() -> tuple[int, int, int]:
    return int(st.session_state.q_t), int(st.session_state.q_y), int(st.session_state.q_x)


def set_point(p: tuple[int, int, int]) -> None:
    st.session_state.q_t, st.session_state.q_y, st.session_state.q_x = (int(v) for v in p)


def follow_input(data) -> None:
    """A new input gets its default query; a query outside the input is clipped into it."""
    s = st.session_state
    if s.q_for != data.key:
        set_point(default_point(data))
        s.q_for = data.key
    t, h, w = data.shape
    set_point((min(max(s.q_t, 0), t - 1), min(max(s.q_y, 0), h - 1), min(max(s.q_x, 0), w - 1)))
