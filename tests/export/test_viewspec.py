"""ViewSpec: defaults, JSON round trip, and errors that name the bad field."""

from __future__ import annotations

import json

import pytest

from nlviz.viewspec import VERSION, QuerySpec, SpecError, ViewSpec


def test_round_trip_and_aliases(tmp_path):
    spec = ViewSpec.from_dict(
        {
            "version": VERSION,
            "model": "st_nl_embedded",
            "block": "layer3.0.nl",
            "queries": {"mode": "explicit", "points": [[3, 10, 12.5]], "units": "pixels"},
            "k": 8,
            "colormap": "magma",
            "normalization": [0, 0.5],
            "groups": 1,
            "frames": [3, 0, 3],
            "formats": ["png", "mp4", "png"],
            "input_size": 32,
        }
    )
    assert spec.models == ("st_nl_embedded",) and spec.blocks == ("layer3.0.nl",)
    assert spec.queries.points == ((3, 10.0, 12.5),) and spec.frames == (0, 3) and spec.formats == ("png", "mp4")
    assert spec.normalization == (0.0, 0.5)
    path = spec.save(tmp_path / "view.json")
    assert ViewSpec.load(path) == spec
    assert json.loads(path.read_text())["queries"] == {"mode": "explicit", "points": [[3, 10, 12.5]], "units": "pixels"}
    default = ViewSpec()
    assert default.queries == QuerySpec(mode="auto", k=4, by="attended") and default.k == 20
    assert ViewSpec.from_dict(default.to_dict()) == default
    assert ViewSpec.from_dict({"version": 1, "queries": "all"}).queries.mode == "all"


@pytest.mark.parametrize(
    ("patch", "field", "words"),
    [
        ({"k": 0}, "k", "integer >= 1"),
        ({"k": "5"}, "k", "integer"),
        ({"colormap": "rainbow"}, "colormap", "allowed"),
        ({"formats": ["png", "gif"]}, "formats[1]", "'gif' is not allowed"),
        ({"formats": []}, "formats", "non-empty"),
        ({"queries": {"mode": "explicit", "points": [[1, 2]]}}, "queries.points[0]", "3 numbers"),
        ({"queries": {"mode": "explicit"}}, "queries.points", "at least one"),
        ({"queries": {"mode": "explicit", "points": [[0, 1.5, 2]], "units": "cells"}}, "queries.points[0]", "integers"),
        ({"queries": {"mode": "auto", "by": "loudest"}}, "queries.by", "allowed"),
        ({"queries": {"mode": "grid", "n": 0}}, "queries.n", "integer"),
        ({"queries": {"mode": "grid", "size": 3}}, "queries.size", "unknown field"),
        ({"normalization": [1, 0]}, "normalization", "vmin must be below vmax"),
        ({"normalization": "row"}, "normalization", "allowed"),
        ({"groups": "sum"}, "groups", "allowed"),
        ({"frames": [0, -1]}, "frames[1]", "integer >= 0"),
        ({"frames": 0}, "frames", "integer >= 1"),
        ({"blocks": []}, "blocks", "non-empty"),
        ({"models": [3]}, "models[0]", "must be a zoo name, a checkpoint path or an object"),
        ({"models": 3}, "models", "list of zoo names"),
        ({"models": ["a", {"model": "m.py:build", "wieghts": "w"}]}, "models[1]", "unknown field(s) ['wieghts']"),
        ({"models": [{"weights": "w.pth"}]}, "models[0]", "a model from code is an object"),
        ({"models": [{"model": "m.py:build", "input": {"size": -1}}]}, "models[0]", "size must be a positive"),
        ({"fps": 0}, "fps", "(0, 240]"),
        ({"plotlyjs": "cdn"}, "plotlyjs", "allowed"),
        ({"version": 2}, "version", "version 1"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"model": "a", "models": ["b"]}, "model", "not both"),
    ],
)
def test_bad_fields_are_named(patch, field, words):
    with pytest.raises(SpecError) as e:
        ViewSpec.from_dict({"version": VERSION, **patch})
    assert e.value.field == field and f"ViewSpec field {field!r}" in str(e.value) and words in str(e.value)


def test_missing_version_and_files(tmp_path):
    with pytest.raises(SpecError, match="'version': missing"):
        ViewSpec.from_dict({"k": 3})
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "k": -2}')
    with pytest.raises(SpecError, match=r"'k'.*bad\.json"):
        ViewSpec.load(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ViewSpec.load(bad)
    with pytest.raises(ValueError, match="not found"):
        ViewSpec.load(tmp_path / "none.json")


def test_override_keeps_unset_fields_and_validates():
    spec = ViewSpec(models=("a",), k=5, colormap="magma")
    out = spec.override(k=7, colormap=None, formats=("json",))
    assert (out.k, out.colormap, out.formats, out.models) == (7, "magma", ("json",), ("a",))
    with pytest.raises(SpecError, match="'k'"):
        spec.override(k=-1)
    with pytest.raises(SpecError, match="'top_k'"):
        spec.override(top_k=3)


def test_models_from_code_are_object_entries_that_round_trip(tmp_path):
    from nlviz.run import InputSpec, UserModel

    entry = {"model": "my_model.py:build", "weights": "w.pth", "input": {"frames": 4, "size": 64}, "args": {"w": 2}}
    spec = ViewSpec.from_dict({"version": VERSION, "models": ["st_nl_embedded", entry, "pkg.nets:build"]})
    assert spec.models == (
        "st_nl_embedded",
        UserModel("my_model.py:build", "w.pth", {"w": 2}, InputSpec(frames=4, size=64)),
        UserModel("pkg.nets:build"),  # a factory string is an entry with the factory's own weights
    )
    assert spec.to_dict()["models"][1]["input"]["size"] == 64 and spec.to_dict()["models"][2] == {
        "model": "pkg.nets:build"
    }
    spec.save(tmp_path / "view.json")
    again = ViewSpec.load(tmp_path / "view.json")
    assert again == spec and again.to_dict() == spec.to_dict() and hash(again) == hash(spec)
