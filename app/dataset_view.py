"""The Analysis page's "dataset" view: ``nlviz report`` for several models over synthetic clips — every metric's
mean over clips with its 95 % interval, one chart per metric and the report's tables. Library calls only."""

import resources
import state
import streamlit as st
import widgets

from nlviz import session


def _default_models(ctx) -> list[str]:
    """The sidebar's model, then the models of the Compare page's entries ("model :: block")."""
    names = [ctx.lm.name]
    for entry in st.session_state.compare:
        name = entry.split(" :: ")[0]
        if name not in names:
            names.append(name)
    return names


def _text_table(rows: list[dict[str, str]], key: str) -> None:
    """A table of text cells, each column as wide as its longest text (no cell is cut; the table scrolls)."""
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in rows[0]} if rows else {}
    config = {c: st.column_config.TextColumn(c, width=18 + 7 * n) for c, n in widths.items()}
    st.dataframe(rows, hide_index=True, column_config=config, key=key)


def show(ctx) -> None:
    s = st.session_state
    choices, _, _ = widgets.model_choices()
    if s.dataset_models is None or not set(s.dataset_models) <= set(choices):
        state.put("dataset_models", [n for n in _default_models(ctx) if n in choices] or choices[:1])
    left, right = st.columns([3, 1])
    left.multiselect("models", choices, key="dataset_models", on_change=state.keep, args=("dataset_models",))
    right.number_input(
        "clips",
        2,
        512,
        step=8,
        key="dataset_clips",
        on_change=state.keep,
        args=("dataset_clips",),
        help="synthetic clips 0 … N−1 of each model's task (held-out seed); intervals narrow as 1/√N",
    )
    if not s.dataset_models:
        st.info("Choose at least one model.")
        return
    with st.spinner(f"nlviz report: {len(s.dataset_models)} model(s) × {s.dataset_clips} clips, 64 queries each…"):
        try:
            rep = resources.dataset_report(tuple(s.dataset_models), int(s.dataset_clips))
        except ValueError as e:
            st.error(str(e))
            return
    metrics = session.summary.dataset_metrics(rep)
    if s.dataset_metric not in metrics:
        state.put("dataset_metric", next(iter(metrics)))
    st.selectbox(
        "metric",
        list(metrics),
        format_func=metrics.get,
        key="dataset_metric",
        on_change=state.keep,
        args=("dataset_metric",),
    )
    st.plotly_chart(session.figures.dataset_chart(rep, s.dataset_metric), key="dataset_chart", theme=None)
    st.caption(session.summary.metric_help(s.dataset_metric))
    for title, rows in session.summary.dataset_tables(rep):
        st.subheader(title)
        _text_table(rows, key=f"dataset_{title[:12]}")
    for note in session.summary.dataset_notes(rep):
        st.caption(note)
