"""Paper sizes for the vector figures: column widths and print font sizes (no matplotlib here, so a ViewSpec can
check a width without importing it).

A width is a preset — ``"single"`` (one column of a two-column paper, 3.25 in ≈ 8.3 cm: CVPR, ICCV, IEEE) or
``"double"`` (the full text width, 6.875 in ≈ 17.5 cm) — or a length: a number of inches (``3.5``) or a string with
its unit (``"3.5in"``, ``"8.9cm"``, ``"89mm"``, ``"252pt"``).
"""

from __future__ import annotations

import math
import re

#: preset name → width in inches
PAPER_WIDTHS = {"single": 3.25, "double": 6.875}
UNITS = {"in": 1.0, "cm": 1 / 2.54, "mm": 1 / 25.4, "pt": 1 / 72}
MIN_WIDTH, MAX_WIDTH = 1.5, 20.0  # inches: narrower leaves no room for a readable label, wider is a poster
#: font sizes (pt): labels, tick and frame labels; none is below MIN_FONT (a journal's smallest print size)
FONT, SMALL_FONT, MIN_FONT = 7.0, 6.5, 6.0

_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(in|cm|mm|pt)?\s*")
HELP = (
    f"'single' ({PAPER_WIDTHS['single']} in, one column) or 'double' ({PAPER_WIDTHS['double']} in, the text width), "
    "or a length: inches as a number (3.5) or with a unit ('3.5in', '8.9cm', '89mm', '252pt')"
)


def width_inches(width: str | float) -> float:
    """The width in inches of a preset name or a length (see the module docstring).

    Raises:
        ValueError: an unknown preset, a malformed length, or a width outside [1.5, 20] in; the message lists
            what is accepted.
    """
    if isinstance(width, str) and width.strip().lower() in PAPER_WIDTHS:
        return PAPER_WIDTHS[width.strip().lower()]
    if isinstance(width, bool):
        raise ValueError(f"paper width {width!r} is not a width; use {HELP}")
    if isinstance(width, (int, float)):
        inches = float(width)
    elif isinstance(width, str) and (m := _LENGTH.fullmatch(width.lower())):
        inches = float(m.group(1)) * UNITS[m.group(2) or "in"]
    else:
        raise ValueError(f"paper width {width!r} is not a width; use {HELP}")
    if not (math.isfinite(inches) and MIN_WIDTH <= inches <= MAX_WIDTH):
        raise ValueError(
            f"paper width {width!r} is {inches:.3g} in; use a width between {MIN_WIDTH} and {MAX_WIDTH} in ({HELP})"
        )
    return inches


def width_text(width: str | float) -> str:
    """A short name of the width for file names and captions: ``single``, ``double`` or ``3.5in``."""
    if isinstance(width, str) and width.strip().lower() in PAPER_WIDTHS:
        return width.strip().lower()
    return f"{width_inches(width):.4g}in"
