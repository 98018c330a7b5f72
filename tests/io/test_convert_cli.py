"""``nlviz convert IN OUT --from FORMAT``: writes an nlviz checkpoint (safetensors + card) that
``nlviz.load_model(OUT)`` loads to the same model, the card stating the format and its conventions."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

import nlviz
from nlviz.cli import convert_cmd


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nlviz")
    convert_cmd.add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["convert", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def released(alexhex7_dir):
    return alexhex7_dir / "net.pth"


@pytest.mark.parametrize("fmt", ["auto", "alexhex7", "alexhex7:embedded_gaussian"])
def test_convert_writes_a_loadable_checkpoint(released, tmp_path, capsys, fmt):
    assert _run([str(released), str(tmp_path / "ax7"), "--from", fmt]) == 0
    out = capsys.readouterr().out
    assert "alexhex7:embedded_gaussian" in out and "2 operator block(s) ['nl_1', 'nl_2']" in out
    card = json.loads((tmp_path / "ax7.json").read_text())
    assert (tmp_path / "ax7.safetensors").stat().st_size > 1_000_000
    assert card["format"] == "alexhex7:embedded_gaussian" and card["arch"] == "alexhex7_mnist"
    assert card["source"] == str(released) and card["params"] == 401_530
    assert set(card["conventions"]) >= {"scale", "pooling", "placement", "zero_init"}
    assert card["input"] == {"shape": [1, 28, 28], "mean": [0.0], "std": [1.0], "channels": "grayscale in [0, 1]"}
    a, b = nlviz.load_model(tmp_path / "ax7.json"), nlviz.load_model(released)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
    assert a.card["conventions"] == b.card["conventions"] and not a.training


def test_json_output_and_format_list(released, tmp_path, capsys):
    assert _run([str(released), str(tmp_path / "m"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["variant_from"].startswith("the alexhex7 default")
    assert _run(["--formats"]) == 0
    listing = capsys.readouterr().out
    for name in (
        "mmaction2",
        "slowfast",
        "caffe2",
        "cgnl",
        "bat",
        "torchvision",
        "alexhex7",
        ":dot_product",
        ":taylor",
    ):
        assert name in listing


def test_errors_name_the_problem(released, tmp_path):
    with pytest.raises(ValueError, match=r"nlviz convert needs IN and OUT"):
        _run([str(released)])
    with pytest.raises(
        ValueError, match=r"net\.pth: expected one CGNL/NL block in layer3 .*; closest known format: alexhex7"
    ):
        _run([str(released), str(tmp_path / "x"), "--from", "cgnl:dot"])
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "x.safetensors").exists()
    with pytest.raises(ValueError, match=r"missing\.pth: file not found"):
        _run([str(tmp_path / "missing.pth"), str(tmp_path / "y")])
