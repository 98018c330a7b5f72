"""`nlviz export` flags: --spec defaults overridden by flags, exit codes, usage errors, the subcommand hook."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from nlviz.cli import export_cmd
from nlviz.viewspec import ViewSpec
from support.checkpoints import save_tiny_c2d


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    return str(save_tiny_c2d(tmp_path_factory.mktemp("ckpt") / "tiny"))


def test_flags_override_the_spec_file(ckpt, tmp_path):
    spec = ViewSpec(models=(ckpt,), k=9, formats=("png",), colormap="magma", queries={"mode": "grid", "n": 3})
    spec.save(tmp_path / "view.json")
    rc = export_cmd.main(
        [
            "--spec",
            str(tmp_path / "view.json"),
            "--input",
            "synthetic:1",
            "--out",
            str(tmp_path / "o"),
            "--top-k",
            "2",
            "--format",
            "json",
            "--query",
            "1,10,12",
            "2,3,4",
            "--quiet",
        ]
    )
    assert rc == 0
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["spec"]["k"] == 2 and manifest["spec"]["colormap"] == "magma"  # flag wins, spec kept
    assert manifest["spec"]["queries"] == {"mode": "explicit", "points": [[1, 10, 12], [2, 3, 4]], "units": "pixels"}
    assert manifest["inputs"][0]["outputs"] == [
        "synthetic-0/blocks.json",
        "synthetic-0/tiny__layer3.nl0.json",
        "synthetic-0/tiny__layer3.nl0.npz",
    ]
    rec = json.loads((tmp_path / "o" / "synthetic-0" / "tiny__layer3.nl0.json").read_text())
    assert [len(q["topk"]) for q in rec["queries"]] == [2, 2]
    assert [q["cell"] for q in rec["queries"]] == [[1, 2, 3], [2, 0, 1]]  # stride 4 on the identity geometry


def test_exit_codes_and_usage_errors(ckpt, tmp_path, capsys):
    base = ["--model", ckpt, "--out", str(tmp_path / "o"), "--quiet", "--format", "json"]
    assert export_cmd.main([*base, "--input", "synthetic:1", "--input", str(tmp_path / "none.mp4")]) == 1
    assert "none.mp4: file not found" in capsys.readouterr().err
    assert export_cmd.main([*base, "--input", "synthetic:1", "--grid", "2", "--auto", "3"]) == 2
    assert "only one of --query, --grid, --auto" in capsys.readouterr().err
    assert export_cmd.main([*base, "--input", "synthetic:1", "--shard", "3/2"]) == 2
    assert "0 <= I < N" in capsys.readouterr().err
    assert export_cmd.main([*base, "--input", "synthetic:1", "--query", "1,2"]) == 2
    assert "write t,y,x" in capsys.readouterr().err
    assert export_cmd.main([*base, "--input", "synthetic:1", "--format", "png,gif"]) == 2
    assert "ViewSpec field 'formats[1]'" in capsys.readouterr().err
    assert export_cmd.main([*base, "--input", "synthetic:2", "--block", "all", "--auto", "1", "--top-k", "3"]) == 0


def test_add_parsers_plugs_into_the_nlviz_parser():
    p = argparse.ArgumentParser(prog="nlviz")
    sub = p.add_subparsers(dest="command", required=True)
    export_cmd.add_parsers(sub)
    args = p.parse_args(
        [
            "export",
            "--model",
            "m",
            "--model",
            "m2",
            "--input",
            "a.mp4",
            "--out",
            "o",
            "--block",
            "layer3.0.nl",
            "--grid",
            "3",
            "--top-k",
            "5",
            "--format",
            "png,mp4",
            "--resume",
            "--shard",
            "1/4",
            "--workers",
            "2",
        ]
    )
    assert args.func is export_cmd.cmd_export and args.workers == 2 and args.shard == "1/4" and args.resume
    spec = export_cmd.spec_from_args(args)
    assert spec.models == ("m", "m2") and spec.blocks == ("layer3.0.nl",) and spec.k == 5
    assert spec.formats == ("png", "mp4") and spec.queries.mode == "grid" and spec.queries.n == 3


def test_runs_as_a_module(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "nlviz.cli.export_cmd", "--input", "synthetic:1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "'models'" in r.stderr  # no model given: a usage error naming the field
