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
