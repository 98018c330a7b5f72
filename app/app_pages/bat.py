"""BA-Transform: the P̃ and Q̃ (and T̃) matrices per group of a BAT block, and the effective map of a clicked query."""

import state
import streamlit as st
import widgets

from nlviz import session

state.init()
st.header("BA-Transform — P̃, Q̃ and the effective separable map")
ctx = widgets.context(block_filter=session.views.bat_blocks)
if ctx is None:
    st.stop()
if not ctx.block:
    bats = [c["name"] for c in session.models.zoo_models() if c["operator"] == "bat"]
    st.info(
        f"{ctx.lm.label} has no BA-Transform block. BAT models in the zoo: {', '.join(bats) or '(none yet)'} "
        "— choose one in the sidebar."
    )
    st.stop()
st.markdown(
    "Within a group, output cell (i, j) of frame t reads input cell (a, b) with weight "
    "T̃[t, t′] · P̃[i, a] · Q̃[b, j]: rows of P̃ and T̃ and columns of Q̃ sum to 1. The outlines mark the "
    "clicked query's row i of P̃, column j of Q̃ and row t of T̃."
)


@st.fragment
def panel() -> None:
    view = widgets.query_view(ctx)
    bview, rows = session.views.bat(ctx.result, ctx.block, view.point, ctx.opts)
    st.plotly_chart(session.figures.bat_matrices(bview), key="bat_fig", theme=None, width="content")
    st.subheader("Check per group: the effective map is the outer product of the outlined row and column")
    widgets.table(rows)


panel()
