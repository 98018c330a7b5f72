"""Session state: every key the pages use, initialized here and only here.

The selected query is the model-input pixel (t, y, x) in ``q_t``, ``q_y``, ``q_x`` — the keys of the numeric
inputs, set by a click on the frame strip (``strip_click``) or a pin of the hover component (``attention_hover``)
too, so tests drive a click by setting them.

Streamlit deletes a widget's value when a run does not draw the widget: a page change (the next page draws its
own widgets) and a fragment's rerun (a click re-runs only the Explore panel, not the sidebar) both lose the
sidebar's choices. So every widget value is also kept in a plain dictionary (``_kept``): widgets write to it
when they change (``on_change=state.keep``), code that sets a choice writes to it (:func:`put`), and
:func:`init` puts back whatever Streamlit dropped, before any widget is drawn.
"""

import copy

import streamlit as st

from nlviz.session import ViewOptions

DEFAULTS = {
    "model": None,  # zoo name or the path of an uploaded checkpoint
    "input_kind": "synthetic",  # nlviz.session.clips.INPUT_KINDS
    "input_index": 0,  # synthetic clip / sample video index
    "input_auto": True,  # the clip index is still the app's choice (the first view picks a clip that shows the point)
    "media_path": None,  # uploaded video or image (saved path)
    "block": None,
    "k": 20,
    "frames": "all",
    "groups": "mean",
    "colormap": "auto",
    "norm": "query",  # "query" or "fixed"
    "vmin": 0.0,
    "vmax": 1.0,
    "panel": 160,
    "hover": False,  # Explore: also draw the interactive (plotly) per-frame heatmaps
    "min_fraction": 0.05,  # arrows below this share of the strongest are not drawn
    "values": "weight",  # "weight" or "share" (of the row's |weight|)
    "picker": "follow the pointer",  # Explore: widgets.PICKERS (the hover component, or the click strip)
    "q_t": 0,
    "q_y": 0,
    "q_x": 0,
    "q_for": None,  # the input the query belongs to (a new input resets the query)
    "strip_seen": None,  # the number of the last strip click handled
    "compare": [],  # extra "model :: block" entries of the Compare page
    "compare_chosen": False,  # the Compare entries were set (by default once, then by the user)
    "compare_scale": "shared by all rows",  # Compare: one color scale, or one per row
    "uploaded": {},  # path → file name of uploaded checkpoints
    "ckpt_pending": None,  # [(name, bytes)] of a checkpoint upload not processed yet
    "ckpt_seen": [],  # file ids the checkpoint uploader held at its last change
    "media_pending": None,  # (name, bytes) of a media upload not processed yet
    "upload_error": None,  # the message of the last failed upload
    "attr_method": "saliency",
    "formats": ["png", "json"],
    "export_files": [],  # [(file name, bytes)] the exporter wrote for export_cell
    "export_cell": None,
    "paper_width": "double",  # width of the SVG/PDF figures (nlviz.session.exporting.paper_widths)
    "analysis_view": "this clip",  # Analysis: "this clip" or "dataset" (nlviz report over synthetic clips)
    "dataset_models": None,  # the dataset view's models (None: the sidebar's model and the Compare page's)
    "dataset_clips": 16,
    "dataset_metric": "cosine_attention",
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
    "min_fraction",
    "values",
    "hover",
    "picker",
    "q_t",
    "q_y",
    "q_x",
    "compare",
    "compare_scale",
    "attr_method",
    "formats",
    "paper_width",
    "analysis_view",
    "dataset_models",
    "dataset_clips",
    "dataset_metric",
]


KEPT = "_kept"


def init() -> None:
    """Fill missing keys with the values kept for them (else their defaults), and keep widget values across
    pages and fragment reruns."""
    s = st.session_state
    kept = s.setdefault(KEPT, {})
    for key, value in DEFAULTS.items():
        if key not in s:
            s[key] = copy.deepcopy(kept[key] if key in kept else value)
    for key in WIDGETS:
        s[key] = s[key]  # a value set through session state survives the page change (Streamlit's own rule)
        kept[key] = copy.deepcopy(s[key])


def keep(key: str) -> None:
    """``on_change`` of a widget: remember its new value beyond this page and this run."""
    st.session_state.setdefault(KEPT, {})[key] = copy.deepcopy(st.session_state[key])


def put(key: str, value) -> None:
    """Set a choice from code (a default, an upload, a click) and remember it."""
    st.session_state[key] = value
    keep(key)


def options() -> ViewOptions:
    s = st.session_state
    norm = (float(s.vmin), float(s.vmax)) if s.norm == "fixed" and s.vmin < s.vmax else "query"
    return ViewOptions(
        k=int(s.k),
        frames=s.frames,
        groups=s.groups,
        colormap=s.colormap,
        normalization=norm,
        panel_size=int(s.panel),
        min_fraction=float(s.min_fraction),
        values=s["values"],  # not s.values: that is the session state's dict method
    )


def point() -> tuple[int, int, int]:
    return int(st.session_state.q_t), int(st.session_state.q_y), int(st.session_state.q_x)


def set_point(p: tuple[int, int, int]) -> None:
    for key, v in zip(("q_t", "q_y", "q_x"), p):
        put(key, int(v))


def follow_input(data, first_point) -> None:
    """A new input gets its first query (``first_point()``); a query outside the input is clipped into it."""
    s = st.session_state
    if s.q_for != data.key:
        set_point(first_point())
        put("q_for", data.key)
    t, h, w = data.shape
    set_point((min(max(s.q_t, 0), t - 1), min(max(s.q_y, 0), h - 1), min(max(s.q_x, 0), w - 1)))
