"""The shipped zoo: every checkpoint loads offline, is small, and reproduces its card's accuracy exactly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import nlviz
from nlviz.data import make_task
from nlviz.io.checkpoint import zoo_cards, zoo_dir
from nlviz.train import evaluate

CARDS = zoo_cards()


def test_the_zoo_is_shipped():
    names = {c["name"] for c in CARDS}
    assert {"st_baseline", "st_nl_embedded", "im_baseline", "im_nl"} <= names, names


@pytest.mark.parametrize("card", CARDS, ids=[c["name"] for c in CARDS])
def test_checkpoint_reproduces_its_card(card):
    weights = zoo_dir() / f"{card['name']}.safetensors"
    assert weights.stat().st_size <= 5 * 2**20
    model = nlviz.load_model(card["name"])
    task = make_task(card["task"]["name"], **card["task"]["params"])
    sub = card["metrics"]["subset"]
    res = evaluate(model, task, seed=card["metrics"]["eval_seed"], num=sub["num"])
    assert res["top1"] == sub["top1"]


def test_models_json_lists_the_zoo():
    out = subprocess.run([sys.executable, "-m", "nlviz.cli.main", "models", "--json"], capture_output=True, text=True,
                         check=True).stdout
    rows = json.loads(out)
    assert {r["name"] for r in rows} == {c["name"] for c in CARDS}
    for r in rows:
        assert r["operator"] and r["task"] in ("spacetime", "image") and 0 <= r["metrics"]["top1"] <= 1
    assert next(r for r in rows if r["name"] == "st_baseline")["operator"] == "none"


# Models whose operator spans the task's distance must beat their task's no-operator baseline by ≥15 points
# (issue 3). Per-frame operators on video (st_bat2d, st_sb) cannot link frames and are reported as they are.
MUST_BEAT = {
    "spacetime": ["st_nl_gaussian", "st_nl_embedded", "st_nl_dot", "st_nl_concat", "st_cgnl_dot", "st_cgnl_gauss",
                  "st_bat3d", "st_sb_nl"],
    "image": ["im_nl", "im_cgnl", "im_bat", "im_sb"],
}
BY_NAME = {c["name"]: c for c in CARDS}
BASELINE = {"spacetime": "st_baseline", "image": "im_baseline"}


# Missed and reported (closing note of issue 3): concatenation stays at chance on the spacetime task even with
# 1200 steps. strict: the day it passes, this marker must go.
MISSED = {"st_nl_concat": "concatenation NL: 0.263 vs baseline 0.250 after 1200 steps (target +15 points)"}
CASES_BEAT = [pytest.param(t, n, marks=pytest.mark.xfail(strict=True, reason=MISSED[n])) if n in MISSED else (t, n)
              for t, names in MUST_BEAT.items() for n in names]


@pytest.mark.parametrize("task,name", CASES_BEAT)
def test_long_range_operators_beat_the_baseline(task, name):
    assert name in BY_NAME and BASELINE[task] in BY_NAME, f"{name} or its baseline is not in the zoo"
    margin = BY_NAME[name]["metrics"]["top1"] - BY_NAME[BASELINE[task]]["metrics"]["top1"]
    assert margin >= 0.15, f"{name}: {margin:+.3f} over {BASELINE[task]}"
