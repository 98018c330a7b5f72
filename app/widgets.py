"""Widgets every page shares: the sidebar (model, input, block, view options, uploads) and the query picker (the
hover component where the browser computes the block's rows, else the clickable frame strip, plus the numeric
(t, y, x) inputs that mirror it). Library calls only."""

from dataclasses import dataclass
from typing import Any

import resources
import state
import streamlit as st
from components import attention, click_image

from nlviz import session


@dataclass
class Context:
    """What a page shows: the model, the input as it reads it, the forward result, the block, view options."""

    lm: Any
    data: Any
    result: Any
    block: str
    opts: Any
    kind: str  # input kind and argument, as resources.clip/result take them
    arg: str


def table(rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    """``st.dataframe`` of ``rows`` with every float column shown to 3 significant digits (the values stay
    numbers: sorting and copying keep full precision)."""
    floats = {k for r in rows for k, v in r.items() if isinstance(v, float)}
    config = {k: st.column_config.NumberColumn(k, format="%.3g") for k in floats}
    return st.dataframe(rows, hide_index=True, column_config=config, **kwargs)


def _on_ckpt_upload() -> None:
    """The files just added are the checkpoint to load (the uploader keeps earlier files beside them: a bad file
    chosen before must not spoil the next one)."""
    s = st.session_state
    files = s.get("ckpt_upload") or []
    new = [f for f in files if f.file_id not in s.ckpt_seen]
    state.put("ckpt_seen", [f.file_id for f in files])
    s.ckpt_pending = [(f.name, f.getvalue()) for f in new] or None
    s.upload_error = None


def _on_media_upload() -> None:
    f = st.session_state.get("media_upload")
    st.session_state.media_pending = (f.name, f.getvalue()) if f else None
    st.session_state.upload_error = None


def _process_uploads() -> None:
    """Load pending uploads before the widgets they select are drawn; a failure is kept as a message."""
    s = st.session_state
    try:
        if s.ckpt_pending:
            files, s.ckpt_pending = s.ckpt_pending, None
            lm = resources.load_upload(files)
            state.put("uploaded", {**s.uploaded, lm.name: " + ".join(n for n, _ in files)})
            state.put("model", lm.name)
        if s.media_pending:
            (name, data), s.media_pending = s.media_pending, None
            path = str(session.clips.save_upload(name, data))
            if s.model:
                session.clips.read_upload(resources.model(s.model), path, name)  # check it before switching to it
            state.put("media_path", path)
            state.put("input_kind", "upload")
    except ValueError as e:
        s.upload_error = str(e)


def _card_caption(name: str) -> str:
    if name in st.session_state.uploaded:
        return f"uploaded checkpoint {st.session_state.uploaded[name]}"
    return session.models.caption(name)


def _picker_label(uploaded: dict[str, str]) -> Any:
    """The model picker's format_func (it must not read session state: Streamlit may call it outside a run)."""
    return lambda name: f"{uploaded[name]} (uploaded)" if name in uploaded else session.models.picker_label(name)


def model_choices() -> tuple[list[str], str | None, str | None]:
    """(the models the picker lists: the user's, the zoo's with operators, uploads; the default; an error message
    when NLVIZ_USER_MODELS is malformed)."""
    cards = [c for c in session.models.zoo_models() if c["operator"] != "none"]
    try:
        listed, default, error = session.models.model_names(), session.models.default_model(cards), None
    except ValueError as e:
        listed, default, error = [c["name"] for c in cards], None, str(e)
    return listed + [n for n in st.session_state.uploaded if n not in listed], default, error


def context(block_filter: Any = None) -> Context | None:
    """Draw the sidebar and return the page's Context (None, with a message shown, when there is nothing to show).

    The model picker lists the user's models (``nlviz app --model``) first, then the zoo and uploads; a model
    name in session state that is not listed is replaced by the default, never loaded."""
    s = st.session_state
    _process_uploads()
    names, default, error = model_choices()
    if error:  # NLVIZ_USER_MODELS is malformed: say so, still show the zoo
        st.error(error)
    if s.upload_error:
        st.error(s.upload_error)
    side = st.sidebar
    with side.expander("Upload a checkpoint (.pth/.pt/.pkl, or .safetensors + .json)"):
        st.file_uploader("checkpoint", accept_multiple_files=True, key="ckpt_upload", on_change=_on_ckpt_upload)
    if not names:
        st.warning(
            f"No models with non-local operators found in {session.models.zoo_folder()} — run `make zoo` to "
            "train the zoo, set NLVIZ_CHECKPOINTS to a folder of checkpoints, or upload one (sidebar)."
        )
        return None
    if s.model not in names:
        state.put("model", default or names[0])
    side.selectbox(
        "model", names, key="model", format_func=_picker_label(dict(s.uploaded)), on_change=state.keep, args=("model",)
    )
    side.caption(_card_caption(s.model))
    try:
        lm = resources.model(s.model)
    except ValueError as e:
        st.error(str(e))
        return None
    kinds = [k for k in session.clips.INPUT_KINDS if k != "synthetic" or lm.task]
    if s.input_kind not in kinds:
        state.put("input_kind", kinds[0])
    kind = side.radio("input", kinds, key="input_kind", horizontal=True, on_change=state.keep, args=("input_kind",))
    if kind == "upload":
        exts = session.clips.media_extensions()
        side.file_uploader("video or image", type=exts, key="media_upload", on_change=_on_media_upload)
        if not s.media_path:
            st.info("Upload a video or an image in the sidebar (or choose another input).")
            return None
        arg = s.media_path
    else:
        if kind == "synthetic" and s.input_auto:  # the first view: a clip the model gets right, showing its point
            if s.input_index == state.DEFAULTS["input_index"]:  # (unless a clip was asked for already)
                state.put("input_index", resources.first_clip(s.model))
            state.put("input_auto", False)
        arg = str(
            side.number_input(
                "clip index", 0, 9999, step=1, key="input_index", on_change=state.keep, args=("input_index",)
            )
        )
    try:
        result = resources.result(s.model, s.model, kind, arg)
    except ValueError as e:
        st.error(str(e))
        return None
    note = session.models.domain_note(lm, result.data.source)
    if note:
        st.info(note)
    blocks = block_filter(result) if block_filter else result.blocks
    if blocks and s.block not in blocks:
        state.put("block", blocks[0])
    # a new input's first query: on a synthetic clip, the target centre whose attention reaches the cue most
    state.follow_input(result.data, lambda: session.showcase.best_query(result, s.block if blocks else "")[0])
    if not blocks:
        return Context(lm, result.data, result, "", state.options(), kind, arg)
    side.selectbox("block", blocks, key="block", on_change=state.keep, args=("block",))
    _view_options(side)
    return Context(lm, result.data, result, s.block, state.options(), kind, arg)


def _view_options(side: Any) -> None:
    with side.expander("view options"):
        st.slider("top-k arrows", 1, 100, key="k", on_change=state.keep, args=("k",))
        st.selectbox("frames shown", ["all", 2, 3, 4, 6, 8], key="frames", on_change=state.keep, args=("frames",))
        st.selectbox("groups / heads", ["mean", "max"], key="groups", on_change=state.keep, args=("groups",))
        st.selectbox(
            "colormap", ["auto", *session.views.colormaps()], key="colormap", on_change=state.keep, args=("colormap",)
        )
        st.radio("color range", ["query", "fixed"], key="norm", horizontal=True, on_change=state.keep, args=("norm",))
        if st.session_state.norm == "fixed":
            st.number_input("vmin", key="vmin", format="%.4g", on_change=state.keep, args=("vmin",))
            st.number_input("vmax", key="vmax", format="%.4g", on_change=state.keep, args=("vmax",))
        st.slider("frame width (px)", 96, 320, step=16, key="panel", on_change=state.keep, args=("panel",))
        st.slider(
            "hide arrows below (share of the strongest)",
            0.0,
            0.5,
            step=0.01,
            key="min_fraction",
            on_change=state.keep,
            args=("min_fraction",),
            help="Top-k links weaker than this fraction of the strongest one are not drawn (1e-20 weights are not links)",
        )
        st.radio(
            "values",
            ["weight", "share"],
            key="values",
            horizontal=True,
            on_change=state.keep,
            args=("values",),
            help="weight: what the block computes (softmax, ÷N, a signed linear contribution ...); share: each key's "
            "share of the row's |weight|, a distribution that sums to 1 whatever the kind",
        )


#: the Explore query pickers: the hover component (families whose rows the browser computes) or the click strip
PICKERS = ["follow the pointer", "click strip"]
HOVER_KEY = "attention_hover"


def _on_pin() -> None:
    """A click on the hover component pinned a query: it becomes the selected point (the number inputs' keys)."""
    point = attention.pinned(HOVER_KEY)
    if point is not None:
        state.set_point(point)


def query_view(ctx: Context) -> Any:
    """The query picker (call inside a fragment): the hover component where the browser can compute the block's
    rows (else, or when chosen, the click strip), then the (t, y, x) inputs that mirror it; returns the
    QueryView of the selected point."""
    hover = session.hover.supported(ctx.result, ctx.block)
    if hover:
        st.radio("query picker", PICKERS, key="picker", horizontal=True, on_change=state.keep, args=("picker",))
    if hover and st.session_state.picker == PICKERS[0]:
        view = session.views.explore(ctx.result, ctx.block, state.point(), ctx.opts)
        st.caption(
            "Move the pointer over any frame: your browser computes the exact row of the query cell under it and "
            "redraws the heatmaps and the top-k arrows. Click to pin a query: the figures and tables below follow it."
        )
        data = session.hover.payload(ctx.result, ctx.block, ctx.opts, state.point())
        attention.attention(data, key=HOVER_KEY, on_pin=_on_pin)
    else:
        view = _strip(ctx)
    shape = ctx.data.shape
    cols = st.columns([1, 1, 1, 3])
    for col, key, n, name in zip(cols, ("q_t", "q_y", "q_x"), shape, ("frame t", "row y", "column x")):
        col.number_input(name, 0, n - 1, step=1, key=key, on_change=state.keep, args=(key,))
    cols[3].markdown(f"**query cell** (t,y,x) = `{view.cell}` of `{ctx.block}`  \n{ctx.data.description}")
    return view


STRIP_KEY = "strip_click"


def _strip(ctx: Context) -> Any:
    """The click strip: apply a new click (its frame pixel becomes the query; a click on a title or a gap changes
    nothing), compute the view of the selected point, draw the strip."""
    s = st.session_state
    shape = ctx.data.shape
    click = click_image.clicked(STRIP_KEY)
    if click and click[2] != s.strip_seen:
        s.strip_seen = click[2]
        grid = session.strip.strip_layout(shape, ctx.opts.panel_size)
        h, w = grid.size
        p = session.strip.strip_point(grid, shape[0], click[0], click[1], w, h)
        if p is not None:
            state.set_point(p)
    view = session.views.explore(ctx.result, ctx.block, state.point(), ctx.opts)
    st.caption(
        "Click any pixel of any frame. Overlaid: the query's weights in every frame, on the color scale of the "
        "arrow plot's color bar; the red box is the query cell."
    )
    strip = session.strip.click_strip(view.scene, ctx.opts.panel_size)
    click_image.click_image(session.strip.data_uri(strip), key=STRIP_KEY)
    return view


def paper_downloads(name: str, render: Any, key: str) -> None:
    """SVG and PDF downloads of a view as a figure for a paper, at the column width picked beside them.
    ``render(fmt, width)`` returns the file's bytes; it runs only when a button is clicked (not on every rerun)."""
    cols = st.columns([2, 1, 1, 2], vertical_alignment="bottom")
    widths = session.exporting.paper_widths()
    width = cols[0].selectbox(
        "paper width",
        widths,
        key="paper_width",
        format_func=session.exporting.width_caption,
        on_change=state.keep,
        args=("paper_width",),
    )
    for col, fmt in zip(cols[1:3], ("svg", "pdf")):
        col.download_button(
            f"{fmt.upper()} for a paper",
            lambda fmt=fmt: render(fmt, width),
            file_name=f"{name}.{fmt}",
            mime="image/svg+xml" if fmt == "svg" else "application/pdf",
            key=f"{key}_{fmt}",
            on_click="ignore",
        )
