"""Explore: point at (or click) any pixel of any frame and see where that position attends in every frame of a block."""

import state
import streamlit as st
import widgets

from nlviz import session

state.init()
st.header("Explore — where does a position attend?")
ctx = widgets.context()
if ctx is None or not ctx.block:
    st.stop()
res = ctx.result
st.caption(
    f"{ctx.lm.label}: predicted **{res.class_names[res.predicted]}** (p = {float(res.probs.max()):.2f})"
    + (f", ground truth **{res.class_names[ctx.data.label]}**" if ctx.data.label is not None else "")
)


@st.fragment
def panel() -> None:
    view = widgets.query_view(ctx)
    if view.note:
        st.warning(view.note)
    size = ctx.opts.panel_size
    st.plotly_chart(session.figures.arrows(view, size), key="arrows", theme=None, width="content")
    if st.toggle(
        "interactive per-frame heatmaps (hover values; the frames above show the same maps)",
        key="hover",
        on_change=state.keep,
        args=("hover",),
    ):
        st.plotly_chart(session.figures.heatmaps(view, size), key="heatmaps", theme=None, width="content")
    left, right = st.columns([3, 2])
    if view.temporal:  # an image has one frame: no temporal profile
        with left:
            st.plotly_chart(session.figures.profile(view), key="profile", theme=None)
    with right if view.temporal else left:
        st.subheader("Per-query statistics")
        widgets.table([{"statistic": k, "value": v} for k, v in view.stats.items()])
    st.subheader(f"Top-{len(view.topk)} key cells of query cell {view.cell}")
    widgets.table(view.topk)
    widgets.paper_downloads(
        session.exporting.paper_explore_name(ctx.result, view),
        lambda fmt, width: session.exporting.paper_explore(view, fmt, width),
        key="explore_paper",
    )


panel()
