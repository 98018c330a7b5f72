"""The training loop: seeded, resumable, DDP-capable (torchrun, gloo), writes an nlviz checkpoint.

Data come from a synthetic task generated on the fly: optimizer step s uses clips
``[s·B, (s+1)·B)`` of the training seed, so a run is reproducible and a resumed run sees the same data.
Under DDP each rank takes its contiguous share of that global batch (and splits it further into
``micro_batches`` for gradient accumulation); BatchNorm statistics are per micro-batch, so one process with
``micro_batches=W`` computes the same parameter updates as W DDP processes (tested).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nlviz.train.config import TrainConfig
from nlviz.train.evaluate import evaluate

#: held-out clips whose accuracy is stored separately in the card, so a test can reproduce it exactly
SUBSET = 100


def world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; (0, 1) without it."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def build(cfg: TrainConfig) -> tuple[nn.Module, Any, dict[str, Any]]:
    """The task and a freshly initialized model (seeded) for a config; returns (model, task, model args)."""
    from nlviz.data import make_task
    from nlviz.models import build_model

    task = make_task(cfg.task, **cfg.task_params)
    args = {**cfg.args, "num_classes": task.num_classes}
    torch.manual_seed(cfg.seed)
    return build_model(cfg.arch, **args), task, args


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD; no weight decay on norms and biases (1-D parameters).

    ``cfg.lr_mult`` scales the learning rate of parameters whose qualified name matches a glob (the first
    matching pattern wins); a pattern that matches no parameter is an error, so a typo cannot pass silently.
    """
    from fnmatch import fnmatchcase

    patterns = list(cfg.lr_mult.items())
    used: set[str] = set()
    groups: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        mult = 1.0
        for pattern, factor in patterns:
            if fnmatchcase(name, pattern):
                mult = float(factor)
                used.add(pattern)
                break
        groups.setdefault((mult, p.dim() > 1), []).append(p)
    unused = [p for p, _ in patterns if p not in used]
    if unused:
        names = [n for n, _ in model.named_parameters()]
        raise ValueError(
            f"lr_mult pattern(s) {unused} match no parameter of {cfg.arch}; names look like {names[:3] + names[-3:]}"
        )
    # the default groups first (decay, then no decay) so a run without lr_mult has the usual two groups
    param_groups = [
        {"params": params, "weight_decay": cfg.weight_decay if decay else 0.0, "lr": cfg.lr * mult}
        for (mult, decay), params in sorted(groups.items(), key=lambda kv: (kv[0][0] != 1.0, not kv[0][1]))
    ]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(param_groups, lr=cfg.lr)
    return torch.optim.SGD(param_groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warmup, then cosine decay to zero at ``cfg.steps``."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def count_flops(model: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward on ``x`` (multiply-adds counted as 2), by torch's flop counter."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(x)
    return int(counter.get_total_flops())


def operator_summary(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The operator name(s) a model's insertion specs use ("none" for a baseline) and the specs."""
    blocks = list(args.get("blocks") or [])
    names = sorted({b["op"] for b in blocks})
    return ("+".join(names) if names else "none"), blocks


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True, device: Any = None) -> dict[str, Any]:
    """Train per ``cfg``; rank 0 writes ``cfg.out/cfg.name.{safetensors,json}``. Returns the card.

    Args:
        resume: continue from ``cfg.out/cfg.name.state.pt`` if present.
        progress: show a progress bar (rank 0).
        device: where the model and its batches live (``auto|cpu|cuda|cuda:N|mps``; None = cpu). Under torchrun a
            bare ``cuda`` means ``cuda:LOCAL_RANK``. Not part of the config: the card and recipe stay the same.
    """
    from tqdm import tqdm

    from nlviz.io.checkpoint import read_card, save_checkpoint
    from nlviz.run.device import resolve_device

    rank, size = world()
    dev = resolve_device(device if device is not None else "cpu")
    if dev.type == "cuda" and dev.index is None and size > 1:
        dev = resolve_device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if size > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("gloo")
    per_rank, rem = divmod(cfg.batch_size, size * cfg.micro_batches)
    if rem or per_rank == 0:
        raise ValueError(
            f"batch_size={cfg.batch_size} must be a multiple of world size × micro_batches "
            f"({size} × {cfg.micro_batches})"
        )
    model, task, args = build(cfg)
    model.to(dev).train()
    net = nn.parallel.DistributedDataParallel(model, broadcast_buffers=False) if size > 1 else model
    opt = make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, cfg))
    out = Path(cfg.out)
    state_path = out / f"{cfg.name}.state.pt"
    start, elapsed = 0, 0.0
    if resume and state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        start, elapsed = int(st["step"]), float(st["elapsed"])
    t0 = time.perf_counter() - elapsed
    history: list[dict[str, Any]] = []
    bar = tqdm(
        range(start, cfg.steps), initial=start, total=cfg.steps, desc=cfg.name, disable=not progress or rank != 0
    )
    for step in bar:
        opt.zero_grad(set_to_none=True)
        loss_val = 0.0
        for m in range(cfg.micro_batches):
            offset = step * cfg.batch_size + (rank * cfg.micro_batches + m) * per_rank
            x, y = task.batch(cfg.seed, offset, per_rank)
            x, y = x.to(dev), y.to(dev)
            last = m == cfg.micro_batches - 1
            ctx = net.no_sync() if size > 1 and not last else contextlib.nullcontext()
            with ctx:
                loss = F.cross_entropy(net(x), y) / cfg.micro_batches
                loss.backward()
            loss_val += loss.item()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        bar.set_postfix(loss=f"{loss_val:.3f}", lr=f"{sched.get_last_lr()[0]:.2e}")
        done = step + 1
        if rank == 0 and cfg.eval_every and done % cfg.eval_every == 0 and done < cfg.steps:
            history.append({"step": done, **evaluate(model, task, seed=cfg.eval_seed, num=min(cfg.eval_num, 500))})
            bar.write(f"[{cfg.name}] step {done}: held-out top1 {history[-1]['top1']:.3f}")
        if rank == 0 and cfg.save_every and done % cfg.save_every == 0 and done < cfg.steps:
            _save_state(state_path, model, opt, sched, done, time.perf_counter() - t0)
    train_time = time.perf_counter() - t0
    card: dict[str, Any] = {}
    if rank == 0:
        metrics = evaluate(model, task, seed=cfg.eval_seed, num=cfg.eval_num, progress=progress)
        subset = evaluate(model, task, seed=cfg.eval_seed, num=min(SUBSET, cfg.eval_num))
        operator, blocks = operator_summary(args)
        x1, _ = task.batch(cfg.eval_seed, 0, 1)
        card = {
            "arch": cfg.arch,
            "args": args,
            "operator": operator,
            "operator_blocks": blocks,
            "task": {"name": cfg.task, "params": cfg.task_params},
            "classes": list(task.class_names),
            "input": {"shape": list(x1.shape[1:]), **task_input_info(task)},
            "data": {"train_seed": cfg.seed, "train_clips": cfg.steps * cfg.batch_size, "eval_seed": cfg.eval_seed},
            "seed": cfg.seed,
            "metrics": {
                "top1": metrics["top1"],
                "loss": metrics["loss"],
                "eval_num": metrics["num"],
                "eval_seed": metrics["seed"],
                "history": history,
                "subset": {"num": subset["num"], "top1": subset["top1"]},
            },
            "params": sum(p.numel() for p in model.parameters()),
            "flops": count_flops(model, x1.to(dev)),
            "training_time_s": round(train_time, 1),
            "world_size": size,
            "train_config": cfg.to_dict(),
        }
        _, card_path = save_checkpoint(model, card, out / cfg.name)
        card = read_card(card_path)  # what was written (with name and code version)
        state_path.unlink(missing_ok=True)
    return card


def task_input_info(task: Any) -> dict[str, Any]:
    """Input normalization a task uses (recorded in the card so loaders preprocess the same way)."""
    info = {}
    for key in ("mean", "std"):
        if hasattr(task, key):
            info[key] = [float(v) for v in getattr(task, key)]
    return info


def _save_state(path: Path, model: nn.Module, opt: Any, sched: Any, step: int, elapsed: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "step": step,
            "elapsed": elapsed,
        },
        tmp,
    )
    os.replace(tmp, path)
