"""Training: a smoke run lowers the loss, checkpoints round-trip, DDP equals accumulation, bad cards fail clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import nlviz
from nlviz.io.checkpoint import CheckpointError
from nlviz.train import TrainConfig, evaluate, train
from nlviz.train.loop import build, lr_factor, make_optimizer

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "widths": [4, 8, 8],
    "depths": [1, 1, 1],
    "coords": True,
    "blocks": [{"op": "nonlocal", "stage": 3, "index": 0, "options": {"zero_init": False}}],
}
TASK = {"frames": 4, "size": 16, "radius": 2, "cue_frames": 1, "probe_frames": 2}


def _cfg(tmp_path, **kw):
    base = dict(
        name="tiny",
        arch="tiny_c2d",
        args=TINY,
        task="spacetime",
        task_params=TASK,
        steps=20,
        batch_size=8,
        lr=3e-3,
        warmup=2,
        eval_num=16,
        out=str(tmp_path),
        threads=1,
    )
    return TrainConfig(**{**base, **kw})


def test_smoke_run_lowers_loss_and_checkpoint_round_trips(tmp_path):
    cfg = _cfg(tmp_path)
    model, task, _ = build(cfg)
    x, y = task.batch(cfg.seed, 0, 64)  # the first clips of the training stream
    before = torch.nn.functional.cross_entropy(model.eval()(x), y).item()
    card = train(cfg, progress=False)
    loaded = nlviz.load_model(tmp_path / "tiny.json")
    after = torch.nn.functional.cross_entropy(loaded(x), y).item()
    assert after < before
    assert not loaded.training
    # save → load → identical logits, and the card rebuilds the same architecture
    trained = build(cfg)[0]
    trained.load_state_dict(load_file(str(tmp_path / "tiny.safetensors")))
    torch.testing.assert_close(loaded(x), trained.eval()(x), rtol=0, atol=0)
    for key in (
        "arch",
        "args",
        "operator",
        "classes",
        "input",
        "data",
        "seed",
        "metrics",
        "params",
        "flops",
        "training_time_s",
        "code_version",
        "train_config",
    ):
        assert key in card
    assert card["operator"] == "nonlocal" and card["metrics"]["eval_num"] == 16
    assert card["metrics"]["top1"] == evaluate(loaded, task, seed=cfg.eval_seed, num=16)["top1"]


def test_training_is_reproducible_and_resumes(tmp_path):
    a = train(_cfg(tmp_path / "a", steps=6), progress=False)
    b = train(_cfg(tmp_path / "b", steps=6), progress=False)
    wa, wb = load_file(str(tmp_path / "a/tiny.safetensors")), load_file(str(tmp_path / "b/tiny.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa) and a["metrics"]["top1"] == b["metrics"]["top1"]
    # interrupted at step 3 (state saved), resumed to 6: the same weights as straight through
    cfg = _cfg(tmp_path / "c", steps=6, save_every=3)
    cfg_short = _cfg(tmp_path / "c", steps=6, save_every=3)
    _train_until(cfg_short, 3)
    train(cfg, resume=True, progress=False)
    wc = load_file(str(tmp_path / "c/tiny.safetensors"))
    for k in wa:
        torch.testing.assert_close(wc[k], wa[k], rtol=1e-5, atol=1e-6)


def _train_until(cfg, step):
    """Run ``cfg`` but stop right after the state save at ``step`` (simulated interruption)."""
    import nlviz.train.loop as loop

    real = loop._save_state

    class Stop(Exception):
        pass

    def save_then_stop(*a, **k):
        real(*a, **k)
        raise Stop

    loop._save_state = save_then_stop
    try:
        with pytest.raises(Stop):
            train(cfg, progress=False)
    finally:
        loop._save_state = real
    assert (Path(cfg.out) / f"{cfg.name}.state.pt").exists()


def test_lr_schedule_warmup_then_cosine():
    cfg = TrainConfig(steps=100, warmup=10)
    assert lr_factor(0, cfg) == pytest.approx(0.1) and lr_factor(9, cfg) == pytest.approx(1.0)
    assert lr_factor(55, cfg) == pytest.approx(0.5) and lr_factor(100, cfg) == pytest.approx(0.0)


def test_lr_mult_scales_matching_parameters_and_rejects_typos(tmp_path):
    cfg = _cfg(tmp_path, lr_mult={"layer3.nl0.theta.*": 0.1, "*.nl0.phi.weight": 0.5})
    model, _, _ = build(cfg)
    opt = make_optimizer(model, cfg)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in opt.param_groups for p in g["params"]}
    params = dict(model.named_parameters())
    assert lr_of[id(params["layer3.nl0.theta.weight"])] == (pytest.approx(3e-4), cfg.weight_decay)
    assert lr_of[id(params["layer3.nl0.theta.bias"])] == (pytest.approx(3e-4), 0.0)  # biases keep no decay
    assert lr_of[id(params["layer3.nl0.phi.weight"])][0] == pytest.approx(1.5e-3)
    assert lr_of[id(params["layer3.nl0.phi.bias"])][0] == pytest.approx(3e-3)
    assert lr_of[id(params["layer3.nl0.g.weight"])][0] == pytest.approx(3e-3)
    assert len(lr_of) == len(params)
    # without lr_mult: the usual two groups (decay, no decay) at the base rate
    plain = make_optimizer(model, _cfg(tmp_path))
    assert [(g["lr"], g["weight_decay"]) for g in plain.param_groups] == [(3e-3, 0.05), (3e-3, 0.0)]
    with pytest.raises(ValueError, match=r"\['\*\.thetaa\.\*'\] match no parameter of tiny_c2d"):
        make_optimizer(model, _cfg(tmp_path, lr_mult={"*.thetaa.*": 0.1}))
    with pytest.raises(ValueError, match="must be a positive number"):
        _cfg(tmp_path, lr_mult={"*": 0})
    with pytest.raises(ValueError, match="must be a JSON object"):
        _cfg(tmp_path, lr_mult=[0.1])


def test_ddp_two_processes_equal_one_process_with_accumulation(tmp_path):
    """torchrun, 2 ranks, gloo: the same parameters as 1 process with micro_batches=2 and the same global batch."""
    one = _cfg(tmp_path / "one", steps=4, micro_batches=2)
    train(one, progress=False)
    cfg_path = tmp_path / "ddp.json"
    cfg_path.write_text(json.dumps(_cfg(tmp_path / "ddp", steps=4).to_dict()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            "-m",
            "nlviz.cli.main",
            "train",
            "--config",
            str(cfg_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    w1 = load_file(str(tmp_path / "one/tiny.safetensors"))
    w2 = load_file(str(tmp_path / "ddp/tiny.safetensors"))
    params = {n for n, _ in build(one)[0].named_parameters()}
    for k in params:
        torch.testing.assert_close(w2[k], w1[k], rtol=1e-4, atol=1e-6)
    assert json.loads((tmp_path / "ddp/tiny.json").read_text())["world_size"] == 2


def test_bad_checkpoints_fail_clearly(tmp_path):
    train(_cfg(tmp_path, steps=1), progress=False)
    card = json.loads((tmp_path / "tiny.json").read_text())
    card["args"]["widths"] = [4, 8, 16]  # the card now disagrees with the weights
    (tmp_path / "bad.json").write_text(json.dumps(card))
    (tmp_path / "bad.safetensors").write_bytes((tmp_path / "tiny.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match=r"bad\.safetensors.*shape mismatches"):
        nlviz.load_model(tmp_path / "bad.json")
    (tmp_path / "trunc.json").write_text(json.dumps(card))
    (tmp_path / "trunc.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match=r"trunc\.safetensors: not a readable safetensors"):
        nlviz.load_model(tmp_path / "trunc.json")
    (tmp_path / "nocard.safetensors").write_bytes((tmp_path / "tiny.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match=r"nocard\.json: card not found"):
        nlviz.load_model(tmp_path / "nocard.safetensors")
    with pytest.raises(CheckpointError, match="neither a file nor a zoo model"):
        nlviz.load_model("no_such_model")
    with pytest.raises(ValueError, match="unknown training config field"):
        TrainConfig.from_dict({"stepz": 3})


def test_training_on_the_held_out_seed_is_an_error():
    # seed 1 used to train on exactly the clips the card's top-1 is measured on (eval_seed defaults to 1)
    with pytest.raises(ValueError, match="seed=1 equals eval_seed=1: the held-out clips would be the training clips"):
        TrainConfig(seed=1)
    with pytest.raises(ValueError, match="seed=4 equals eval_seed=4"):
        TrainConfig.from_dict({"seed": 4, "eval_seed": 4})
    assert TrainConfig(seed=1, eval_seed=2).seed == 1


def test_cli_trains_with_the_default_config(tmp_path):
    """`nlviz train` with only the run length given: the default architecture exists (it once named 'c2d_tiny',
    which does not) and a checkpoint that loads comes out."""
    from nlviz.models import ARCHS

    assert TrainConfig().arch in ARCHS
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nlviz.cli.main",
            "train",
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--eval-num",
            "4",
            "--threads",
            "1",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        check=True,
    )
    model = nlviz.load_model(tmp_path / "model.json")
    assert model.card["arch"] == "tiny_c2d" and model.card["train_config"]["steps"] == 2
