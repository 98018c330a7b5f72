"""`nlviz export --format svg,pdf`: vector figures of every query and comparison, at the --paper-width asked for,
named like the PNGs; a bad width is a usage error that says what is accepted; ViewSpec's paper_width field."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest

from nlviz.cli.main import main
from nlviz.export import run
from nlviz.viewspec import SpecError, ViewSpec
from support.checkpoints import save_tiny_c2d

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("ckpt")
    return [
        str(save_tiny_c2d(folder / "tiny")),
        str(save_tiny_c2d(folder / "tiny_dot", options={"mode": "dot_product"}, seed=1)),
    ]


def pdf_width(data: bytes) -> float:
    return float(pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox.width)


def test_export_writes_svg_and_pdf_of_each_query_and_the_comparison(ckpts, tmp_path):
    out = tmp_path / "o"
    args = ["export", "--model", ckpts[0], "--model", ckpts[1], "--input", "synthetic:1", "--out", str(out)]
    args += ["--query", "1,10,12", "--format", "svg,pdf", "--paper-width", "single", "--quiet"]
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["formats"] == ["svg", "pdf"] and manifest["spec"]["paper_width"] == "single"
    assert manifest["inputs"][0]["outputs"] == [
        f"synthetic-0/{name}.{ext}"
        for name in ("compare_q00", "tiny__layer3.nl0_q00_arrows", "tiny_dot__layer3.nl0_q00_arrows")
        for ext in ("pdf", "svg")
    ]
    folder = out / "synthetic-0"
    for name in ("compare_q00", "tiny__layer3.nl0_q00_arrows"):
        svg = ET.fromstring((folder / f"{name}.svg").read_bytes())
        assert float(svg.get("width").removesuffix("pt")) == pytest.approx(3.25 * 72, abs=1)
        assert pdf_width((folder / f"{name}.pdf").read_bytes()) == pytest.approx(3.25 * 72, abs=1)
    assert main([*args[:8], str(tmp_path / "rows"), *args[9:], "--compare-scale", "per_row"]) == 0
    rows = json.loads((tmp_path / "rows" / "manifest.json").read_text())
    assert rows["spec"]["compare_scale"] == "per_row" and manifest["spec"]["compare_scale"] == "shared"
    per_row = (tmp_path / "rows" / "synthetic-0" / "compare_q00.svg").read_bytes()
    assert per_row != (folder / "compare_q00.svg").read_bytes()  # other scales, other colors
    assert (tmp_path / "rows" / "synthetic-0" / "tiny__layer3.nl0_q00_arrows.svg").read_bytes() == (
        folder / "tiny__layer3.nl0_q00_arrows.svg"
    ).read_bytes()


def test_the_same_spec_writes_the_same_bytes(ckpts, tmp_path):
    spec = ViewSpec(models=(ckpts[0],), formats=("pdf", "svg"), queries={"mode": "grid", "n": 2}, paper_width="9cm")
    a = run(spec, ["synthetic:1"], tmp_path / "a", progress=False)
    b = run(spec, ["synthetic:1"], tmp_path / "b", progress=False)
    files = a["inputs"][0]["outputs"]
    assert files == b["inputs"][0]["outputs"] and len(files) == 8  # 4 queries × (svg, pdf)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert pdf_width((tmp_path / "a" / files[0]).read_bytes()) == pytest.approx(9 / 2.54 * 72, abs=1)


def test_a_bad_paper_width_is_a_usage_error_that_says_what_works(ckpts, tmp_path, capsys):
    base = ["export", "--model", ckpts[0], "--input", "synthetic:1", "--out", str(tmp_path / "o"), "--quiet"]
    for bad in ("wide", "30in", "3 furlongs"):
        assert main([*base, "--format", "pdf", "--paper-width", bad]) == 2
        err = capsys.readouterr().err
        assert f"--paper-width {bad!r}" in err and "'single' (3.25 in" in err and "'8.9cm'" in err, err
    assert not (tmp_path / "o").exists()
    (tmp_path / "view.json").write_text(json.dumps({"version": 1, "paper_width": "A4"}))
    assert main([*base, "--spec", str(tmp_path / "view.json")]) == 2
    assert "ViewSpec field 'paper_width'" in capsys.readouterr().err


def test_paper_width_in_the_viewspec():
    assert ViewSpec().paper_width == "double" and "svg" in ViewSpec(formats=("svg",)).formats
    spec = ViewSpec(paper_width=" Single ")
    assert spec.paper_width == "single" and ViewSpec.from_dict(spec.to_dict()) == spec
    assert ViewSpec(paper_width=3.5).to_dict()["paper_width"] == 3.5
    for bad in (True, None, [3], 0.5):
        with pytest.raises(SpecError, match="paper_width"):
            ViewSpec(paper_width=bad)
    with pytest.raises(SpecError, match="compare_scale.*per_row"):
        ViewSpec(compare_scale="row")


def test_resume_goes_on_with_a_spec_written_before_paper_width_existed(ckpts, tmp_path):
    spec = ViewSpec(models=(ckpts[0],), formats=("json",), queries={"mode": "grid", "n": 1})
    run(spec, ["synthetic:1"], tmp_path, progress=False)
    stored = tmp_path / ".nlviz" / "spec.json"
    old = json.loads(stored.read_text())
    del old["paper_width"]
    stored.write_text(json.dumps(old))
    assert run(spec, ["synthetic:1"], tmp_path, progress=False, resume=True)["counts"]["done"] == 1
    with pytest.raises(ValueError, match="different ViewSpec"):
        run(spec.override(k=3), ["synthetic:1"], tmp_path, progress=False, resume=True)


def test_min_fraction_leaves_weak_links_out_of_the_figures_and_the_records(ckpts, tmp_path):
    base = ["export", "--model", ckpts[1], "--input", "synthetic:1", "--query", "1,10,12", "--format", "json"]
    assert main([*base, "--out", str(tmp_path / "all"), "--quiet"]) == 0
    assert main([*base, "--out", str(tmp_path / "strong"), "--quiet", "--min-fraction", "0.9"]) == 0
    rec = "synthetic-0/tiny_dot__layer3.nl0.json"
    every = json.loads((tmp_path / "all" / rec).read_text())["queries"][0]["topk"]
    strong = json.loads((tmp_path / "strong" / rec).read_text())["queries"][0]["topk"]
    assert len(every) == 20 and 1 <= len(strong) < 20
    assert all(abs(t["weight"]) >= 0.9 * abs(every[0]["weight"]) for t in strong)  # dot products: signed
    assert strong == every[: len(strong)]
    with pytest.raises(SpecError, match="min_fraction"):
        ViewSpec(min_fraction=1.0)
