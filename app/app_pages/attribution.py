"""Attribution: captum maps beside the attention of a clicked query, with their agreement score."""

import state
import streamlit as st
import widgets

from nlviz import session

state.init()
st.header("Attribution — attention vs. what the prediction depends on")
ctx = widgets.context()
if ctx is None or not ctx.block:
    st.stop()
res = ctx.result
left, right = st.columns(2)
method = left.selectbox(
    "method", session.attribution.METHODS, key="attr_method", on_change=state.keep, args=("attr_method",)
)
target = right.selectbox(
    "target class",
    range(len(res.class_names)),
    index=res.predicted,
    format_func=lambda i: f"{i}: {res.class_names[i]}" + (" (predicted)" if i == res.predicted else ""),
)


@st.fragment
def panel() -> None:
    view = widgets.query_view(ctx)
    with st.spinner(f"Computing {method} (captum)…"):
        cview, agree, _, pixels = session.attribution.compare_attribution(
            res, ctx.block, view.point, method, target, ctx.opts
        )
    a, b = st.columns(2)
    a.metric("Spearman ρ (attention vs |attribution|)", f"{agree['spearman']:.3f}")
    b.metric(f"top-{agree['k']} IoU", f"{agree['topk_iou']:.3f}")
    st.caption(
        f"Both maps on the key grid {agree['grid']}: the query's attention mass, and |attribution| averaged "
        "over each key cell's pixels. Rows below: each map as a share of its total; the last row is the "
        "difference."
    )
    size = ctx.opts.panel_size
    st.plotly_chart(session.figures.comparison(cview, size), key="attr_fig", theme=None, width="content")
    st.plotly_chart(session.figures.heatmaps(pixels, size), key="attr_pixels", theme=None, width="content")


panel()
