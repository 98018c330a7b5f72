"""Analysis: per-block attention distance, entropy, query-independence and temporal span over the whole clip;
on synthetic clips, attention mass on the ground-truth objects."""

import state
import streamlit as st
import widgets

from nlviz import session
from nlviz.render import block_stats_figure, profile_figure

state.init()
st.header("Analysis — every block over the whole clip")
ctx = widgets.context()
if ctx is None or not ctx.block:
    st.stop()
with st.spinner("Computing per-block statistics (rows in chunks, up to 512 sampled queries per block)…"):
    rows = session.summary.block_rows(ctx.result, sample=512, k=ctx.opts.k)
    objects = session.summary.object_rows(ctx.result)
st.dataframe([{k: v for k, v in r.items() if k != "temporal profile"} for r in rows], hide_index=True)
st.caption(
    "Means over the sampled queries: distances in model-input pixels / frames (weighted by each row's "
    "mass, |w|/Σ|w| for unnormalized kinds); normalized entropy 0 = one key, 1 = uniform; query "
    "independence = mean JS divergence between rows of different queries (0 = every query attends alike)."
)
left, right = st.columns(2)
with left:
    st.plotly_chart(block_stats_figure(session.summary.chart_stats(rows)), key="block_stats", theme=None)
with right:
    profiles = {r["block"]: r["temporal profile"] for r in rows}
    st.plotly_chart(
        profile_figure(profiles, title="mean temporal profile", ylabel="mass per key frame"), key="profiles", theme=None
    )
st.subheader("On-object mass (synthetic clips: ground-truth masks)")
if objects is None:
    st.info("This input has no ground-truth masks: choose a synthetic clip in the sidebar.")
else:
    st.dataframe(objects, hide_index=True)
    st.caption(
        "For queries on the cue / target: the share of their attention to other frames that lands on the "
        "object itself and on its partner (cue ↔ target), against a uniform row (chance)."
    )
