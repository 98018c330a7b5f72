"""Models from code: ``nlviz.load_model("file.py:build", weights=...)`` gives the in-memory model's logits and
captured rows; the ``pkg.module:build`` form; weights as .safetensors or wrapped pickles; and every error names
the file or factory and the problem."""

from __future__ import annotations

import json

import pytest
import torch

import nlviz
from nlviz.run import InputSpec, UserModel, describe, forward, read_input
from support.factories import SPEC, TASK, saved_model, write_factory

pytest.importorskip("mmcv.cnn.bricks.non_local", reason="mmcv-lite (requirements-ref.txt)")


def _rows(model, x):
    with torch.no_grad(), nlviz.capture(model) as rec:
        logits = model(x)
    return logits, rec, rec.affinity("nl").weights


@pytest.mark.parametrize(
    "suffix,wrap", [(".pth", "state_dict"), (".pth", "model"), (".pth", None), (".safetensors", None)]
)
def test_file_factory_equals_the_in_memory_model(tmp_path, suffix, wrap):
    ref, weights = saved_model(tmp_path, wrap=wrap, suffix=suffix)
    model = nlviz.load_model(f"{tmp_path}/usernet.py:build", weights=weights, input_spec=SPEC)
    assert not model.training and type(model).__name__ == "Net"
    x = torch.randn(2, 3, 32, 32)
    want_logits, want_rec, want_rows = _rows(ref, x)
    logits, rec, rows = _rows(model, x)
    assert rec.blocks == want_rec.blocks == ["nl"]
    torch.testing.assert_close(logits, want_logits, rtol=0, atol=0)
    torch.testing.assert_close(rows, want_rows, rtol=0, atol=0)
    assert rows.shape == (2, 1, 256, 1, 16, 16) and float(rows.std()) > 0  # every row of a 16×16 grid, not uniform


def test_card_describes_the_model_and_describe_reads_its_spec(tmp_path):
    _, weights = saved_model(tmp_path)
    spec = InputSpec(video=False, size=32, mean=0.5, std=0.25, classes=("a", "b", "c", "d"))
    model = nlviz.load_model(f"{tmp_path}/usernet.py:build", weights=weights, input_spec=spec, args={"width": 8})
    card = model.card
    assert card["factory"] == f"{tmp_path}/usernet.py:build" and card["weights"] == str(weights)
    assert card["args"] == {"width": 8} and card["classes"] == ["a", "b", "c", "d"]
    assert card["input"] == {"shape": [3, 32, 32], "mean": [0.5] * 3, "std": [0.25] * 3}
    lm = describe("mine", model)
    assert lm.spec == spec and lm.blocks == ["nl"] and lm.task is None
    assert lm.entry == UserModel(card["factory"], str(weights), {"width": 8}, spec, None, card["name"])


def test_a_task_makes_synthetic_inputs_and_names_the_classes(tmp_path):
    ref, weights = saved_model(tmp_path)
    lm = nlviz.run.load(UserModel(f"{tmp_path}/usernet.py:build", str(weights), input=SPEC, task=TASK))
    assert lm.task["name"] == "image" and lm.task["params"]["size"] == 32  # the task follows the spec's size
    assert lm.spec.classes == ("top-left", "top-right", "bottom-left", "bottom-right")
    clip = read_input("synthetic:2", lm)
    out = forward(lm, clip)
    x = clip.image_tensor(0, SPEC["mean"], SPEC["std"])
    with torch.no_grad():
        torch.testing.assert_close(out.logits, ref(x), rtol=0, atol=0)


def test_module_factory_form(tmp_path, monkeypatch):
    pkg = tmp_path / "mypkg"
    write_factory(pkg, "nets")
    (pkg / "__init__.py").write_text("")
    ref, weights = saved_model(pkg)  # same text, so the same model and weights
    monkeypatch.syspath_prepend(str(tmp_path))
    model = nlviz.load_model("mypkg.nets:build", weights=weights)
    x = torch.randn(1, 3, 24, 40)
    torch.testing.assert_close(_rows(model, x)[2], _rows(ref, x)[2], rtol=0, atol=0)
    assert model.card["factory"] == "mypkg.nets:build"


