"""``UserModel``: the JSON entry of a model from code round-trips, bad entries name the field, and a synthetic task
is made to fit the input spec (or refused, saying why)."""

from __future__ import annotations

import pytest

from nlviz.run import InputSpec, UserModel, is_factory, label_of, parse_factory


def test_factory_names_and_labels(tmp_path):
    assert parse_factory("dir/my_model.py:build") == ("dir/my_model.py", "build", True)
    assert parse_factory("pkg.nets:Net.create") == ("pkg.nets", "Net.create", False)
    assert is_factory("my_model.py:build") and is_factory("pkg.nets:build")
    assert not any(is_factory(s) for s in ("st_nl_embedded", "models/i3d.json", "synthetic:3", "C:\\x.pth", "a:1"))
    odd = tmp_path / "odd.py:build"
    odd.write_text("")
    assert not is_factory(str(odd))  # an existing file is a file
    assert label_of("dir/my_model.py:build") == "my_model.build" and label_of("pkg.nets:build") == "pkg.nets.build"
    with pytest.raises(ValueError, match="is not a model factory: write path/to/file.py:NAME or pkg.module:NAME"):
        parse_factory("my_model.py")


def test_entries_round_trip_through_json():
    um = UserModel(
        "my_model.py:build",
        "w.pth",
        {"width": 16},
        InputSpec(frames=4, size=64, mean=0.5, std=0.25),
        "spacetime",
        "mine",
    )
    d = um.to_dict()
    assert d == {
        "model": "my_model.py:build",
        "weights": "w.pth",
        "args": {"width": 16},
        "input": {
            "video": True,
            "frames": 4,
            "size": 64,
            "channels": 3,
            "mean": [0.5] * 3,
            "std": [0.25] * 3,
            "classes": None,
        },
        "task": {"name": "spacetime", "params": {}},
        "name": "mine",
    }
    assert UserModel.from_dict(d) == um and hash(UserModel.from_dict(d)) == hash(um)
    assert UserModel.from_dict({"model": "pkg.nets:build"}).to_dict() == {"model": "pkg.nets:build"}


def test_input_may_be_a_spec_file(tmp_path):
    (tmp_path / "names.txt").write_text("cat\ndog\n")
    (tmp_path / "spec.json").write_text('{"video": false, "size": 48, "classes": "names.txt"}')
    um = UserModel.from_dict({"model": "m.py:build", "input": str(tmp_path / "spec.json")})
    assert um.input == InputSpec(video=False, size=48, classes=("cat", "dog"))


@pytest.mark.parametrize(
    "entry,message",
    [
        ({"weights": "w.pth"}, "a model from code is an object like"),
        ({"model": "m.py:build", "weight": "w.pth"}, r"unknown field\(s\) \['weight'\]"),
        ({"model": "m.py:build", "args": [1]}, "args must be a JSON object of keyword arguments"),
        ({"model": "m.py:build", "input": {"size": 0}}, "size must be a positive integer"),
        ({"model": "m.py:build", "task": 3}, "task must be a name or"),
        ({"model": "m.py"}, "is not a model factory"),
    ],
)
def test_bad_entries_name_the_problem(entry, message):
    with pytest.raises(ValueError, match=message) as e:
        UserModel.from_dict(entry, where="models[1]")
    assert str(e.value).startswith("models[1]: ")


def test_a_task_follows_the_input_spec():
    spec, task = UserModel("m.py:build", input=InputSpec(frames=6, size=40), task="spacetime").resolve()
    assert task["params"]["frames"] == 6 and task["params"]["size"] == 40
    assert spec.classes == ("top-left", "top-right", "bottom-left", "bottom-right")
    spec, task = UserModel("m.py:build", input=InputSpec(video=False), task="image").resolve()
    assert spec.size == task["params"]["size"] == 48  # a spec without a size takes the task's
    assert UserModel("m.py:build").resolve() == (InputSpec(), None)


@pytest.mark.parametrize(
    "spec,task,message",
    [
        (
            InputSpec(size=64),
            {"name": "spacetime", "params": {"size": 32}},
            "has size 32 but the model input has size 64",
        ),
        (InputSpec(video=False, size=64), "spacetime", "gives video clips but the model takes images: drop --image"),
        (InputSpec(size=64), "image", "gives images but the model takes video clips: add --image"),
        (InputSpec(classes=("a", "b")), "spacetime", "has 4 classes"),
        (InputSpec(frames=4), {"name": "spacetime", "params": {"radius": 9}}, "size=32 must be an integer >= 72"),
        (InputSpec(), "mnist", "model 'm.py:build': task 'mnist': unknown .*'mnist'; valid: image, spacetime"),
    ],
)
def test_a_task_that_cannot_feed_the_model_is_refused(spec, task, message):
    with pytest.raises(ValueError, match=message):
        UserModel("m.py:build", input=spec, task=task).resolve()
