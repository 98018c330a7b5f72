"""``nlviz convert IN OUT --from FORMAT``: a public checkpoint → an nlviz checkpoint (safetensors + JSON card)."""

from __future__ import annotations

import argparse
import json

_DESCRIPTION = """\
Convert a public checkpoint (mmaction2, SlowFast, a video-nonlocal-net Caffe2 pickle, CGNL, BAT, torchvision,
AlexHex7) into an nlviz checkpoint: OUT.safetensors + OUT.json. The card records the format, the conventions
the weights were trained with (scale, pooling order, placement, zero-init), where each came from (the keys, the
config stored in the file, its name, or the format you passed) and the input the model expects.
`nlviz.load_model(OUT.json)` and every nlviz command load the result. Pickles are read without running code.
"""
_EPILOG = "Formats: run `nlviz convert --formats` (NAME or NAME:VARIANT, e.g. mmaction2:dot_product)."


def add_parsers(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``convert`` on the ``nlviz`` subcommand parser; returns the new parser."""
    c = sub.add_parser(
        "convert",
        help="convert a public checkpoint into an nlviz checkpoint",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("input", nargs="?", metavar="IN", help="public checkpoint (.pth, .pth.tar, .pt, .pyth, .pkl)")
    c.add_argument("output", nargs="?", metavar="OUT", help="output stem: writes OUT.safetensors and OUT.json")
    c.add_argument(
        "--from",
        dest="fmt",
        default="auto",
        metavar="FORMAT",
        help="layout of IN: auto (detect from the keys, the default) or NAME[:VARIANT]",
    )
    c.add_argument("--formats", action="store_true", help="list the formats and their variants, then exit")
    c.add_argument("--json", action="store_true", help="print the written card as JSON")
    c.set_defaults(func=cmd_convert)
    return c


def cmd_convert(args: argparse.Namespace) -> int:
    from nlviz.io import public

    if args.formats:
        for name in public.LAYOUTS.names():
            layout = public.LAYOUTS.get(name)
            print(f"{name:12} {layout.summary}")
            for variant, meaning in layout.variants.items():
                print(f"{'':12}   :{variant:18} {meaning}")
        return 0
    if not args.input or not args.output:
        raise ValueError("nlviz convert needs IN and OUT (e.g. nlviz convert i3d_nl.pth models/i3d_nl --from auto)")
    weights, card_path, model = public.convert_file(args.input, args.output, args.fmt)
    card = json.loads(card_path.read_text())
    if args.json:
        print(json.dumps(card, indent=2, ensure_ascii=False))
        return 0
    from nlviz.models import operator_blocks

    blocks = [name for name, _ in operator_blocks(model)]
    print(f"{args.input}: {card['format']} ({card.get('variant_from', 'no variant')})")
    print(
        f"  -> {weights} + {card_path.name}: {card['arch']}, {card['params'] / 1e6:.2f} M parameters, "
        f"{len(blocks)} operator block(s) {blocks}"
    )
    for key, value in card.get("conventions", {}).items():
        print(f"  {key}: {value}")
    print(f"  input: {card.get('input', {})}")
    print(
        f"  load it: nlviz.load_model({str(card_path)!r}); export attention: "
        f"nlviz export --model {card_path} --input CLIP --out DIR"
    )
    return 0