def test_module_factory_found_in_the_current_folder(tmp_path, monkeypatch):
    write_factory(tmp_path / "cwdpkg", "nets")
    (tmp_path / "cwdpkg" / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", str(tmp_path))])
    assert nlviz.load_model("cwdpkg.nets:build").card["factory"] == "cwdpkg.nets:build"


def test_an_edited_factory_file_is_imported_again(tmp_path):
    path = write_factory(tmp_path)
    assert nlviz.load_model(f"{path}:build").head.out_features == 4
    path.write_text(path.read_text().replace("def build(width=8, classes=4)", "def build(width=8, classes=7)"))
    assert nlviz.load_model(f"{path}:build").head.out_features == 7


def test_device_and_zoo_names_still_load(tmp_path):
    model = nlviz.load_model("st_nl_embedded", device="cpu")
    assert model.card["name"] == "st_nl_embedded" and not model.training
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.parametrize(
    "source,kwargs,message",
    [
        ("{d}/nope.py:build", {}, "{d}/nope.py file not found"),
        (
            "{d}/usernet.py:bulid",
            {},
            "has no attribute 'bulid'; callables defined there: ['Net', 'NonLocal2d', 'broken', 'build'",
        ),
        ("{d}/usernet.py:not_a_module", {}, "the factory returned a dict, not a torch.nn.Module"),
        ("{d}/usernet.py:broken", {}, "the factory raised RuntimeError: out of coffee (usernet.py, line 27)"),
        ("{d}/usernet.py:LIMIT", {}, "LIMIT is a int, not a callable that builds a model"),
        ("{d}/usernet.py:build", {"args": {"depth": 3}}, "unexpected keyword argument 'depth'"),
        ("nosuchpkg_xyz.nets:build", {}, "no module named 'nosuchpkg_xyz'"),
        ("{d}/usernet.py:build", {"weights": "{d}/missing.pth"}, "{d}/missing.pth: weights file not found"),
        ("st_nl_embedded", {"weights": "{d}/w.pth"}, "weights apply to a model from code"),
    ],
)
def test_errors_name_the_file_and_the_problem(tmp_path, source, kwargs, message):
    saved_model(tmp_path)
    d = str(tmp_path)
    kwargs = {k: (v.format(d=d) if isinstance(v, str) else v) for k, v in kwargs.items()}
    with pytest.raises(ValueError) as e:
        nlviz.load_model(source.format(d=d), **kwargs)
    assert message.format(d=d) in str(e.value)


def test_a_file_that_fails_to_import_says_where(tmp_path):
    (tmp_path / "bad.py").write_text("import torch\n\nx = 1 +\n")
    with pytest.raises(ValueError, match=r"bad.py has a syntax error at line 3"):
        nlviz.load_model(f"{tmp_path}/bad.py:build")
    (tmp_path / "boom.py").write_text("import torch\n\nraise ImportError('needs timm')\n")
    with pytest.raises(ValueError, match=r"importing .*boom.py failed: ImportError: needs timm \(boom.py, line 3\)"):
        nlviz.load_model(f"{tmp_path}/boom.py:build")


def test_strict_load_lists_missing_and_unexpected_keys(tmp_path):
    ref, _ = saved_model(tmp_path)
    state = ref.state_dict()
    state["extra.weight"] = torch.zeros(2)
    del state["head.bias"]
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ValueError) as e:
        nlviz.load_model(f"{tmp_path}/usernet.py:build", weights=tmp_path / "bad.pth")
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path}/bad.pth: weights do not match the model {tmp_path}/usernet.py:build builds")
    assert "missing keys (1): ['head.bias']" in msg and "unexpected keys (1): ['extra.weight']" in msg
    torch.save({"head.weight": torch.zeros(9, 9)}, tmp_path / "shape.pth")
    with pytest.raises(ValueError, match=r"shape mismatches: \['head.weight: checkpoint \(9, 9\) vs model \(4, 8\)'\]"):
        nlviz.load_model(f"{tmp_path}/usernet.py:build", weights=tmp_path / "shape.pth")


def test_weights_are_read_without_running_code(tmp_path):
    saved_model(tmp_path)

    class Evil:
        def __reduce__(self):
            return (exec, ("open(r'%s', 'w').write('ran')" % (tmp_path / "pwned"),))

    torch.save({"state_dict": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="evil.pth"):
        nlviz.load_model(f"{tmp_path}/usernet.py:build", weights=tmp_path / "evil.pth")
    assert not (tmp_path / "pwned").exists()


def test_bad_input_spec_json_names_the_file(tmp_path):
    saved_model(tmp_path)
    factory = f"{tmp_path}/usernet.py:build"
    (tmp_path / "broken.json").write_text('{"size": 32,')
    with pytest.raises(ValueError, match=r"broken.json"):
        nlviz.load_model(factory, input_spec=tmp_path / "broken.json")
    (tmp_path / "unknown.json").write_text(json.dumps({"size": 32, "colour": "rgb"}))
    with pytest.raises(ValueError, match=r"unknown.json: unknown field\(s\) \['colour'\]"):
        nlviz.load_model(factory, input_spec=tmp_path / "unknown.json")
    (tmp_path / "std.json").write_text(json.dumps({"std": [0.2, 0.0, 0.2]}))
    with pytest.raises(ValueError, match=r"std.json: std=\[0.2, 0.0, 0.2\] must be finite and > 0"):
        nlviz.load_model(factory, input_spec=str(tmp_path / "std.json"))
    with pytest.raises(ValueError, match=r"input spec file not found"):
        nlviz.load_model(factory, input_spec=tmp_path / "none.json")
