"""Concurrency: several sessions on one cached model, on different clips, never see each other's results."""

from __future__ import annotations

import threading
import time

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from nlviz import session
from support.app import PAGES, direct

QUERIES = [(0, 3, 3), (1, 16, 20), (3, 30, 1)]


def rows_of(result) -> list[torch.Tensor]:
    return [session.views.explore(result, "layer3.nl0", q).aff.weights.clone() for q in QUERIES]


def test_threads_on_one_model_with_different_clips(zoo):
    lm = session.models.load("tiny_nl_embedded")  # one model object, shared like st.cache_resource shares it
    clips = [session.clips.synthetic(lm, i) for i in range(4)]
    reference = [(session.results.run(lm, c).logits, rows_of(session.results.run(lm, c))) for c in clips]
    assert not torch.equal(reference[0][1][0], reference[1][1][0])  # different clips attend differently
    op = lm.model.get_submodule("layer3.nl0")
    slow = op.register_forward_hook(lambda *_: time.sleep(0.004))  # captures stay open while other threads run
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def worker(i: int) -> None:
        barrier.wait()
        for rep in range(6):
            c = (i + rep) % 4
            res = session.results.run(lm, clips[c])
            if rep == 2 and i == 0:  # a hook-registering attribution in the middle of the others' forwards
                session.attribution.attribute(res, "grad-cam", block="layer3.nl0")
            ref_logits, ref_rows = reference[c]
            if not torch.equal(res.logits, ref_logits):
                errors.append(f"thread {i} rep {rep}: logits of clip {c} differ")
            for q, a, b in zip(QUERIES, rows_of(res), ref_rows):
                if not torch.equal(a, b):
                    errors.append(f"thread {i} rep {rep}: clip {c} query {q} row differs by {(a - b).abs().max()}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    slow.remove()
    assert not errors, errors[:5]
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in lm.model.modules())  # no hook left


def test_two_app_sessions_on_different_clips(zoo):
    """Two sessions share the cached model; each one's top-k table is its own clip's."""
    a = AppTest.from_file(str(PAGES / "explore.py"), default_timeout=90)
    b = AppTest.from_file(str(PAGES / "explore.py"), default_timeout=90)
    for at, index in ((a, 0), (b, 2)):
        at.run()
        at.session_state["model"] = "tiny_nl_embedded"
        at.session_state["input_index"] = index
        at.session_state["min_fraction"] = 0.0  # the table lists all 20
        at.run()
        at.session_state["q_t"], at.session_state["q_y"], at.session_state["q_x"] = 2, 12, 12
        at.run()
        assert not at.exception
    import resources

    assert resources.model("tiny_nl_embedded") is resources.model("tiny_nl_embedded")  # one cached object
    for at, index in ((a, 0), (b, 2)):
        top = direct("tiny_nl_embedded", index)[2].affinity("layer3.nl0", [(2, 3, 3)]).topk(20)
        np.testing.assert_allclose(
            at.dataframe[1].value["weight"].to_numpy(), top.weights[0, 0, 0].numpy(), rtol=1e-6, atol=1e-12
        )
    assert not np.allclose(a.dataframe[1].value["weight"].to_numpy(), b.dataframe[1].value["weight"].to_numpy())
