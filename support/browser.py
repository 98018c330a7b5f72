"""Driving the app in a real browser: Debian's chromium through Playwright (never ``playwright install``), the app
served by ``streamlit run app/Home.py`` on loopback, and waiting for it to settle."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from nlviz.cli.serve import streamlit_command
from support.app import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_without_browser() -> None:
    """Skip (loudly) when Debian's chromium or the playwright package is missing."""
    import pytest

    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"BROWSER TEST SKIPPED: {CHROMIUM} is missing (`make test` installs Debian's chromium as root: "
            "apt-get install -y chromium)"
        )
    pytest.importorskip("playwright", reason="BROWSER TEST SKIPPED: the playwright package is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_app(zoo: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run app/Home.py`` on a free loopback port with the headless flags and ``zoo`` as the
    checkpoint folder; yields its URL. ``env`` adds environment variables (e.g. NLVIZ_USER_MODELS)."""
    port = free_port()
    env = dict(os.environ, NLVIZ_CHECKPOINTS=str(zoo), OMP_NUM_THREADS="1", **(env or {}))
    cmd = streamlit_command(ROOT / "app" / "Home.py", port, address="127.0.0.1")  # what `nlviz app` starts
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine can take a while
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not become healthy; log: {log}\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(playwright) -> object:
    """Debian's chromium with the flags this machine needs (no background networking: the network is closed)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(page, timeout: float = 60.0) -> None:
    """Until the script-running indicator has been gone for a moment."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and quiet < 3:
        running = (
            page.locator("[data-testid='stStatusWidget']").count() + page.locator("[data-testid='stSpinner']").count()
        )
        quiet = 0 if running else quiet + 1
        time.sleep(0.25)


def open_page(page, url: str, title: str) -> None:
    """Load a page by URL (a new session) and wait until its header is shown and its script has finished."""
    for attempt in range(2):
        page.goto(url)
        try:
            page.get_by_role("heading").filter(has_text=title).first.wait_for(timeout=45_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: retry once, then fail with the page's text
            if attempt:
                raise AssertionError(
                    f"{url}: no heading {title!r}; page text: {page.inner_text('body')[:500]}"
                ) from None
    wait_idle(page, 120)


def go_to(page, link: str, title: str) -> None:
    """Change page the way a user does, in the same session: click the link in the sidebar's navigation."""
    page.locator("[data-testid='stSidebarNav']").get_by_text(link, exact=True).click()
    page.get_by_role("heading").filter(has_text=title).first.wait_for(timeout=60_000)
    wait_idle(page, 120)
