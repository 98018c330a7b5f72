"""Cold start: from starting the app server to the first figure in a real browser (issue 13.6; target ≤ 8 s).

Each run starts a new server the way ``nlviz app`` does (``python -m nlviz.cli.serve run app/Home.py``, the
shipped checkpoints), opens the app in headless Debian chromium and stops the clock when the Explore page shows
its first figure (the hover component's frames, or a plotly title). Medians and p95 over ``--runs`` servers; the
section "App cold start" of bench/README.md is rewritten unless ``--no-readme``.

    python bench/cold_start.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from support.browser import launch, streamlit_app  # noqa: E402
from support.markdown import write_section  # noqa: E402


def one_run(log: Path) -> tuple[float, float, float]:
    """(seconds to a healthy server, to the page's own script loaded, to the first figure), all from the server's
    start. The browser is open before the server starts, as a user's is."""
    from playwright.sync_api import sync_playwright

    from nlviz.io.checkpoint import zoo_dir

    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        with streamlit_app(zoo_dir(), log) as url:
            healthy = time.perf_counter() - t0
            page.goto(url)  # returns at the load event: Streamlit's frontend is loaded, the script not yet run
            loaded = time.perf_counter() - t0
            page.locator("canvas, .gtitle").first.wait_for(timeout=180_000)
            first = time.perf_counter() - t0
        browser.close()
    return healthy, loaded, first


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-readme", action="store_true", help="print only")
    args = ap.parse_args(argv)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "nlviz-cold-start.log"
    runs = [one_run(log) for _ in range(args.runs)]
    firsts = sorted(f for *_, f in runs)
    p95 = firsts[min(len(firsts) - 1, round(0.95 * (len(firsts) - 1)))]
    body = (
        "From starting the server (`python -m nlviz.cli.serve run app/Home.py`, what `nlviz app` runs, on the shipped\n"
        "checkpoints) to the Explore page's first figure in headless chromium; each run a new server and browser.\n"
        "Run: `python bench/cold_start.py`. Target (issue 13): ≤ 8 s. Not an assertion.\n\n"
        "| runs | server healthy (median) | page loaded (median) | first figure (median) | first figure (p95) |\n"
        "|---|---|---|---|---|\n"
        f"| {len(runs)} | {statistics.median(h for h, _, _ in runs):.1f} s | "
        f"{statistics.median(p for _, p, _ in runs):.1f} s | {statistics.median(firsts):.1f} s | {p95:.1f} s |\n\n"
        f"- every run (first figure, s): {', '.join(f'{f:.1f}' for f in firsts)}; measured "
        f"{time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f} at the end (2 cores).\n"
    )
    print(body)
    if not args.no_readme:
        write_section(ROOT / "bench" / "README.md", "## App cold start", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
