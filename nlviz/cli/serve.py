"""``python -m nlviz.cli.serve [streamlit run arguments]``: Streamlit's own CLI, with the heavy imports warmed.

The app's first page needs torch, nlviz.session and plotly; importing them takes seconds on a small machine. The
Streamlit server runs every session's scripts in its own process, so a thread that imports them while the server
starts (and before the first browser connects) takes those seconds out of the first figure. The imports are the
same modules the scripts import, so nothing runs that would not run anyway. ``nlviz app`` starts this, and
:func:`streamlit_command` is the one home of the command line it starts it with (the browser tests use it too).
"""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path

#: what the first Explore run imports (the page's own imports come from these)
WARM = ("torch", "plotly.graph_objects", "nlviz.session", "nlviz.render", "nlviz.analysis", "nlviz.extract")


def warm() -> None:
    """Import :data:`WARM` once the server is up (before, the imports would hold the GIL it starts with)."""
    import importlib
    import time

    from streamlit.runtime import Runtime

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (Runtime.exists() and Runtime.instance().state.name != "INITIAL"):
        time.sleep(0.1)
    for name in WARM:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a failing import fails again, with its message, in the page that needs it
            return
    # the warm imports leave ~2×10^5 long-lived objects (measured); frozen, the collector's full passes skip them
    gc.freeze()


#: Streamlit options every ``nlviz app`` server runs with, and why
SERVER_FLAGS = (
    ("server.headless", "true"),  # no browser opened on the server machine, no e-mail prompt
    ("browser.gatherUsageStats", "false"),  # the network is closed, and nothing is sent anywhere
    ("server.fileWatcherType", "none"),  # the app is installed code, not edited live
    # Streamlit runs gc.collect() after every script and fragment run, by default: with torch, plotly and pandas
    # loaded it holds the GIL ~170 ms, between the last delta of a click and the browser's redraw (p50 of a strip
    # click: 490 ms with it, 385 ms without; bench/README.md). Cycles are still collected by Python's own
    # thresholds, over the objects that warm() did not freeze.
    ("runner.postScriptGC", "false"),
)


def streamlit_command(
    home: Path, port: int, *, address: str | None = None, max_upload_mb: int | None = None
) -> list[str]:
    """The argv that serves the app at ``home`` on ``port``: this module, Streamlit's ``run`` and :data:`SERVER_FLAGS`."""
    cmd = [sys.executable, "-m", "nlviz.cli.serve", "run", str(home), "--server.port", str(port)]
    for key, value in SERVER_FLAGS:
        cmd += [f"--{key}", value]
    if address:
        cmd += ["--server.address", address]
    if max_upload_mb is not None:
        cmd += ["--server.maxUploadSize", str(max_upload_mb)]
    return cmd


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli

    threading.Thread(target=warm, name="nlviz-warm-imports", daemon=True).start()
    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
