"""Compare: the same click in 2–4 models or blocks side by side, with difference maps and a divergence table."""

import resources
import state
import streamlit as st
import widgets

from nlviz import session

state.init()
st.header("Compare — one click, several operators")
ctx = widgets.context()
if ctx is None or not ctx.block:
    st.stop()
s = st.session_state
shape = (ctx.lm.video, ctx.lm.frames, ctx.lm.size)
candidates = []
for name in session.models.model_names():  # the user's models first, then the zoo
    try:
        lm = resources.model(name)
    except ValueError:  # a model that cannot load is reported when it is chosen in the sidebar
        continue
    if (lm.video, lm.frames, lm.size) == shape:
        candidates += [f"{lm.name} :: {b}" for b in lm.blocks]
candidates = [c for c in candidates if c != f"{ctx.lm.name} :: {ctx.block}"]
if s.compare_chosen:  # the user's choice, even an empty one ("Clear all"), minus entries this input cannot take
    state.put("compare", [c for c in s.compare if c in candidates])
else:  # the first visit: two entries to start from (3 rows and 2 differences: the grid stays one screen wide)
    state.put("compare", candidates[:2])
    state.put("compare_chosen", True)
if not candidates:
    st.info(
        "No other model or block reads this input at the same size yet (the zoo may still be training): "
        "the comparison below has one row."
    )
st.multiselect(
    "compare with (same input size as the model in the sidebar)",
    candidates,
    key="compare",
    on_change=state.keep,
    args=("compare",),
    max_selections=3,
)


@st.fragment
def panel() -> None:
    view = widgets.query_view(ctx)
    entries = [(f"{ctx.lm.label} {ctx.block}", ctx.result, ctx.block)]
    for item in s.compare:
        name, block = item.split(" :: ")
        label = f"{resources.model(name).label} {block}"
        entries.append((label, resources.result(name, ctx.lm.name, ctx.kind, ctx.arg), block))
    per_row = (
        st.radio(
            "color scale",
            ["shared by all rows", "one per row"],
            key="compare_scale",
            horizontal=True,
            on_change=state.keep,
            args=("compare_scale",),
            help="Shared: one scale, rows compare directly. One per row: each row fitted to its own maximum (its label "
            "says it), so a flat row is not washed out by a sharp one.",
        )
        == "one per row"
    )
    cview, _, rows = session.compare.compare(entries, view.point, ctx.opts, per_row=per_row)
    st.plotly_chart(
        session.figures.comparison(cview, ctx.opts.panel_size), key="compare_fig", theme=None, width="content"
    )
    widgets.paper_downloads(
        session.exporting.PAPER_COMPARE_NAME,
        lambda fmt, width: session.exporting.paper_compare(cview, fmt, width),
        key="compare_paper",
    )
    if rows:
        st.subheader("Where the variants disagree (each against the first row)")
        widgets.table(rows)


panel()
