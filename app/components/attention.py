"""The hover component: attention follows the pointer, computed in the browser from the block's row factors
(``nlviz.session.hover.payload``); a click pins the query and sends its input pixel back as the trigger ``pin``."""

import json
from pathlib import Path
from typing import Any

import streamlit as st

HERE = Path(__file__).parent
NAME = "nlviz_attention"
_mount = st.components.v2.component(
    NAME,
    html=(HERE / "attention.html").read_text(encoding="utf-8"),
    css=(HERE / "attention.css").read_text(encoding="utf-8"),
    js=(HERE / "attention.js").read_text(encoding="utf-8"),
)


def attention(data: dict[str, Any], *, key: str, on_pin: Any) -> Any:
    """Mount the component with ``data`` (the hover payload); ``on_pin`` runs when a click pins a query (read the
    pinned pixel with :func:`pinned` inside it). The payload goes as one JSON string: Streamlit would turn its
    dict-of-lists members into Arrow tables."""
    return _mount(data=json.dumps(data), key=key, on_pin_change=on_pin, width="stretch")


def pinned(key: str) -> tuple[int, int, int] | None:
    """The (t, y, x) input pixel the last click pinned, or None (call it in the ``on_pin`` callback)."""
    value = (st.session_state.get(key) or {}).get("pin")
    if not isinstance(value, dict) or not all(isinstance(value.get(a), int) for a in ("t", "y", "x")):
        return None
    return value["t"], value["y"], value["x"]
