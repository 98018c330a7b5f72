"""One definition per statistic: for the same query, the Explore panel, the Analysis page and the exporter's JSON
show identical numbers (they all come from nlviz.analysis.query_numbers / block_stats)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from nlviz.analysis import STATS, stat_label
from nlviz.export import ViewSpec, run
from nlviz.export.records import num
from support.app import PAGES

POINT = (2, 9, 21)  # model-input pixel (t, y, x) of the tiny 4×32×32 clips


def _page(name: str, model: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=90)
    at.run()
    at.session_state["model"] = model
    at.session_state["input_index"] = 1
    at.run()  # a new input resets the query to its default point: choose the query after it
    at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = POINT
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("model", ["tiny_nl_embedded", "tiny_nl_dot", "tiny_bat3d"])  # softmax, ÷N, 2 groups
def test_explore_analysis_and_export_agree_on_one_query(zoo, tmp_path, model):
    k = 20
    explore = _page("explore", model)
    shown = explore.dataframe[0].value  # Per-query statistics: statistic, value
    explore_numbers = dict(zip(shown["statistic"], shown["value"]))

    analysis = _page("analysis", model)
    table = analysis.dataframe[1].value  # the selected query in every block
    assert table["queries"][0] == 1
    analysis_numbers = {col: table[col][0] for col in table.columns if col in explore_numbers}

    from nlviz import session

    lm = session.models.load(model)
    result = session.results.run(lm, session.clips.synthetic(lm, 1))
    block = result.blocks[0]
    cell = session.results.query_cell(result, block, POINT)
    spec = ViewSpec.from_dict(
        {
            "version": 1,
            "models": [model],
            "blocks": [block],
            "queries": {"mode": "explicit", "units": "cells", "points": [list(cell)]},
            "k": k,
            "formats": ["json"],
        }
    )
    run(spec, ["synthetic:2"], tmp_path, progress=False)
    record = json.loads((tmp_path / "synthetic-1" / f"{model}__{block}.json").read_text())
    blocks = json.loads((tmp_path / "synthetic-1" / "blocks.json").read_text())["blocks"][f"{model} {block}"]
    exported = record["queries"][0]["stats"]
    assert record["queries"][0]["cell"] == list(cell)

    kk = record["stats_k"]
    for name in STATS:
        label = stat_label(name, kk)
        assert explore_numbers[label] == analysis_numbers[label]  # the same float, not just close
        assert num(explore_numbers[label]) == exported[name] == blocks[name]
