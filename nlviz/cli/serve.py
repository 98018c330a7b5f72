"""``python -m nlviz.cli.serve [streamlit run arguments]``: Streamlit's own CLI, with the heavy imports warmed.

The app's first page needs torch, nlviz.session and plotly; importing them takes seconds on a small machine. The
Streamlit server runs every session's scripts in its own process, so a thread that imports them while the server
starts (and before the first browser connects) takes those seconds out of the first figure. The imports are the
same modules the scripts import, so nothing runs that would not run anyway. ``nlviz app`` starts this.
"""

from __future__ import annotations

import sys
import threading

#: what the first Explore run imports (the page's own imports come from these)
WARM = ("torch", "plotly.graph_objects", "nlviz.session", "nlviz.render", "nlviz.analysis", "nlviz.extract")


def warm() -> None:
    import importlib

    for name in WARM:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a failing import fails again, with its message, in the page that needs it
            return


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli

    threading.Thread(target=warm, name="nlviz-warm-imports", daemon=True).start()
    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
