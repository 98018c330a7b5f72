"""Export: download the current view (PNG / MP4 / HTML / JSON) and the ViewSpec that reproduces it."""

import tempfile

import state
import streamlit as st
import widgets

from nlviz import session

state.init()
st.header("Export — files, and the ViewSpec for `nlviz export`")
ctx = widgets.context()
if ctx is None or not ctx.block:
    st.stop()


@st.fragment
def panel() -> None:
    view = widgets.query_view(ctx)
    st.subheader("This view, now")
    cols = st.columns(4)
    for col, (name, data) in zip(cols, session.exporting.png_views(view, ctx.opts).items()):
        col.download_button(name, data, file_name=name, mime="image/png", on_click="ignore")
    cols[2].download_button(
        "view.json (top-k)",
        session.exporting.json_view(ctx.result, view, ctx.opts),
        file_name="view.json",
        mime="application/json",
        on_click="ignore",
    )
    s = st.session_state
    spec = session.exporting.view_spec(ctx.result, ctx.block, view.point, ctx.opts, s.formats or ["png"], s.paper_width)
    cols[3].download_button(
        "ViewSpec (spec.json)", spec.to_json(), file_name="spec.json", mime="application/json", on_click="ignore"
    )
    st.code(spec.to_json(), language="json")
    st.code(session.exporting.command_line(ctx.result, "spec.json"), language="bash")
    st.subheader("Files from the batch exporter")
    formats = st.multiselect(
        "formats", ["png", "mp4", "html", "json", "svg", "pdf"], key="formats", on_change=state.keep, args=("formats",)
    )
    if {"svg", "pdf"} & set(formats):
        st.selectbox(
            "paper width (svg, pdf)",
            session.exporting.paper_widths(),
            key="paper_width",
            format_func=session.exporting.width_caption,
            on_change=state.keep,
            args=("paper_width",),
        )
    if st.button("Render files", type="primary", disabled=not formats):
        with st.spinner("Rendering with nlviz.export (the same code as the command line)…"):
            paths = session.exporting.export(
                ctx.result, ctx.block, view.point, ctx.opts, formats, tempfile.mkdtemp(), s.paper_width
            )
        st.session_state.export_files = [(p.name, p.read_bytes()) for p in paths]
        st.session_state.export_cell = view.cell
    if st.session_state.export_files:
        st.caption(f"Files of query cell {st.session_state.export_cell} (render again after a new click).")
    for i, (name, data) in enumerate(st.session_state.export_files):
        st.download_button(f"{name} ({len(data) / 1024:.0f} kB)", data, file_name=name, key=f"dl{i}", on_click="ignore")


panel()
