"""``nlviz export``: batch-export visualizations (a thin wrapper over :func:`nlviz.export.run`).

    nlviz export --model M [--model M2 ...] --input PATH [--input ...] --out DIR [--spec view.json]
                 [--block NAME|all] [--query t,y,x ...] [--grid N] [--auto K] [--top-k K] [--min-fraction F]
                 [--format png,mp4,html,json,svg,pdf] [--paper-width W]
                 [--compare-scale shared|per_row] [--resume] [--shard I/N] [--workers W]
                 [--device D] [--weights FILE --model-args JSON --input-spec F --frames T --size S ... --task NAME]

A model from code (``--model file.py:build``) is described by the flags of :mod:`nlviz.cli.model_flags` and
written into the spec as an object entry, so ``OUT/manifest.json`` (its ``spec``) reproduces the export.

``--spec`` supplies defaults; every flag given overrides it. Also runnable as ``python -m nlviz.cli.export_cmd``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

DESCRIPTION = (
    "Export spacetime arrow plots, heatmaps, BA-Transform matrices, comparisons, MP4 (H.264), offline HTML, "
    "JSON/NPZ weights and vector figures for papers (SVG, PDF) for many inputs. Models: zoo names, checkpoints, "
    "or your own model from code (--model file.py:build --weights w.pth and its input flags). Inputs: files, "
    "globs, folders, frames:DIR or synthetic:N (synthetic needs a model with a task: --task for a model from code). "
    "--spec view.json "
    "supplies defaults that the flags override. Writes OUT/<input>/... and OUT/manifest.json (one entry per input: "
    "status, outputs, seconds, error). Exit status: 0 all done, 1 some inputs failed (see the manifest), 2 usage error."
)


def add_parsers(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``sub`` (the ``nlviz`` subparsers); returns its parser."""
    e = sub.add_parser(
        "export", help="batch-export visualizations (PNG, MP4, HTML, JSON, SVG, PDF)", description=DESCRIPTION
    )
    add_arguments(e)
    e.set_defaults(func=cmd_export)
    return e


def add_arguments(e: argparse.ArgumentParser) -> None:
    from nlviz.cli.model_flags import FACTORY_HELP, add_device_flag, add_model_flags
    from nlviz.render.paper_size import HELP as PAPER_HELP

    add_model_flags(
        e,
        model_help=f"zoo name, checkpoint path or a model from code ({FACTORY_HELP}); repeat to compare",
        repeat=True,
    )
    add_device_flag(e)
    e.add_argument(
        "--input",
        action="append",
        metavar="PATH",
        required=True,
        help="file, glob (quote it), folder, frames:DIR or synthetic:N (repeatable)",
    )
    e.add_argument("--out", required=True, metavar="DIR", help="output folder")
    e.add_argument(
        "--spec", metavar="view.json", help="ViewSpec JSON with defaults (the app's export button writes one)"
    )
    e.add_argument("--block", action="append", metavar="NAME|all", help="operator block(s) to show (default: all)")
    e.add_argument(
        "--query",
        action="extend",
        nargs="+",
        metavar="t,y,x",
        help="query points: t a source frame, y, x source pixels (repeatable)",
    )
    e.add_argument("--grid", type=int, metavar="N", help="an N×N grid of queries on the middle frame")
    e.add_argument("--auto", type=int, metavar="K", help="the K most-attended queries")
    e.add_argument("--top-k", type=int, metavar="K", dest="top_k", help="arrows per query (default 20)")
    e.add_argument(
        "--min-fraction",
        type=float,
        metavar="F",
        dest="min_fraction",
        help="leave out top-k keys weaker than F × the strongest one (default 0: all k; the app uses 0.05)",
    )
    e.add_argument(
        "--format", metavar="png,mp4,html,json,svg,pdf", help="output formats, comma-separated (default png,json)"
    )
    e.add_argument(
        "--paper-width",
        metavar="W",
        dest="paper_width",
        help=f"width of the svg/pdf figures: {PAPER_HELP} (default double)",
    )
    e.add_argument(
        "--compare-scale",
        choices=("shared", "per_row"),
        dest="compare_scale",
        help="comparison grids: one color scale for all rows (default) or one per row, fitted to its own maximum",
    )
    e.add_argument("--resume", action="store_true", help="skip inputs already done in OUT")
    e.add_argument("--shard", metavar="I/N", help="process inputs I, I+N, I+2N, ... (0 <= I < N; for job arrays)")
    e.add_argument("--workers", type=int, default=1, metavar="W", help="worker processes (default 1)")
    e.add_argument("--quiet", action="store_true", help="no progress bar")


def _point(text: str) -> list[float]:
    try:
        t, y, x = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(
            f"--query {text!r}: write t,y,x (a source frame index and a source pixel), e.g. 3,40,52"
        ) from None
    return [t, y, x]


def spec_from_args(args: argparse.Namespace) -> Any:
    """The ViewSpec: ``--spec`` (or the defaults) with every given flag applied on top."""
    from nlviz.viewspec import QuerySpec, SpecError, ViewSpec

    spec = ViewSpec.load(args.spec) if args.spec else ViewSpec()
    chosen = [f for f, v in (("--query", args.query), ("--grid", args.grid), ("--auto", args.auto)) if v]
    if len(chosen) > 1:
        raise ValueError(f"give only one of --query, --grid, --auto (got {', '.join(chosen)})")
    queries = None
    if args.query:
        queries = QuerySpec(mode="explicit", points=tuple(_point(q) for q in args.query), units="pixels")
    elif args.grid is not None:
        queries = QuerySpec(mode="grid", n=args.grid)
    elif args.auto is not None:
        queries = QuerySpec(mode="auto", k=args.auto)
    blocks = None
    if args.block:
        blocks = "all" if "all" in args.block else tuple(args.block)
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip()) if args.format is not None else None
    from nlviz.cli.model_flags import model_entries

    models = tuple(model_entries(args, args.model)) if args.model else None
    if not args.model:
        model_entries(args, [])  # model flags without --model are an error that says so
    try:
        return spec.override(
            models=models,
            blocks=blocks,
            queries=queries,
            k=args.top_k,
            min_fraction=args.min_fraction,
            formats=formats,
            paper_width=args.paper_width,
            compare_scale=args.compare_scale,
        )
    except SpecError as e:
        if e.field == "paper_width" and args.paper_width is not None:
            raise ValueError(f"--paper-width {args.paper_width!r}: {e.problem}") from None
        raise


def cmd_export(args: argparse.Namespace) -> int:
    from nlviz.export import run

    manifest = run(
        spec_from_args(args),
        args.input,
        args.out,
        resume=args.resume,
        shard=args.shard,
        workers=args.workers,
        progress=not args.quiet,
        device=args.device,
    )
    c = manifest["counts"]
    print(f"nlviz export: {c['done']} done, {c['error']} error(s), {c['pending']} pending -> {args.out}/manifest.json")
    for e in manifest["inputs"]:
        if e["status"] == "error":
            print(f"  error: {e['input']}: {e['error']}", file=sys.stderr)
    return 1 if c["error"] else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m nlviz.cli.export_cmd ...`` (same flags as ``nlviz export``)."""
    p = argparse.ArgumentParser(prog="nlviz export", description=DESCRIPTION)
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return cmd_export(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"nlviz export: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
