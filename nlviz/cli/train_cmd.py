"""``nlviz train`` and ``nlviz eval``."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from nlviz.cli.model_flags import FACTORY_HELP, add_device_flag, add_model_flags
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
    add_device_flag(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser(
        "eval",
        help="evaluate a model (zoo, checkpoint or your own code) on a synthetic task or a folder of clips",
        description="Top-1 of a model on N fresh clips of its synthetic task generated with seed S (the card's "
        "task; for a model from code, --task), or on a class-per-folder dataset (--data DIR: DIR/<class>/<video, "
        "image or frame folder>) read at the model's input spec. Class folders are matched to the model's class "
        "names when it has them (else taken in sorted order).",
    )
    add_model_flags(e, model_help=f"zoo name, checkpoint path or a model from code ({FACTORY_HELP})")
    e.add_argument("--data", metavar="DIR", help="evaluate on this class-per-folder dataset instead of a task")
    e.add_argument("--seed", type=int, default=None, help="data seed of the task (default: the card's held-out seed)")
    e.add_argument(
        "--num", type=int, default=None, help="number of clips (default 1000 of a task; every item of --data)"
    )
    e.add_argument("--batch-size", type=int, default=32, metavar="B", help="clips per forward pass (default 32)")
    e.add_argument(
        "--by",
        choices=("class", "cue"),
        default=None,
        help="also print top-1 per group of clips, each ± its binomial SE: per class of the label, or per fill "
        "color of a synthetic task's cue (a model at 0.75 on the 4-way spacetime task often tells two cue colors "
        "apart and guesses between the other two)",
    )
    add_device_flag(e)
    e.add_argument("--json", action="store_true", help="print JSON (and no progress bar)")
    e.set_defaults(func=cmd_eval)


def cmd_train(args: argparse.Namespace) -> int:
    from nlviz.train import TrainConfig, train

    base = TrainConfig.from_file(args.config).to_dict() if args.config else {}
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}
    cfg = TrainConfig.from_dict({**base, **overrides})
    card = train(cfg, resume=args.resume, progress=not args.quiet, device=args.device)
    if card:
        print(
            f"{cfg.name}: held-out top1 {card['metrics']['top1']:.3f} in {card['training_time_s']:.0f}s "
            f"-> {cfg.out}/{cfg.name}.safetensors"
        )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from nlviz.cli.model_flags import model_entries
    from nlviz.run import describe, load_model, resolve_device
    from nlviz.train import evaluate_model

    if not args.model:
        raise ValueError("give --model: a zoo name, a checkpoint path or a model from code (file.py:build)")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size {args.batch_size}: must be a positive number of clips")
    (entry,) = model_entries(args, [args.model])
    device = resolve_device(args.device)
    model = load_model(entry, device=device)
    name = entry if isinstance(entry, str) else entry.display_name
    lm = describe(name, model, seed=args.seed)
    if args.data is None and not lm.task:
        raise ValueError(
            f"{name}: names no synthetic task to evaluate on; give --data DIR (a folder of labelled clips)"
            + (" or --task spacetime|image" if not isinstance(entry, str) else "")
        )
    if lm.size is None and args.data is not None:
        raise ValueError(f"{name}: the input spec has no size; give --size S so every clip is read at S×S")
    res = evaluate_model(
        lm, data=args.data, num=args.num, batch_size=args.batch_size, by=args.by, progress=not args.json
    )
    res["model"] = (getattr(model, "card", None) or {}).get("name", name)
    res["device"] = str(device)
    if args.json:
        print(json.dumps(res))
    else:
        on = f"{args.data} ({', '.join(res['classes'])})" if args.data else f"{lm.task['name']} (seed {res['seed']})"
        print(
            f"{res['model']}: top1 {res['top1']:.4f} on {res['num']} clips of {on}, loss {res['loss']:.4f} [{device}]"
        )
        if "by" in res:
            print(group_table(res["by"]))
    return 0


def group_table(by: dict) -> str:
    """The per-group top-1 of ``evaluate_model(by=...)`` as aligned text lines."""
    title = {"class": "class", "cue": "cue color"}[by["key"]]
    width = max(len(title), *(len(g["value"]) for g in by["groups"]))
    lines = [f"  {title:<{width}}  {'clips':>5}  top1 ± SE"]
    lines += [f"  {g['value']:<{width}}  {g['num']:>5}  {g['top1']:.3f} ± {g['se']:.3f}" for g in by["groups"]]
    return "\n".join(lines)
