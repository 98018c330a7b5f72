"""Figures for a paper from the app, in a real browser (Debian chromium through Playwright): the Explore and Compare
pages' "SVG/PDF for a paper" buttons download files that parse (SVG as XML, PDF with pypdf) at the column width
picked beside them, named as ``nlviz export`` names them."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support.browser import go_to, launch, skip_without_browser, streamlit_app, wait_idle
from support.checkpoints import tiny_zoo

pytestmark = pytest.mark.browser
pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def app_page(tmp_path_factory):
    """One app server on a tiny zoo and one browser page (downloads allowed)."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("paper")
    zoo = tiny_zoo(tmp / "zoo")
    with streamlit_app(zoo, tmp / "streamlit.log") as url, sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1200}, accept_downloads=True)
        page.set_default_timeout(90_000)
        yield page, url
        browser.close()


def download(page, label: str) -> tuple[str, bytes]:
    """Click the download button ``label``; (suggested file name, bytes)."""
    button = page.locator("[data-testid='stDownloadButton']").filter(has_text=label).first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=90_000) as info:
        button.click()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def choose_width(page, caption: str) -> None:
    box = page.get_by_label("paper width", exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=caption, exact=True).click()
    wait_idle(page)


def check(name: str, data: bytes, fmt: str, inches: float) -> None:
    assert name.endswith(f".{fmt}"), name
    if fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg") and abs(float(root.get("width").removesuffix("pt")) - inches * 72) <= 1
    else:
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1 and abs(float(reader.pages[0].mediabox.width) - inches * 72) <= 1


def test_explore_and_compare_download_svg_and_pdf_figures(app_page):
    page, url = app_page
    page.goto(url)
    page.get_by_role("heading").filter(has_text="Explore").first.wait_for()
    wait_idle(page, 120)
    for fmt in ("svg", "pdf"):
        name, data = download(page, f"{fmt.upper()} for a paper")
        check(name, data, fmt, 6.875)  # the default: double column
        assert name.endswith(f"__layer3.nl0_q00_arrows.{fmt}"), name
    choose_width(page, "single column (3.25 in)")
    name, data = download(page, "PDF for a paper")
    check(name, data, "pdf", 3.25)
    go_to(page, "Compare", "Compare")
    assert page.get_by_label("paper width", exact=True).input_value() == "single column (3.25 in)"  # kept
    for fmt in ("svg", "pdf"):
        name, data = download(page, f"{fmt.upper()} for a paper")
        assert name == f"compare_q00.{fmt}"
        check(name, data, fmt, 3.25)
