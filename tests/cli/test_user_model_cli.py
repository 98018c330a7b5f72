"""The user's own model on the command line: ``nlviz export`` / ``eval`` / ``app`` / ``train`` with ``--model
file.py:build --weights w.pth`` and its input flags, ``--workers``, ``--device``; every number checked against the
model built in memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import nlviz
from nlviz.cli.main import build_parser, main
from nlviz.data import make_task, read_clip
from support.factories import SPEC, saved_model

pytest.importorskip("mmcv.cnn.bricks.non_local", reason="mmcv-lite (requirements-ref.txt)")

SPEC_FLAGS = ["--image", "--size", "32", "--mean", "0.5", "--std", "0.25"]
TASK_FLAGS = ["--task", "image", "--task-params", '{"radius": 3}']


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """(factory, weights path, in-memory model)."""
    d = tmp_path_factory.mktemp("user")
    ref, weights = saved_model(d)
    return f"{d}/usernet.py:build", str(weights), ref


def _capture(model, x, cells):
    with torch.no_grad(), nlviz.capture(model) as rec:
        logits = model(x)
    return logits, rec.affinity("nl", cells)


def test_export_writes_the_rows_of_the_in_memory_model(user, tmp_path):
    factory, weights, ref = user
    out = tmp_path / "o"
    argv = ["export", "--model", factory, "--weights", weights, *SPEC_FLAGS, *TASK_FLAGS, "--device", "cpu"]
    argv += ["--input", "synthetic:2", "--out", str(out), "--format", "png,json", "--query", "0,10,12", "--quiet"]
    assert main(argv) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"done": 2, "error": 0, "pending": 0}
    entry = manifest["spec"]["models"][0]
    assert entry["model"] == factory and entry["weights"] == weights and entry["task"]["name"] == "image"
    files = manifest["inputs"][1]["outputs"]
    assert "synthetic-1/usernet.build__nl_q00_arrows.png" in files and "synthetic-1/usernet.build__nl.json" in files
    assert (out / "synthetic-1" / "usernet.build__nl_q00_heatmap.png").read_bytes()[:4] == b"\x89PNG"
    # the same clip, input and rows computed here: the task at the model's data seed (1), clip 1
    clip = make_task("image", radius=3, size=32).sample(1, 1).to_clip()
    x = clip.image_tensor(0, SPEC["mean"], SPEC["std"])
    _, aff = _capture(ref, x, [(0, 5, 6)])  # pixel (10, 12) is cell (5, 6) of the stride-2 grid
    arrays = np.load(out / "synthetic-1" / "usernet.build__nl.npz")
    np.testing.assert_array_equal(arrays["weights"], aff.weights[0].numpy())
    record = json.loads((out / "synthetic-1" / "usernet.build__nl.json").read_text())
    (query,) = record["queries"]
    assert query["cell"] == [0, 5, 6] and len(query["topk"]) == 20
    row = aff.weights[0, 0, 0].flatten()
    want = row.topk(20)
    np.testing.assert_allclose([t["weight"] for t in query["topk"]], want.values.numpy(), rtol=1e-6)
    assert [t["cell"][1] * 16 + t["cell"][2] for t in query["topk"]] == want.indices.tolist()


def test_workers_load_the_factory_and_the_spec_file_reproduces_the_export(user, tmp_path):
    factory, weights, _ = user
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    common = ["--model", factory, "--weights", weights, "--input-spec", str(tmp_path / "spec.json"), *TASK_FLAGS]
    common += ["--input", "synthetic:3", "--format", "json", "--grid", "2", "--quiet", "--device", "cpu"]
    assert main(["export", *common, "--out", str(tmp_path / "one")]) == 0
    assert main(["export", *common, "--out", str(tmp_path / "two"), "--workers", "2"]) == 0
    manifest = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert manifest["counts"]["done"] == 3
    view = tmp_path / "view.json"
    view.write_text(json.dumps(manifest["spec"]))  # the spec alone names the model, its weights and input
    assert (
        main(["export", "--spec", str(view), "--input", "synthetic:3", "--out", str(tmp_path / "three"), "--quiet"])
        == 0
    )
    for i in range(3):
        name = f"synthetic-{i}/usernet.build__nl.json"
        first = (tmp_path / "one" / name).read_bytes()
        assert (tmp_path / "two" / name).read_bytes() == first == (tmp_path / "three" / name).read_bytes()


def test_eval_on_a_folder_dataset(user, tmp_path):
    import cv2

    factory, weights, ref = user
    rng = np.random.default_rng(0)
    data = tmp_path / "data"
    for cls in ("bottom-left", "top-right"):
        (data / cls).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(data / cls / f"img{i}.png"), rng.integers(0, 255, (40, 48, 3), dtype=np.uint8))
    argv = [
        "eval",
        "--model",
        factory,
        "--weights",
        weights,
        *SPEC_FLAGS,
        "--classes",
        "top-left,top-right,bottom-left,bottom-right",
    ]
    out = _run_json([*argv, "--data", str(data), "--device", "cpu", "--batch-size", "4"])
    correct, losses = 0, []
    for cls, label in (("bottom-left", 2), ("top-right", 1)):  # folder names matched to the model's classes
        for i in range(3):
            clip = read_clip(data / cls / f"img{i}.png", frames=1, size=32)
            with torch.no_grad():
                logits = ref(clip.image_tensor(0, SPEC["mean"], SPEC["std"]))
            correct += int(logits.argmax()) == label
            losses.append(float(torch.nn.functional.cross_entropy(logits, torch.tensor([label]))))
    assert out["num"] == 6 and out["classes"] == ["bottom-left", "top-right"] and out["device"] == "cpu"
    assert out["top1"] == correct / 6 and out["loss"] == pytest.approx(np.mean(losses), rel=1e-6)


def test_eval_on_a_synthetic_task(user):
    factory, weights, ref = user
    out = _run_json(
        ["eval", "--model", factory, "--weights", weights, *SPEC_FLAGS, *TASK_FLAGS, "--num", "12", "--seed", "5"]
    )
    task = make_task("image", radius=3, size=32)
    correct = 0
    for i in range(12):
        s = task.sample(5, i)
        with torch.no_grad():
            correct += int(ref(s.to_clip().image_tensor(0, SPEC["mean"], SPEC["std"])).argmax()) == s.label
    assert out["num"] == 12 and out["seed"] == 5 and out["top1"] == correct / 12


def _run_json(argv: list[str]) -> dict:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main([*argv, "--json"]) == 0
    return json.loads(buf.getvalue())


@pytest.mark.parametrize(
    "argv,message",
    [
        (["export", "--model", "st_nl_embedded", "--size", "64"], "--size describe a model from code"),
        (["export", "--weights", "w.pth"], "--weights describe a model from code (--model path/to/file.py:NAME"),
        (["export", "--model", "a.py:build", "--model", "b.py:build", "--weights", "w"], "give each its own entry"),
        (["eval", "--model", "{f}", "--task-params", "{{}}"], "--task-params needs --task NAME"),
        (["eval", "--model", "{f}", "--model-args", "{{width: 3}}"], "--model-args '{{width: 3}}' is not valid JSON"),
        (["eval", "--model", "{f}", "--classes", "names.txt"], "--classes 'names.txt': no such file"),
        (["eval", "--model", "{f}", "--mean", "half"], "--mean 'half': write one number per channel"),
        (["eval", "--model", "{f}", "--weights", "{w}"], "names no synthetic task to evaluate on; give --data DIR"),
        (["eval", "--model", "{f}", "--weights", "{w}", "--data", "{w}"], "the input spec has no size; give --size"),
        (["eval", "--model", "{f}", "--device", "tpu"], "device 'tpu' is not known"),
        (["app", "--model", "st_nl_embedded"], "nlviz app --model takes a model from code"),
        (["app", "--model", "{f}", "--weights", "nope.pth"], "nope.pth: weights file not found"),
        (["app", "--model", "missing_file.py:build"], "missing_file.py: factory file not found"),
    ],
)
def test_usage_errors_say_what_to_do(user, argv, message, capsys):
    factory, weights, _ = user
    argv = [a.format(f=factory, w=weights) for a in argv]
    base = ["--input", "synthetic:1", "--out", "unused", "--quiet"] if argv[0] == "export" else []
    assert main([*argv, *base]) == 2
    assert message.format(f=factory) in capsys.readouterr().err


def test_an_unavailable_device_is_a_usage_error(user, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --device cuda is available here")
    factory, weights, _ = user
    for argv in (
        ["eval", "--model", "st_nl_embedded", "--num", "2"],
        ["export", "--model", factory, "--weights", weights, "--input", "synthetic:1", "--out", "unused", "--quiet"],
        ["app", "--model", factory],
        ["train", "--steps", "1"],
    ):
        assert main([*argv, "--device", "cuda"]) == 2, argv
        assert "device 'cuda' is not available" in capsys.readouterr().err


def test_app_hands_the_model_to_the_streamlit_process_with_absolute_paths(user, tmp_path, monkeypatch):
    from nlviz.cli.main import app_environment
    from nlviz.run import UserModel
    from nlviz.session.usermodels import USER_MODELS_ENV

    factory, weights, _ = user
    folder = factory.rsplit("/", 1)[0]
    monkeypatch.chdir(folder)
    args = build_parser().parse_args(
        ["app", "--model", "usernet.py:build", "--weights", "w.pth", *SPEC_FLAGS, "--device", "cpu"]
    )
    env = app_environment(args)
    (entry,) = json.loads(env[USER_MODELS_ENV])
    assert entry["model"] == factory and entry["weights"] == weights and entry["name"] == "usernet.py:build"
    assert entry["input"]["size"] == 32 and env["NLVIZ_DEVICE"] == "cpu"
    assert UserModel.from_dict(entry).display_name == "usernet.py:build"
    assert json.loads(app_environment(build_parser().parse_args(["app"]))[USER_MODELS_ENV]) == []


def test_train_takes_a_device_and_keeps_it_out_of_the_card(tmp_path):
    argv = ["train", "--name", "t", "--out", str(tmp_path), "--steps", "2", "--batch-size", "4", "--eval-num", "4"]
    argv += ["--task-params", '{"frames": 4, "size": 16, "radius": 2, "cue_frames": 1, "probe_frames": 2}']
    argv += ["--args", '{"widths": [4, 4, 8], "depths": [1, 1, 1]}', "--threads", "1", "--quiet", "--device", "cpu"]
    assert main(argv) == 0
    card = json.loads((tmp_path / "t.json").read_text())
    assert "device" not in card["train_config"] and "device" not in card
