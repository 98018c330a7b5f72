"""On-object attention mass of the zoo models (issue 4): does a query on the late target attend to the cue?

For each zoo model of the spacetime task, queries on the *target* disk (probe frames): the share of their
attention mass sent to other frames that lands on the target itself ("self", other frames) and on its
partner, the ringed *cue* early in the clip ("partner"), each next to its chance level (the object's share of
the key cells). Held-out clips (the card's eval seed). Prints a markdown table.

    python bench/object_mass.py [--n 32] [--models st_nl_embedded ...]
    python bench/object_mass.py --quick    # 2 clips of the first 2 models: a smoke run
"""

from __future__ import annotations

import argparse
import sys

import harness


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=32, help="held-out clips per model")
    ap.add_argument("--models", nargs="*", help="zoo names (default: every spacetime model with an operator)")
    ap.add_argument("--quick", action="store_true", help="2 clips of the first 2 models (smoke run)")
    args = ap.parse_args()
    import nlviz
    from nlviz.analysis.objects import task_object_mass
    from nlviz.data import make_task
    from nlviz.io.checkpoint import zoo_cards

    cards = [c for c in zoo_cards() if c["task"]["name"] == "spacetime" and c["operator"] != "none"]
    if args.models:
        cards = [c for c in cards if c["name"] in args.models]
    if args.quick:
        cards, args.n = cards[:2], 2
    columns = ["model", "block", "kind", "mass on cue (partner)", "chance", "ratio", "mass on target, other frames"]
    print(harness.table_header([*columns, "chance"]))
    for card in cards:
        model = nlviz.load_model(card["name"])
        task = make_task(card["task"]["name"], **card["task"]["params"])
        res = task_object_mass(model, task, seed=card["metrics"]["eval_seed"], n=args.n)
        for block, r in res.items():
            kind = model.get_submodule(block).kind
            ratio = r["partner"] / r["partner_chance"] if r.get("partner_chance") else float("nan")
            cells = [card["name"], block, kind, f"{r['partner']:.3f}", f"{r['partner_chance']:.3f}", f"{ratio:.1f}×"]
            print(harness.table_row([*cells, f"{r['self']:.3f}", f"{r['self_chance']:.3f}"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
