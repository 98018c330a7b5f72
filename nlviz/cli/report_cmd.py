"""``nlviz report``: what each model's operator blocks attend to over a dataset, with 95 % intervals (a thin
wrapper over :func:`nlviz.export.report.run_report` and :func:`nlviz.export.report.merge_dirs`).

    nlviz report --model A [--model B ...] --input synthetic:64|DIR|FILES --out DIR [--queries K] [--top-k K]
                 [--seed S] [--shard I/N] [--resume] [--workers W] [--device D] [--table README.md] [--quiet]
                 [MODEL FLAGS]
    nlviz report --zoo --input synthetic:64 --out DIR --table checkpoints/README.md      (every zoo model)
    nlviz report --merge DIR1 DIR2 ... --out DIR [--table README.md]                     (shards → the full run)
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any


def _description() -> str:
    from nlviz.analysis.report_metrics import METRICS

    metrics = "\n".join(
        textwrap.fill(f"{name} [{m.label}]: {m.help}.", width=100, initial_indent="  ", subsequent_indent="    ")
        for name, m in METRICS.items()
    )
    intro = (
        "Per model and operator block, statistics of attention over a dataset of clips, each a mean over clips with "
        "a 95 % interval (percentile bootstrap over clips with the seed; top-1: Wilson). In every clip and block "
        "--queries K query cells are sampled (seeded by the clip: every run, shard and resume draws the same ones; "
        "never the N×N matrix) and their exact rows are read; unnormalized and signed rows (dot product, "
        "concatenation, CGNL and Spatial Bias linear contributions) count as |w| shares."
    )
    inputs = (
        "Inputs: synthetic:N (clips 0..N-1 of each model's task at its held-out seed, with masks and labels), video "
        "or image files, globs, folders, frames:DIR, or a class-per-folder dataset (DIR/<class>/<clip>: labels for "
        "top-1). Writes OUT/report.md, report.csv, report.json, report.html (offline), plots/<metric>.png and "
        "OUT/.nlviz-report/ (per-clip results for --resume). Exit status: 0 done, 1 some clips failed (listed in "
        "report.md), 2 usage error."
    )
    return f"{textwrap.fill(intro, 100)}\n\nMetrics (CSV/JSON name [label]):\n{metrics}\n\n{textwrap.fill(inputs, 100)}"


def add_parsers(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``sub`` (the ``nlviz`` subparsers); returns its parser."""
    r = sub.add_parser(
        "report",
        help="per model and block, attention statistics over a dataset with confidence intervals",
        description=_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(r)
    r.set_defaults(func=cmd_report)
    return r


def add_arguments(r: argparse.ArgumentParser) -> None:
    from nlviz.cli.model_flags import FACTORY_HELP, add_device_flag, add_model_flags

    add_model_flags(
        r, model_help=f"zoo name, checkpoint path or a model from code ({FACTORY_HELP}); repeat to compare", repeat=True
    )
    add_device_flag(r)
    r.add_argument("--zoo", action="store_true", help="every model of the zoo (checkpoints/, or $NLVIZ_CHECKPOINTS)")
    r.add_argument(
        "--input",
        action="append",
        metavar="PATH",
        help="synthetic:N, a file, glob (quote it), folder, frames:DIR or class-per-folder dataset (repeatable)",
    )
    r.add_argument("--out", required=True, metavar="DIR", help="output folder")
    r.add_argument("--queries", type=int, default=64, metavar="K", help="query cells sampled per clip and block (64)")
    r.add_argument("--top-k", type=int, default=20, dest="top_k", metavar="K", help="k of the top-k mass (20)")
    r.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the query samples and the bootstrap (0)")
    r.add_argument("--resume", action="store_true", help="keep the clips a run with the same settings finished in OUT")
    r.add_argument("--shard", metavar="I/N", help="compute clips I, I+N, I+2N, ... (0 <= I < N); join with --merge")
    r.add_argument(
        "--merge", nargs="+", metavar="DIR", help="join the finished shards in these folders into OUT (no model runs)"
    )
    r.add_argument(
        "--table",
        metavar="README.md",
        help="also write the operator-family table into this markdown file (between its report markers)",
    )
    r.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="W",
        help="processes sharing the clips (default 1); every process runs torch with one thread, so the files do "
        "not depend on W",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar")


def zoo_models() -> list[str]:
    """Every zoo model: the recipes' order first (as checkpoints/README.md lists them), then the rest by name."""
    from nlviz.io.checkpoint import zoo_cards
    from nlviz.train.zoo import RECIPES

    names = [c["name"] for c in zoo_cards()]
    order = {n: i for i, n in enumerate(RECIPES)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def _command(args: argparse.Namespace) -> str:
    """The command that regenerates the table (for the README)."""
    if args.merge:
        return f"nlviz report --merge {' '.join(args.merge)} --out {args.out}"
    models = "--zoo" if args.zoo else " ".join(f"--model {m}" for m in args.model or [])
    inputs = " ".join(f"--input {i}" for i in args.input or [])
    extra = "" if args.queries == 64 else f" --queries {args.queries}"
    return f"nlviz report {models} {inputs}{extra} --out {args.out} --table {args.table}"


def cmd_report(args: argparse.Namespace) -> int:
    from nlviz.export.report import merge_dirs, run_report

    if args.merge:
        given = [f for f, v in (("--model", args.model), ("--zoo", args.zoo), ("--input", args.input)) if v]
        if given:
            raise ValueError(f"--merge joins finished shards: do not give {', '.join(given)} with it")
        rep = merge_dirs(args.merge, args.out)
    else:
        if not args.input:
            raise ValueError("--input is required: synthetic:N, files, globs, folders or a class-per-folder dataset")
        from nlviz.cli.model_flags import model_entries

        models: list[Any] = list(model_entries(args, args.model or []))
        if args.zoo:
            models = zoo_models() + models
            if not models:
                raise ValueError("--zoo: the zoo is empty (no checkpoints found; run `make zoo`)")
        if not models:
            raise ValueError("no model given: pass --model NAME (repeat it to compare) or --zoo")
        rep = run_report(
            models,
            args.input,
            args.out,
            resume=args.resume,
            shard=args.shard,
            workers=args.workers,
            progress=not args.quiet,
            queries=args.queries,
            k=args.top_k,
            seed=args.seed,
            device=args.device,
        )
    if args.table:
        from nlviz.export.zoo_table import write_zoo_table

        write_zoo_table(args.table, rep, command=_command(args))
    errors = rep.errors
    state = "" if rep.complete else f" (partial: {len(rep.clips)} of {len(rep.items)} clips)"
    print(f"nlviz report: {len(rep.clips)} clip(s), {len(errors)} error(s){state} -> {args.out}/report.md")
    for e in errors:
        print(f"  error: {e['model']}: {e['error']}", file=sys.stderr)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m nlviz.cli.report_cmd ...`` (same flags as ``nlviz report``)."""
    p = argparse.ArgumentParser(
        prog="nlviz report", description=_description(), formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return cmd_report(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"nlviz report: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
