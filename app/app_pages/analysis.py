"""Analysis: per-block attention distance, entropy, query-independence and temporal span over the whole clip;
on synthetic clips, attention mass on the ground-truth objects. The "dataset" view: the same questions over many
clips for several models, with confidence intervals (nlviz report)."""

import dataset_view
import state
import streamlit as st
import widgets

from nlviz import session

state.init()
st.header("Analysis — every block, over this clip or a dataset")
ctx = widgets.context()
if ctx is None or not ctx.block:
    st.stop()
views = ["this clip", "dataset"]
view = st.radio("view", views, key="analysis_view", horizontal=True, on_change=state.keep, args=("analysis_view",))
if view == "dataset":
    dataset_view.show(ctx)
    st.stop()
with st.spinner("Computing per-block statistics (rows in chunks, up to 512 sampled queries per block)…"):
    rows = session.summary.block_rows(ctx.result, sample=512, k=ctx.opts.k)
    objects = session.summary.object_rows(ctx.result)
widgets.table([{k: v for k, v in r.items() if k != "temporal profile"} for r in rows])
st.caption(
    "Means over the sampled queries: distances in model-input pixels / frames (weighted by each row's "
    "mass, |w|/Σ|w| for unnormalized kinds); normalized entropy 0 = one key, 1 = uniform; query "
    "independence = mean JS divergence between rows of different queries (0 = every query attends alike)."
)
left, right = st.columns(2)
with left:
    st.plotly_chart(session.figures.block_charts(rows), key="block_stats", theme=None)
if ctx.data.shape[0] > 1:  # an image has one frame: no temporal profiles
    with right:
        st.plotly_chart(session.figures.block_profiles(rows), key="profiles", theme=None)
point = state.point()
mine = session.summary.block_rows(ctx.result, k=ctx.opts.k, queries=session.summary.query_cells(ctx.result, point))
st.subheader(f"The selected query, pixel (t, y, x) = {point}: its cell in every block")
widgets.table([{k: v for k, v in r.items() if k != "temporal profile"} for r in mine], key="query_rows")
st.caption("The same numbers as the Explore page's per-query statistics (one query row per block, groups averaged).")
st.subheader("On-object mass (synthetic clips: ground-truth masks)")
if objects is None:
    st.info("This input has no ground-truth masks: choose a synthetic clip in the sidebar.")
else:
    widgets.table(objects)
    st.caption(
        "For queries on the cue / target: the share of their attention to other frames that lands on the "
        "object itself and on its partner (cue ↔ target), against a uniform row (chance)."
    )
