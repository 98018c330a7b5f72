"""``nlviz report``: byte-identical files for a deterministic run, shards merged = the full run, --resume after an
interruption = an uninterrupted run, clear errors for bad --input / --shard, labels from a class-per-folder
dataset, and the zoo table between its README markers (kept by write_table)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

import nlviz.analysis.reports as reports
from nlviz.analysis.report_metrics import METRICS
from nlviz.cli.main import main
from nlviz.train.zoo import TABLE_BEGIN, TABLE_END, report_section, write_table
from support.checkpoints import save_tiny
from support.export_inputs import mixed_folder

CLIPS = 4


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    return [str(save_tiny(d, n, seed=i)) for i, n in enumerate(("tiny_nl_embedded", "tiny_bat3d", "tiny_baseline"))]


def _run(models, out, *extra, clips=CLIPS):
    argv = ["report", *(a for m in models for a in ("--model", m)), "--input", f"synthetic:{clips}"]
    return main([*argv, "--out", str(out), "--queries", "8", "--quiet", *extra])


def _files(folder: Path, *, state: bool = True) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (state or ".nlviz-report" not in p.parts)
    }


@pytest.fixture(scope="module")
def full(models, tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    assert _run(models, out) == 0
    return out


def test_a_run_writes_every_format_and_twice_gives_the_same_bytes(models, full, tmp_path):
    files = _files(full)
    assert {"report.md", "report.csv", "report.json", "report.html"} <= set(files)
    assert {f"plots/{m}.png" for m in METRICS} <= set(files)
    assert sum(n.startswith(".nlviz-report/clips/") for n in files) == CLIPS
    html = files["report.html"].decode()
    assert "<svg" in html and "<script" not in html and "http" not in html.replace("http://www.w3.org", "")
    rep = json.loads(files["report.json"])
    assert rep["complete"] and rep["clips_done"] == CLIPS and not rep["errors"]
    rows = {(r["model"], r["block"]): r for r in rep["rows"]}
    assert rows[("tiny_baseline", None)]["metrics"]["top1"]["n"] == CLIPS
    assert rows[("tiny_bat3d", "layer3.nl0")]["kind"] == "bilinear"
    md = files["report.md"].decode()
    assert "| tiny_baseline | spacetime | 4 |" in md and "| tiny_bat3d | layer3.nl0 | bilinear |" in md
    assert "Wilson" in md and "## Query-independence (GCNet, Table 1)" in md
    again = tmp_path / "again"
    assert _run(models, again) == 0
    assert _files(again) == files  # byte for byte, clip state included: no timestamps, no paths of OUT


def test_shards_merge_to_exactly_the_full_run(models, full, tmp_path):
    shards = [tmp_path / f"s{i}" for i in range(3)]
    for i, s in enumerate(shards):
        assert _run(models, s, "--shard", f"{i}/3") == 0
    assert "partial: 2 of 4 clips" in (shards[0] / "report.md").read_text()
    merged = tmp_path / "merged"
    assert main(["report", "--merge", *map(str, shards), "--out", str(merged)]) == 0
    assert _files(merged) == _files(full, state=False)


def test_two_workers_write_the_same_files(models, full, tmp_path):
    out = tmp_path / "w2"
    assert _run(models, out, "--workers", "2") == 0
    assert _files(out) == _files(full)


def test_merge_refuses_missing_shards_and_other_runs(models, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(models, a, "--shard", "0/2") == 0
    assert main(["report", "--merge", str(a), "--out", str(tmp_path / "m")]) == 2
    assert "2 of 4 clips are in none of the shards (synthetic:1, synthetic:3)" in capsys.readouterr().err
    assert _run(models[:1], b, "--shard", "1/2") == 0
    assert main(["report", "--merge", str(a), str(b), "--out", str(tmp_path / "m")]) == 2
    assert "another 'models'" in capsys.readouterr().err
    assert main(["report", "--merge", str(tmp_path / "nothing"), "--out", str(tmp_path / "m")]) == 2
    assert "report.json: not found" in capsys.readouterr().err


def test_resume_after_an_interrupted_run_gives_the_same_files(models, full, tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    real, calls = reports.clip_record, []

    def interrupted(lms, item, config):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user's Ctrl-C during the third clip
        calls.append(item.id)
        return real(lms, item, config)

    monkeypatch.setattr(reports, "clip_record", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(models, out)
    assert sorted(p.name for p in (out / ".nlviz-report" / "clips").iterdir()) == [
        "synthetic-0.json",
        "synthetic-1.json",
    ]
    assert not (out / "report.md").exists()

    def counted(lms, item, config):
        calls.append(item.id)
        return real(lms, item, config)

    monkeypatch.setattr(reports, "clip_record", counted)
    assert _run(models, out, "--resume") == 0
    assert calls == ["synthetic-0", "synthetic-1", "synthetic-2", "synthetic-3"]  # the first two were kept
    assert _files(out) == _files(full)
    assert _run(models, out, "--resume", "--top-k", "5") == 2
    assert "--resume with other models, inputs or settings" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--input", "synthetic:0"], "input 'synthetic:0': write synthetic:N with N a positive number of clips"),
        (["--input", "/no/such/clip.mp4"], "input '/no/such/clip.mp4': no such file or folder"),
        (["--input", "/no/such/*.mp4"], "input '/no/such/*.mp4': the pattern matches no file"),
        (["--input", "synthetic:2", "--shard", "2/2"], "--shard 2/2: need N >= 1 and 0 <= I < N"),
        (["--input", "synthetic:2", "--shard", "half"], "--shard 'half': write I/N, e.g. 0/4"),
        (["--input", "synthetic:2", "--queries", "1"], "queries=1 must be an integer >= 2"),
        ([], "--input is required"),
    ],
)
def test_bad_arguments_are_clear_errors(models, tmp_path, capsys, extra, message):
    assert main(["report", "--model", models[0], "--out", str(tmp_path / "o"), "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_file_is_recorded_with_its_name_and_the_run_goes_on(models, tmp_path, capsys):
    folder = tmp_path / "in"
    mixed_folder(folder)
    out = tmp_path / "o"
    code = main(["report", "--model", models[0], "--input", str(folder), "--out", str(out), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "e_corrupt.avi" in err and "f_empty.mp4" in err
    rep = json.loads((out / "report.json").read_text())
    bad = {Path(e["input"]).name for e in rep["errors"]}
    assert bad == {"e_corrupt.avi", "f_empty.mp4", "g_text.mp4"}
    assert "e_corrupt.avi" in (out / "report.md").read_text()
    (row,) = rep["rows"]
    assert row["metrics"]["entropy"]["n"] == 4 and row["metrics"]["top1"]["n"] == 0  # no labels: top-1 n/a


def test_a_class_per_folder_dataset_gives_the_synthetic_labels(models, tmp_path):
    """The synthetic clips written as clips/<class>/<clip>/<frame>.png: the same top-1 and margin per clip."""
    from nlviz.analysis.report_inputs import load_models
    from nlviz.run import synthetic_sample

    (lm,) = load_models(models[:1])
    root = tmp_path / "clips"
    for i in range(CLIPS):
        s = synthetic_sample(f"synthetic:{i}", lm)
        d = root / lm.spec.classes[s.label] / f"clip{i}"
        d.mkdir(parents=True)
        for t, f in enumerate(s.frames):
            cv2.imwrite(str(d / f"{t:03d}.png"), f[:, :, ::-1])
    folder = reports.report([lm], str(root), queries=8)
    synthetic = reports.report([lm], f"synthetic:{CLIPS}", queries=8)
    by_clip = {c["input"].rsplit("clip", 1)[1]: c["models"][lm.label]["values"] for c in folder.clips}
    assert len(by_clip) == CLIPS and all(c["label"] is not None for c in folder.clips[0]["models"].values())
    for c in synthetic.clips:
        assert by_clip[str(c["index"])] == pytest.approx(c["models"][lm.label]["values"])


def test_help_explains_every_metric(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    for name, m in METRICS.items():
        assert f"{name} [{m.label}]" in text
    assert "--shard" in text and "--merge" in text and "bootstrap" in text and "Wilson" in text


def test_the_zoo_table_goes_between_the_markers_and_write_table_keeps_it(models, full, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# zoo\n\nold cards\n\n{report_section(readme)}\n\nnotes\n")
    assert "Not measured yet" in readme.read_text()
    assert main(["report", "--merge", str(full), "--out", str(tmp_path / "m"), "--table", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# zoo\n\nold cards\n\n" + TABLE_BEGIN) and text.endswith(TABLE_END + "\n\nnotes\n")
    assert "| tiny_nl_embedded | layer3.nl0 | softmax |" in text and "| tiny_baseline | — | — |" in text
    assert "Not measured yet" not in text
    section = report_section(readme)
    card = {
        "nlviz_card": 1,
        "name": "m",
        "task": {"name": "spacetime"},
        "arch": "tiny_c2d",
        "operator": "nonlocal",
        "params": 1000,
        "flops": 2e6,
        "training_time_s": 60,
        # a card without weights: the figures write_table would otherwise measure are in it already
        "metrics": {
            "top1": 0.5,
            "eval_num": 10,
            "subset": {"num": 10, "top1": 0.5},
            "fresh_seed": {"seed": 7, "num": 10, "top1": 0.5},
        },
    }
    (tmp_path / "m.json").write_text(json.dumps(card))
    write_table(tmp_path)  # the cards' table is rewritten, the report's section kept as it was
    text = readme.read_text()
    assert "| m | spacetime | tiny_c2d | nonlocal |" in text and section in text
    assert "| 0.500 | 0.500 (0.0 SE) |" in text  # top-1 and the fresh-seed figure
