"""The Analysis page's dataset view: nlviz report for the sidebar's and the Compare page's models, its tables and
chart the same numbers as nlviz.analysis.report computed directly."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from nlviz import session
from nlviz.analysis import report
from nlviz.export.report_text import cell
from support.app import PAGES


def test_dataset_view_shows_the_report_of_the_chosen_models(zoo):
    at = AppTest.from_file(str(PAGES / "analysis.py"), default_timeout=120)
    at.run()
    at.session_state["model"] = "tiny_nl_embedded"
    at.session_state["compare"] = ["tiny_bat3d :: layer3.nl0"]
    at.session_state["analysis_view"] = "dataset"
    at.session_state["dataset_clips"] = 3
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["dataset_models"] == ["tiny_nl_embedded", "tiny_bat3d"]
    accuracy, independence = at.dataframe[0].value, at.dataframe[1].value
    assert list(accuracy["model"]) == list(independence["model"]) == ["tiny_nl_embedded", "tiny_bat3d"]
    direct = report([session.models.load(n) for n in ("tiny_nl_embedded", "tiny_bat3d")], "synthetic:3")
    labels = session.summary.dataset_metrics(direct)
    for i, row in enumerate(direct.rows):
        assert accuracy[labels["top1"]][i] == cell(row["metrics"]["top1"])
        for name in ("cosine_attention", "cosine_input", "cosine_output"):
            assert independence[labels[name]][i] == cell(row["metrics"][name])
    assert [t.value for t in at.subheader][:2] == ["Accuracy", "Query-independence (GCNet, Table 1)"]
    at.session_state["dataset_metric"] = "entropy"
    at.run()
    assert not at.exception, at.exception
