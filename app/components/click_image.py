"""The click strip: an image that sends the pixel under a click back as the trigger ``click`` (st.components.v2,
inline JS, no iframe). It replaces streamlit-image-coordinates, whose iframe re-rendered on every click (and whose
default sent the strip as an uncompressed 1 MB PNG)."""

from pathlib import Path
from typing import Any

import streamlit as st

HERE = Path(__file__).parent
NAME = "nlviz_click_image"
_mount = st.components.v2.component(
    NAME,
    html='<img class="nlviz-click-image" alt="frames: click a pixel to make it the query">',
    css=".nlviz-click-image { max-width: 100%; height: auto; cursor: crosshair; display: block; "
    "image-rendering: pixelated; }",
    js=(HERE / "click_image.js").read_text(encoding="utf-8"),
)


def click_image(src: str, *, key: str) -> Any:
    """Show the image ``src`` (a data URI); a click reruns the script (read it with :func:`clicked`)."""
    return _mount(data={"src": src}, key=key, on_click_change=lambda: None)


def clicked(key: str) -> tuple[float, float, float] | None:
    """The last click on the image under ``key``: (x, y) in the image's own pixels (not the shown ones) and the
    click's number ``n`` (tell a new click from one already handled), or None."""
    value = (st.session_state.get(key) or {}).get("click")
    if not isinstance(value, dict) or not all(isinstance(value.get(a), (int, float)) for a in ("x", "y", "n")):
        return None
    return float(value["x"]), float(value["y"]), float(value["n"])
