"""``nlviz`` — the command line. Each subcommand is a thin wrapper over a library function."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def app_environment(args: argparse.Namespace) -> dict[str, str]:
    """The variables that hand ``--model`` (a model from code, with absolute paths) and ``--device`` to the app.

    The app imports only the factories listed here: a browser can choose among them but never name another."""
    from nlviz.cli.model_flags import model_entries
    from nlviz.run import is_factory, parse_factory, resolve_device
    from nlviz.session.usermodels import environment

    resolve_device(args.device)  # an unavailable device is an error now, not in the browser
    models = []
    if args.model:
        if not is_factory(args.model):
            raise ValueError(
                f"--model {args.model!r}: nlviz app --model takes a model from code (path/to/file.py:NAME or "
                "pkg.module:NAME); zoo models are listed in the app, and checkpoints can be uploaded there"
            )
        (um,) = model_entries(args, [args.model], absolute=True)
        target, _, is_file = parse_factory(um.factory)
        for what, path in (("factory file", target if is_file else None), ("weights file", um.weights)):
            if path and not Path(path).is_file():
                raise ValueError(f"{path}: {what} not found (--model {args.model})")
        models.append(um)
    else:
        model_entries(args, [])  # model flags without --model are an error that says so
    return environment(models, args.device)


def cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit app (what `make run` calls). With --model, open your own model from code."""
    import os
    import subprocess

    home = ROOT / "app" / "Home.py"
    if not home.exists():
        print(f"nlviz app: {home} not found (run from a source checkout)", file=sys.stderr)
        return 2
    env = {**os.environ, **app_environment(args)}
    from nlviz.cli.serve import streamlit_command

    # nlviz.cli.serve: streamlit's CLI with torch & co imported while the server starts (cold start)
    cmd = streamlit_command(home, args.port, address=args.address, max_upload_mb=args.max_upload_mb)
    print(f"nlviz app: http://{args.address or 'localhost'}:{args.port}", flush=True)
    if args.model:
        print(f"nlviz app: your model {args.model} is listed first (device {args.device})", flush=True)
    return subprocess.call(cmd, env=env)


def cmd_models(args: argparse.Namespace) -> int:
    """List the model zoo."""
    from nlviz.io.checkpoint import zoo_cards

    rows = [
        {
            "name": c["name"],
            "operator": c.get("operator", "none"),
            "task": c.get("task", {}).get("name", ""),
            "arch": c["arch"],
            "metrics": c.get("metrics", {}),
            "params": c.get("params"),
            "card": c["card"],
        }
        for c in zoo_cards()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no checkpoints found (run `make zoo` to train them)")
        return 0
    print(f"{'name':28} {'operator':14} {'task':10} {'top1':>6}  arch")
    for r in rows:
        top1 = r["metrics"].get("top1")
        print(
            f"{r['name']:28} {r['operator']:14} {r['task']:10} {top1 if top1 is None else f'{top1:.3f}':>6}  {r['arch']}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nlviz",
        description="See what non-local operators (NL, CGNL, BAT, Spatial Bias) in vision models attend to.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser("app", help="start the Streamlit app", description=cmd_app.__doc__)
    a.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    a.add_argument("--address", default=None, help="address to bind (default: streamlit's)")
    a.add_argument("--max-upload-mb", type=int, default=200, help="upload size limit in MB (default 200)")
    from nlviz.cli.model_flags import FACTORY_HELP, add_device_flag, add_model_flags

    add_model_flags(a, model_help=f"your model from code, listed first and opened in Explore ({FACTORY_HELP})")
    add_device_flag(a)
    a.set_defaults(func=cmd_app)

    m = sub.add_parser("models", help="list the model zoo", description=cmd_models.__doc__)
    m.add_argument("--json", action="store_true", help="print a JSON list (name, operator, task, metrics.top1, card)")
    m.set_defaults(func=cmd_models)

    from nlviz.cli import convert_cmd, export_cmd, report_cmd, train_cmd

    train_cmd.add_parsers(sub)
    export_cmd.add_parsers(sub)
    report_cmd.add_parsers(sub)
    convert_cmd.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (ValueError, FileNotFoundError) as e:  # user errors: a message, not a traceback
        print(f"nlviz {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
