"""``nlviz train`` and ``nlviz eval``."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from nlviz.train.config import TrainConfig

    t = sub.add_parser(
        "train",
        help="train a model on a synthetic task; writes NAME.safetensors + NAME.json",
        description="Train a model. A JSON --config supplies defaults; flags override it. Multi-process: "
        "`torchrun --nproc_per_node N -m nlviz.cli.main train ...` (gloo backend).",
    )
    t.add_argument("--config", help="JSON file with TrainConfig fields")
    t.add_argument("--resume", action="store_true", help="continue from OUT/NAME.state.pt if present")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    for f in fields(TrainConfig):
        default = getattr(TrainConfig(), f.name)
        kind = json.loads if isinstance(default, dict) else type(default)
        t.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f.name,
            type=kind,
            default=None,
            help=f"{f.metadata['help']} (default {default!r})",
        )
    t.set_defaults(func=cmd_train)

    e = sub.add_parser(
        "eval",
        help="evaluate a model on fresh clips of its task",
        description="Top-1 of a checkpoint on N fresh clips of its task generated with seed S.",
    )
    e.add_argument("--model", required=True, help="zoo name or checkpoint path")
    e.add_argument("--seed", type=int, default=None, help="data seed (default: the card's held-out eval seed)")
    e.add_argument("--num", type=int, default=1000, help="number of clips (default 1000)")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=cmd_eval)


def cmd_train(args: argparse.Namespace) -> int:
    from nlviz.train import TrainConfig, train

    base = TrainConfig.from_file(args.config).to_dict() if args.config else {}
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}
    cfg = TrainConfig.from_dict({**base, **overrides})
    card = train(cfg, resume=args.resume, progress=not args.quiet)
    if card:
        print(
            f"{cfg.name}: held-out top1 {card['metrics']['top1']:.3f} in {card['training_time_s']:.0f}s "
            f"-> {cfg.out}/{cfg.name}.safetensors"
        )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import nlviz
    from nlviz.data import make_task
    from nlviz.train import evaluate

    model = nlviz.load_model(args.model)
    card = getattr(model, "card", {})
    if "task" not in card:
        raise ValueError(f"{args.model}: its card names no synthetic task to evaluate on")
    task = make_task(card["task"]["name"], **card["task"]["params"])
    seed = args.seed if args.seed is not None else card.get("metrics", {}).get("eval_seed", 1)
    res = evaluate(model, task, seed=seed, num=args.num, progress=not args.json)
    res["model"] = card.get("name", str(args.model))
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{res['model']}: top1 {res['top1']:.4f} on {res['num']} clips (seed {seed}), loss {res['loss']:.4f}")
    return 0
