"""Every page of the app on every zoo family, in a real browser: screenshots, and the text that is cut off or overlaps.

    python -m support.screens docs/images/pages            # all families, every page (what `make docs-images` runs)
    python -m support.screens /tmp/shots --models st_sb     # one model

:func:`text_problems` reads, in the page, the boxes of the text plotly draws (titles, colorbar titles and ticks,
legend entries, annotations) and of Streamlit's own labels, and reports any that leaves its figure or overlaps
another one. The browser test tests/app/test_pages_legible.py asserts that it reports nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from support.browser import go_to, launch, open_page, streamlit_app, wait_idle

#: one model per operator family of the zoo (NL, CGNL, BAT video, Spatial Bias, I3D + NL, an image model)
FAMILIES = ("st_nl_embedded", "st_cgnl_gauss", "st_bat3d", "st_sb", "st_i3d_nl", "im_bat")
#: (sidebar link, heading text, file slug)
PAGES = (
    ("Explore", "Explore", "explore"),
    ("Compare", "Compare", "compare"),
    ("BA-Transform", "BA-Transform", "bat"),
    ("Analysis", "Analysis", "analysis"),
    ("Attribution", "Attribution", "attribution"),
    ("Export", "Export", "export"),
)

_TEXT_PROBLEMS_JS = """
() => {
  const problems = [];
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
                            Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  document.querySelectorAll('.js-plotly-plot').forEach((plot, n) => {
    const svg = plot.querySelector('.main-svg');
    if (!svg) return;
    const frame = svg.getBoundingClientRect();
    const texts = [...plot.querySelectorAll(
      '.gtitle, .cbtitle text, .cbaxis text, .legendtext, .annotation-text, .xtitle, .ytitle, .xtick text, .ytick text')]
      .filter(e => (e.textContent || '').trim() && e.getBoundingClientRect().width > 0);
    const name = (plot.querySelector('.gtitle') || {}).textContent || `figure ${n}`;
    const boxes = texts.map(e => [e.textContent.trim(), e.getBoundingClientRect(), e.getAttribute('class') || '']);
    for (const [t, r] of boxes) if (!inside(r, frame)) problems.push(`${name}: '${t}' is cut off by the figure's edge`);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [ti, ri, ci] = boxes[i], [tj, rj, cj] = boxes[j];
      if (ci.includes('tick') && cj.includes('tick')) continue;  // an axis's own ticks are spaced by plotly
      if (overlap(ri, rj)) problems.push(`${name}: '${ti}' overlaps '${tj}'`);
    }
  });
  return problems;
}
"""


def text_problems(page) -> list[str]:
    """Text of the page's plotly figures that is cut off by its figure or overlaps other text."""
    return page.evaluate(_TEXT_PROBLEMS_JS)


def choose_model(page, name: str) -> None:
    """Pick ``name`` in the sidebar's model picker (its options read "NAME — top-1 …")."""
    box = page.locator("[data-testid='stSidebar']").get_by_label("model", exact=True)
    box.click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}( — .*)?$")).click()
    wait_idle(page, 120)


def shoot(
    out: Path,
    models: tuple[str, ...] = FAMILIES,
    zoo: Path | None = None,
    pages: tuple[str, ...] | None = None,
    figures: bool = False,
) -> dict[str, list[str]]:
    """Screenshots ``out/<page>_<model>.png`` of every page (or of the ``pages`` slugs) for every model; returns
    the text problems per shot. ``figures``: also each plotly figure whole (``<page>_<model>_fig<N>.png``), which
    the page screenshot cuts at the viewport's bottom when the page is long."""
    from playwright.sync_api import sync_playwright

    from nlviz.io.checkpoint import zoo_dir

    out.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    with streamlit_app(zoo or zoo_dir(), out / "streamlit.log") as url, sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})  # the page scrolls inside; show it all
        page.set_default_timeout(120_000)
        open_page(page, url, "Explore")
        for model in models:
            go_to(page, "Explore", "Explore")
            choose_model(page, model)
            for link, title, slug in PAGES:
                if pages and slug not in pages:
                    continue
                go_to(page, link, title)
                page.wait_for_timeout(300)  # plotly lays out its text after the script run ends
                shot = out / f"{slug}_{model}.png"
                page.screenshot(path=str(shot), full_page=True)
                found[shot.name] = text_problems(page)
                if figures:
                    for n, plot in enumerate(page.locator(".js-plotly-plot").all()):
                        tall = int(plot.bounding_box()["height"]) + 400  # an element taller than the view is cut
                        page.set_viewport_size({"width": 1400, "height": max(2600, tall)})
                        plot.screenshot(path=str(out / f"{slug}_{model}_fig{n}.png"))
                    page.set_viewport_size({"width": 1400, "height": 2600})
                print(f"{shot}: {len(found[shot.name])} text problem(s)", flush=True)
        go_to(page, "Model zoo", "Model zoo")
        page.screenshot(path=str(out / "zoo.png"), full_page=True)
        browser.close()
    (out / "streamlit.log").unlink(missing_ok=True)
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="folder for the PNGs")
    ap.add_argument("--models", nargs="+", default=list(FAMILIES), help="zoo models (default: one per family)")
    ap.add_argument("--pages", nargs="+", choices=[slug for *_, slug in PAGES], help="only these pages")
    ap.add_argument("--figures", action="store_true", help="also save every plotly figure whole")
    args = ap.parse_args(argv)
    found = shoot(args.out, tuple(args.models), pages=tuple(args.pages or ()), figures=args.figures)
    bad = {k: v for k, v in found.items() if v}
    for shot, problems in bad.items():
        print(f"{shot}:", *problems, sep="\n  ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
