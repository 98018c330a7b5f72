"""nlviz.export.run: mixed real inputs, manifest, determinism, formats, resume after a kill, shards, workers."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import nlviz.export.batch as export
import nlviz.export.job as job
from nlviz.data import read_clip
from nlviz.export import expand_inputs, run
from nlviz.viewspec import SpecError, ViewSpec
from support.checkpoints import save_tiny_c2d
from support.export_inputs import mixed_folder, temp_files


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    return str(save_tiny_c2d(tmp_path_factory.mktemp("ckpt") / "tiny"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, dict[str, bool]]:
    root = tmp_path_factory.mktemp("inputs")
    return root, mixed_folder(root)


def spec_of(ckpt: str, **kw) -> ViewSpec:
    base = {"models": (ckpt,), "queries": {"mode": "grid", "n": 2}, "k": 5, "formats": ("png", "json")}
    return ViewSpec(**{**base, **kw})


def strip_seconds(manifest: dict) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "seconds"} for e in manifest["inputs"]]


def test_mixed_folder_good_inputs_get_files_bad_ones_readable_errors(ckpt, folder, tmp_path):
    root, expected = folder
    manifest = run(spec_of(ckpt), [str(root)], tmp_path / "out", progress=False)
    entries = {Path(e["input"]).name: e for e in manifest["inputs"]}
    assert set(entries) == set(expected)  # notes.txt is not an input
    assert manifest["counts"] == {"done": 4, "error": 3, "pending": 0}
    for name, ok in expected.items():
        e = entries[name]
        assert e["status"] == ("done" if ok else "error") and e["seconds"] >= 0
        if ok:
            assert e["error"] is None and len(e["outputs"]) == 4 * 2 + 5  # 4 queries × (arrows, heatmap) + 5
            assert all((tmp_path / "out" / o).stat().st_size > 0 for o in e["outputs"])
        else:
            assert e["outputs"] == [] and name in e["error"] and e["error"].startswith("InputError: ")
            assert not (tmp_path / "out" / e["id"]).exists()
    assert "is empty (0 bytes)" in entries["f_empty.mp4"]["error"]
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk == manifest and [e["index"] for e in on_disk["inputs"]] == list(range(7))
    assert temp_files(tmp_path / "out") == []


def test_explicit_source_pixel_query_lands_in_the_right_cell(ckpt, folder, tmp_path):
    root, _ = folder
    spec = spec_of(ckpt, queries={"mode": "explicit", "points": [[3, 30, 40]], "units": "pixels"})
    m = run(spec, [str(root / "b_h264.mp4")], tmp_path, progress=False)
    assert m["counts"]["done"] == 1
    rec = json.loads((tmp_path / "b_h264_mp4" / "tiny__layer3.nl0.json").read_text())
    # 4 of the 5 source frames sampled; 48×64 resized to 32×43 (x crop offset 5); grid 8×8 on 32×32 (stride 4)
    geo = read_clip(root / "b_h264.mp4", frames=4, size=32).geometry
    assert 3 in geo.frame_indices and geo.crop_box == (0, 5, 32, 37)
    t, y, x = geo.from_source(3, 30.0, 40.0)
    q = rec["queries"][0]
    assert q["cell"] == [int(t), int(np.floor((y + 0.5) / 4)), int(np.floor((x + 0.5) / 4))]
    assert q["source"]["frames"] == [3] and len(q["topk"]) == 5
    assert rec["kind"] == "softmax" and rec["weights_label"] == "softmax weight (rows sum to 1)"
    arrays = np.load(tmp_path / "b_h264_mp4" / "tiny__layer3.nl0.npz")
    assert arrays["weights"].shape == (1, 1, 4, 8, 8)
    np.testing.assert_allclose(arrays["weights"][0, 0].sum(), 1.0, atol=1e-5)  # a softmax row
    np.testing.assert_allclose(arrays["topk_weights"][0], [w["weight"] for w in q["topk"]], rtol=1e-6)


def test_identical_inputs_and_spec_give_byte_identical_png_and_json(ckpt, folder, tmp_path):
    root, _ = folder
    inputs = ["synthetic:2", str(root / "a_mjpg.avi")]
    m1 = run(spec_of(ckpt), inputs, tmp_path / "one", progress=False)
    m2 = run(spec_of(ckpt), inputs, tmp_path / "two", progress=False)
    outs = [o for e in m1["inputs"] for o in e["outputs"]]
    assert outs == [o for e in m2["inputs"] for o in e["outputs"]]
    assert any(o.endswith(".png") for o in outs) and any(o.endswith(".json") for o in outs)
    for o in outs:
        assert (tmp_path / "one" / o).read_bytes() == (tmp_path / "two" / o).read_bytes(), o
    assert strip_seconds(m1) == strip_seconds(m2)


def test_mp4_html_and_npz_formats(ckpt, tmp_path):
    spec = spec_of(ckpt, formats=("mp4", "html", "json"), queries={"mode": "auto", "k": 2})
    m = run(spec, ["synthetic:1"], tmp_path, progress=False)
    out = m["inputs"][0]["outputs"]
    assert "synthetic-0/tiny__layer3.nl0.mp4" in out and "synthetic-0/tiny__layer3.nl0.html" in out
    cap = cv2.VideoCapture(str(tmp_path / "synthetic-0" / "tiny__layer3.nl0.mp4"))
    n, size = 0, None
    while True:
        ok, f = cap.read()
        if not ok:
            break
        n, size = n + 1, f.shape
    assert n == 4 and size[0] % 2 == 0 and size[1] % 2 == 0  # one video frame per model-input frame
    page = (tmp_path / "synthetic-0" / "tiny__layer3.nl0.html").read_text()
    assert "cdn.plot.ly" not in page and '<script src="../plotly.min.js"></script>' in page
    assert page.count('id="nlviz-fig-') == 2 * 2 + 1  # arrows + heatmap per query, profile
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000
    inline = run(
        spec.override(plotlyjs="inline", formats=("html",)), ["synthetic:1"], tmp_path / "inline", progress=False
    )
    page = (tmp_path / "inline" / inline["inputs"][0]["outputs"][0]).read_text()
    assert "<script src=" not in page and len(page) > 1_000_000 and not (tmp_path / "inline" / "plotly.min.js").exists()


def test_views_choose_what_png_and_html_show(ckpt, tmp_path):
    spec = spec_of(ckpt, views=("arrows",), formats=("png", "html"), queries={"mode": "grid", "n": 1})
    m = run(spec, ["synthetic:1"], tmp_path, progress=False)
    assert m["inputs"][0]["outputs"] == [
        "synthetic-0/tiny__layer3.nl0.html",
        "synthetic-0/tiny__layer3.nl0_q00_arrows.png",
    ]
    page = (tmp_path / "synthetic-0" / "tiny__layer3.nl0.html").read_text()
    assert page.count('id="nlviz-fig-') == 1


def test_resume_skips_finished_inputs_and_redoes_missing_files(ckpt, tmp_path, monkeypatch):
    first = run(spec_of(ckpt), ["synthetic:3"], tmp_path, progress=False)
    calls = []
    real = export.process
    monkeypatch.setattr(export, "process", lambda it, *a: calls.append(it.id) or real(it, *a))
    again = run(spec_of(ckpt), ["synthetic:3"], tmp_path, resume=True, progress=False)
    assert calls == [] and again == first
    (tmp_path / first["inputs"][1]["outputs"][0]).unlink()
    run(spec_of(ckpt), ["synthetic:3"], tmp_path, resume=True, progress=False)
    assert calls == ["synthetic-1"]
    with pytest.raises(ValueError, match="different ViewSpec"):
        run(spec_of(ckpt, k=3), ["synthetic:3"], tmp_path, resume=True, progress=False)


def test_killed_run_then_resume_equals_a_clean_run(ckpt, tmp_path, monkeypatch):
    clean = run(spec_of(ckpt), ["synthetic:3"], tmp_path / "clean", progress=False)
    real = job.render_input

    def dies_on_second(source, input_id, spec, models, out_dir):
        if input_id == "synthetic-1":
            (Path(out_dir) / input_id).mkdir(parents=True, exist_ok=True)
            (Path(out_dir) / input_id / ".tiny__layer3.nl0_q00_arrows.tmp-999.png").write_bytes(b"\x89PNG half")
            raise KeyboardInterrupt  # the run is killed while writing the second input
        return real(source, input_id, spec, models, out_dir)

    monkeypatch.setattr(job, "render_input", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        run(spec_of(ckpt), ["synthetic:3"], tmp_path / "run", progress=False)
    partial = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [e["status"] for e in partial["inputs"]] == ["done", "pending", "pending"]
    monkeypatch.setattr(job, "render_input", real)
    resumed = run(spec_of(ckpt), ["synthetic:3"], tmp_path / "run", resume=True, progress=False)
    assert strip_seconds(resumed) == strip_seconds(clean)
    assert resumed["inputs"][0]["seconds"] == partial["inputs"][0]["seconds"]  # not redone
    assert temp_files(tmp_path / "run") == []
    files = sorted(
        p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*.*") if ".nlviz" not in p.parts
    )
    assert files == sorted(
        p.relative_to(tmp_path / "clean").as_posix()
        for p in (tmp_path / "clean").rglob("*.*")
        if ".nlviz" not in p.parts
    )


def test_shards_partition_the_inputs(ckpt, tmp_path):
    items = expand_inputs(["synthetic:5"])
    parts = [[it.index for it in items[i::3]] for i in range(3)]
    assert sorted(sum(parts, [])) == list(range(5)) and parts == [[0, 3], [1, 4], [2]]
    a = run(spec_of(ckpt), ["synthetic:5"], tmp_path, shard="0/2", progress=False)
    assert [e["status"] for e in a["inputs"]] == ["done", "pending", "done", "pending", "done"]
    b = run(spec_of(ckpt), ["synthetic:5"], tmp_path, shard=(1, 2), progress=False)
    assert b["counts"] == {"done": 5, "error": 0, "pending": 0}
    assert [e["seconds"] for i, e in enumerate(b["inputs"]) if i % 2 == 0] == [
        e["seconds"] for i, e in enumerate(a["inputs"]) if i % 2 == 0
    ]  # shard 1 did not redo shard 0's inputs
    for bad in ("2/2", "1", "a/b", "0/0"):
        with pytest.raises(ValueError, match="--shard"):
            run(spec_of(ckpt), ["synthetic:1"], tmp_path, shard=bad, progress=False)


def test_workers_run_processes_and_give_the_same_files(ckpt, tmp_path):
    one = run(spec_of(ckpt), ["synthetic:2"], tmp_path / "one", progress=False)
    two = run(spec_of(ckpt), ["synthetic:2"], tmp_path / "two", workers=2, progress=False)
    assert two["counts"]["done"] == 2 and strip_seconds(one) == strip_seconds(two)
    for o in (o for e in one["inputs"] for o in e["outputs"]):
        assert (tmp_path / "one" / o).read_bytes() == (tmp_path / "two" / o).read_bytes(), o


def test_comparison_of_two_models_and_block_stats(ckpt, tmp_path):
    other = save_tiny_c2d(tmp_path / "bat", "bat", {"block_size": 4, "groups": 2, "dim": 3}, seed=1)
    m = run(
        spec_of(ckpt, models=(ckpt, str(other)), queries={"mode": "grid", "n": 1}),
        ["synthetic:1"],
        tmp_path / "out",
        progress=False,
    )
    out = set(m["inputs"][0]["outputs"])
    assert {
        "synthetic-0/compare_q00.png",
        "synthetic-0/blocks.png",
        "synthetic-0/blocks.json",
        "synthetic-0/bat__layer3.nl0_q00_bat.png",
    } <= out
    stats = json.loads((tmp_path / "out" / "synthetic-0" / "blocks.json").read_text())["blocks"]
    assert set(stats) == {"tiny layer3.nl0", "bat layer3.nl0"}


def test_bad_model_block_and_input_arguments_fail_early(ckpt, tmp_path):
    with pytest.raises(SpecError, match="'models'"):
        run(ViewSpec(), ["synthetic:1"], tmp_path, progress=False)
    with pytest.raises(ValueError, match="'blocks': none of"):
        run(spec_of(ckpt, blocks=("layer9",)), ["synthetic:1"], tmp_path, progress=False)
    with pytest.raises(ValueError, match="matches no file"):
        run(spec_of(ckpt), [str(tmp_path / "*.mkv")], tmp_path, progress=False)
    with pytest.raises(ValueError, match="synthetic:N"):
        run(spec_of(ckpt), ["synthetic:x"], tmp_path, progress=False)
    with pytest.raises(ValueError, match="workers"):
        run(spec_of(ckpt), ["synthetic:1"], tmp_path, workers=0, progress=False)
    m = run(spec_of(ckpt), [str(tmp_path / "missing.mp4")], tmp_path / "o", progress=False)
    assert m["inputs"][0]["status"] == "error" and "file not found" in m["inputs"][0]["error"]


def test_input_ids_are_unique_and_stable(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    for d in ("x", "y"):
        (tmp_path / d / "clip.mp4").write_bytes(b"")
    items = expand_inputs([str(tmp_path / "*" / "clip.mp4"), "synthetic:2", f"frames:{tmp_path / 'x'}"])
    assert [it.id for it in items] == ["clip_mp4", "clip_mp4-2", "synthetic-0", "synthetic-1", "x"]
