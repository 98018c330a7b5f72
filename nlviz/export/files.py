"""Writing output files safely and reproducibly.

Every writer goes through :func:`atomic`: the file is written under a temporary name in the same folder
(``.NAME.tmp-PID.EXT``) and renamed into place only when complete, so an interrupted run never leaves a
partial file under a real name; :func:`clean_temps` removes the leftovers of a killed run. PNG (OpenCV's
encoder, :func:`nlviz.data.png_bytes`), JSON (sorted keys) and NPZ (fixed zip timestamps) bytes depend only on
their content.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nlviz.data.encode import png_bytes

TMP_MARK = ".tmp-"
PLOTLY_JS = "plotly.min.js"


@contextlib.contextmanager
def atomic(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``, on error delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}{TMP_MARK}{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def is_temp(path: Path) -> bool:
    return path.name.startswith(".") and TMP_MARK in path.name


def clean_temps(folder: str | Path) -> list[Path]:
    """Delete temporary files left in ``folder`` (not recursive) by an interrupted run; returns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    gone = [p for p in folder.iterdir() if p.is_file() and is_temp(p)]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def write_json(path: str | Path, obj: Any) -> Path:
    """Sorted keys, no NaN: identical content gives identical bytes."""
    return write_text(path, json_text(obj))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    return write_bytes(path, png_bytes(image))


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez_compressed`` layout, but with fixed zip timestamps (byte-identical for identical arrays)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
    return write_bytes(path, buf.getvalue())


def write_mp4(path: str | Path, frames: list[np.ndarray], fps: float) -> Path:
    from nlviz.data import encode_mp4

    with atomic(path) as tmp:
        encode_mp4(frames, tmp, fps)
    return Path(path)


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def write_plotly_js(folder: str | Path) -> Path:
    """Write the shared ``plotly.min.js`` into ``folder`` (once: an existing complete copy is kept)."""
    path = Path(folder) / PLOTLY_JS
    js = plotly_js().encode("utf-8")
    if not (path.exists() and path.stat().st_size == len(js)):
        write_bytes(path, js)
    return path


def html_page(figures: list[tuple[str, Any]], *, title: str, plotlyjs: str = "inline") -> str:
    """One offline HTML page holding ``figures`` ((heading, plotly figure) pairs).

    ``plotlyjs="inline"`` embeds plotly.js (self-contained, ~4.7 MB); any other value is the relative URL of a
    shared ``plotly.min.js`` (see :func:`write_plotly_js`). Never a CDN link. Div ids are deterministic.
    """
    import html as _html

    if plotlyjs == "inline":
        script = f'<script type="text/javascript">{plotly_js()}</script>'
    else:
        script = f'<script src="{_html.escape(plotlyjs)}"></script>'
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{_html.escape(title)}</title>",
        script,
        "<style>body{font-family:sans-serif;margin:16px} h2{font-size:15px;margin:18px 0 4px}</style>",
        "</head><body>",
        f"<h1 style='font-size:18px'>{_html.escape(title)}</h1>",
    ]
    for i, (heading, fig) in enumerate(figures):
        parts.append(f"<h2>{_html.escape(heading)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"nlviz-fig-{i}"))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(path: str | Path, figures: list[tuple[str, Any]], *, title: str, plotlyjs: str = "inline") -> Path:
    return write_text(path, html_page(figures, title=title, plotlyjs=plotlyjs))
