"""``evaluate_model(by=...)`` / ``nlviz eval --by``: top-1 per cue color or per class, checked clip by clip against
the model run here."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from nlviz.cli.main import main
from nlviz.data import make_task
from nlviz.run import describe, load_model, model_input
from nlviz.train.evaluate import evaluate_model, group_top1

CKPT = Path(__file__).resolve().parents[2] / "checkpoints" / "st_cgnl_dot.safetensors"
NUM = 48


@pytest.fixture(scope="module")
def lm():
    return describe("st_cgnl_dot", load_model(CKPT))


@pytest.fixture(scope="module")
def brute(lm):
    """(cue color, class name, right?) of each of the first NUM clips of the card's held-out seed."""
    task = make_task(lm.task["name"], **lm.task["params"])
    rows = []
    for i in range(NUM):
        s = task.sample(lm.seed, i)
        with torch.no_grad():
            pred = int(lm.model(model_input(s.to_clip(), lm)).argmax())
        rows.append((s.by_role("cue")[0].color, task.class_names[s.label], pred == s.label))
    return rows


def _expected(rows, col):
    groups = {}
    for r in rows:
        groups.setdefault(r[col], []).append(r[2])
    return {k: (len(v), sum(v) / len(v)) for k, v in groups.items()}


@pytest.mark.parametrize("by,col", [("cue", 0), ("class", 1)])
def test_groups_equal_the_clip_by_clip_count(lm, brute, by, col):
    res = evaluate_model(lm, num=NUM, by=by, batch_size=16)
    groups = res["by"]["groups"]
    assert res["by"]["key"] == by
    assert [g["value"] for g in groups] == sorted(_expected(brute, col))
    for g in groups:
        n, p = _expected(brute, col)[g["value"]]
        assert g["num"] == n and g["top1"] == p and g["se"] == pytest.approx(math.sqrt(p * (1 - p) / n))
    assert sum(g["num"] for g in groups) == NUM
    assert sum(g["num"] * g["top1"] for g in groups) / NUM == pytest.approx(res["top1"])
    assert res["top1"] == np.mean([r[2] for r in brute])


def test_without_by_the_result_has_no_groups(lm):
    assert "by" not in evaluate_model(lm, num=4)


def test_group_top1_orders_by_name_and_gives_the_binomial_se():
    out = group_top1(["b", "a", "b", "b", "a"], [True, False, False, True, False])
    assert out == [
        {"value": "a", "num": 2, "top1": 0.0, "se": 0.0},
        {"value": "b", "num": 3, "top1": 2 / 3, "se": pytest.approx(math.sqrt(2 / 9 / 3))},
    ]


def test_bad_groupings_are_errors(lm, tmp_path):
    with pytest.raises(ValueError, match=r"by='shape': group clips by one of \['class', 'cue'\]"):
        evaluate_model(lm, num=4, by="shape")
    with pytest.raises(ValueError, match=r"grouping by cue color \(by='cue', --by cue\) needs a synthetic task"):
        evaluate_model(lm, data=tmp_path, by="cue")


def _stdout(argv):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(argv) == 0
    return buf.getvalue()


def test_cli_prints_one_line_per_cue_color(lm, brute):
    out = _stdout(["eval", "--model", str(CKPT), "--num", str(NUM), "--by", "cue"]).splitlines()
    assert out[1].split() == ["cue", "color", "clips", "top1", "±", "SE"]
    want = _expected(brute, 0)
    assert len(out) == 2 + len(want)
    for line in out[2:]:
        color, n, p, _, se = line.split()
        assert (int(n), float(p)) == (want[color][0], pytest.approx(want[color][1], abs=5e-4))
        assert float(se) == pytest.approx(math.sqrt(want[color][1] * (1 - want[color][1]) / want[color][0]), abs=5e-4)
    res = json.loads(_stdout(["eval", "--model", str(CKPT), "--num", str(NUM), "--by", "cue", "--json"]))
    assert {g["value"]: (g["num"], g["top1"]) for g in res["by"]["groups"]} == want
