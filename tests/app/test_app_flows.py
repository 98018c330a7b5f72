"""The app's flows in a real browser (Debian chromium through Playwright), each a user's path through the app:
choices that survive every page change, a one-channel model on every input kind, Compare's "Clear all", and a
malformed checkpoint whose message names the file and goes away when a good file is chosen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.app import ROOT
from support.browser import go_to, launch, skip_without_browser, streamlit_app, wait_idle
from support.checkpoints import tiny_zoo

pytestmark = pytest.mark.browser
ALEXHEX7 = ROOT / "tests" / "assets" / "alexhex7_mnist"


@pytest.fixture(scope="module")
def app_page(tmp_path_factory):
    """One app server on a tiny zoo and one browser page (one session) for the flows of this module."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("flows")
    zoo = tiny_zoo(tmp / "zoo")
    with streamlit_app(zoo, tmp / "streamlit.log") as url, sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.set_default_timeout(60_000)
        yield page, url, tmp
        browser.close()


def fresh(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("heading").filter(has_text="Explore").first.wait_for()
    wait_idle(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox labelled ``label`` (the model picker shows "NAME — top-1 …")."""
    box = page.locator("[data-testid='stSidebar']").get_by_label(label, exact=True)
    box.click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}( — .*)?$")).click()
    wait_idle(page)


def fill(page, label: str, value: int | str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


def sidebar_value(page, label: str) -> str:
    """The shown value of a sidebar widget (a selectbox's selection or an input's value)."""
    return page.locator("[data-testid='stSidebar']").get_by_label(label, exact=True).input_value()


def query(page) -> tuple[str, str, str]:
    return tuple(page.get_by_label(n, exact=True).input_value() for n in ("frame t", "row y", "column x"))


def test_choices_survive_every_page_change_and_export_exports_them(app_page):
    page, url, _ = app_page
    fresh(page, url)
    choose(page, "model", "tiny_nl_dot")
    fill(page, "clip index", 2)
    fill(page, "frame t", 3)
    fill(page, "row y", 21)
    fill(page, "column x", 6)
    chosen = ("tiny_nl_dot — top-1 0.25", "2", ("3", "21", "6"))
    for link, title in [("Analysis", "Analysis"), ("Compare", "Compare"), ("Export", "Export"), ("Explore", "Explore")]:
        go_to(page, link, title)
        if link == "Analysis":  # no query inputs here: the page names the query it analyses
            assert page.get_by_text("pixel (t, y, x) = (3, 21, 6)").count() == 1
            seen = (sidebar_value(page, "model"), sidebar_value(page, "clip index"), chosen[2])
        else:
            seen = (sidebar_value(page, "model"), sidebar_value(page, "clip index"), query(page))
        assert seen == chosen, f"after moving to {link}: {seen} instead of {chosen}"
        if link == "Export":
            spec = json.loads(page.locator("[data-testid='stCode']").first.inner_text())
            assert spec["models"] == ["tiny_nl_dot"]
            cells = spec["queries"]["points"]
            assert len(cells) == 1 and cells[0][0] == 3  # the query's frame
            assert page.get_by_text("--input synthetic:3").count() >= 1  # clip 2 → exports clips 0…2


def test_a_one_channel_model_works_on_every_input_kind(app_page):
    page, url, _ = app_page
    fresh(page, url)
    page.get_by_text("Upload a checkpoint").click()
    page.locator("[data-testid='stSidebar'] input[type='file']").first.set_input_files(str(ALEXHEX7 / "net.pth"))
    wait_idle(page, 120)
    assert "net.pth" in sidebar_value(page, "model")
    for kind in ("sample video", "upload"):
        page.locator("[data-testid='stSidebar']").get_by_text(kind, exact=True).click()
        wait_idle(page)
        if kind == "upload":
            media = page.locator("[data-testid='stSidebar'] input[type='file']").last
            media.set_input_files(str(ALEXHEX7 / "sample.png"))
            wait_idle(page, 120)
        body = page.inner_text("body")
        assert page.locator("[data-testid='stAlertContentError']").count() == 0, body[:800]
        assert "predicted" in body, body[:800]
    assert "predicted **7**" in page.locator("[data-testid='stMain']").inner_html() or "predicted 7" in page.inner_text(
        "[data-testid='stMain']"
    )


def test_clear_all_clears_the_comparison(app_page):
    page, url, _ = app_page
    fresh(page, url)
    go_to(page, "Compare", "Compare")
    box = page.get_by_label("compare with", exact=False)
    chips = page.locator("[data-testid='stMultiSelect'] [data-testid='stMultiSelectTagsContainer'] span[title]")
    assert chips.count() >= 1  # the page starts with a few entries
    page.locator("[data-testid='stMultiSelect'] [aria-label='Clear all']").first.click()
    wait_idle(page)
    assert chips.count() == 0, "Clear all left entries in the comparison"
    go_to(page, "Explore", "Explore")
    go_to(page, "Compare", "Compare")
    assert chips.count() == 0, "the cleared comparison came back after a page change"
    assert box.count() == 1


def test_a_malformed_checkpoint_names_the_file_and_the_message_goes_with_the_next_file(app_page):
    page, url, tmp = app_page
    fresh(page, url)
    page.get_by_text("Upload a checkpoint").click()
    uploader = page.locator("[data-testid='stSidebar'] input[type='file']").first
    junk = bytes(range(256)) * 40
    uploader.set_input_files(files=[{"name": "junk.pth", "mimeType": "application/octet-stream", "buffer": junk}])
    wait_idle(page, 60)
    error = page.locator("[data-testid='stAlertContentError']").first
    error.wait_for()
    text = error.inner_text()
    assert text.startswith("junk.pth:") and "IndexError" not in text and "pop from empty list" not in text, text
    assert re.search(r"not a (PyTorch|torch|readable)|cannot be read|neither", text), text
    uploader.set_input_files(str(ALEXHEX7 / "net.pth"))
    wait_idle(page, 120)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0, "the old error stayed on the page"
    assert "net.pth" in sidebar_value(page, "model")
    assert Path(tmp).is_dir()
