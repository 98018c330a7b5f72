"""What the colors mean: one color scale (range, colormap, label) shared by every frame of a view.

The label says what the weights *are*, because they differ by operator: a softmax row sums to 1, a dot product
÷N does not, a linear contribution can be negative. Non-negative weights use the range [0, max]; signed ones
a range symmetric about 0 (so white/the map's middle is 0 in a diverging map).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nlviz.render import colormap

_LABELS = {
    "softmax": "softmax weight (rows sum to 1)",
    "bilinear": "bilinear weight P·Q (rows sum to 1)",
    "dot_product": "dot product ÷N (not normalized)",
    "concatenation": "ReLU(concat) ÷N (not normalized)",
    "linear_contribution": "linear contribution to y (signed, units of y)",
    "share": "share of the row's |weight| (sums to 1)",
    "materialized": "weights the module built (as recorded)",
    "jacobian": "Jacobian influence, captum (signed)",
}
_ASCII = {
    "−": "-",
    "Σ": "sum ",
    "÷": "/",
    "·": "*",
    "—": "-",
    "–": "-",
    "×": "x",
    "≥": ">=",
    "≤": "<=",
    "∈": "in",
    "²": "^2",
    "‖": "|",
}


def weight_label(kind: str, normalized: bool, groups: str = "") -> str:
    """The legend text of an Affinity's weights, e.g. ``"softmax weight (rows sum to 1)"``.

    ``groups`` describes how groups/heads were reduced (``"mean of 4 groups"``) and is appended.
    """
    text = _LABELS.get(kind) or f"{kind} weight ({'rows sum to 1' if normalized else 'not normalized'})"
    return f"{text}, {groups}" if groups else text


@lru_cache(maxsize=4096)
def ascii_text(text: str) -> str:
    """The text with the few non-ASCII signs replaced (OpenCV's Hershey fonts draw ASCII only)."""
    import unicodedata

    for a, b in _ASCII.items():
        text = text.replace(a, b)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))  # P̃ → P
    return text.encode("ascii", "replace").decode()


@dataclass(frozen=True)
class ColorScale:
    """Values ``vmin … vmax`` mapped through ``cmap``; ``signed`` scales are symmetric about 0."""

    vmin: float
    vmax: float
    cmap: str
    label: str
    signed: bool = False

    def __post_init__(self) -> None:
        colormap.check_name(self.cmap)
        if not self.vmin < self.vmax:
            raise ValueError(f"color scale needs vmin < vmax, got [{self.vmin}, {self.vmax}]")

    def normalize(self, values: np.ndarray) -> np.ndarray:
        """Values → [0, 1] (clipped) along this scale."""
        v = (np.asarray(values, dtype=np.float64) - self.vmin) / (self.vmax - self.vmin)
        return np.clip(v, 0.0, 1.0)

    def strength(self, values: np.ndarray) -> np.ndarray:
        """|value| relative to the scale's largest |value|, in [0, 1]: how strongly a weight should show."""
        top = max(abs(self.vmin), abs(self.vmax))
        return np.clip(np.abs(np.asarray(values, dtype=np.float64)) / top, 0.0, 1.0)

    def colors(self, values: np.ndarray) -> np.ndarray:
        """Values → (..., 3) uint8 RGB."""
        return colormap.apply(self.cmap, self.normalize(values))

    def ticks(self, n: int = 3) -> list[float]:
        return [float(v) for v in np.linspace(self.vmin, self.vmax, n)]


def make_scale(
    values: np.ndarray,
    label: str,
    *,
    cmap: str = "auto",
    fixed: tuple[float, float] | None = None,
    signed: bool | None = None,
) -> ColorScale:
    """The scale that covers ``values`` (any shape): [0, max] or, when signed, [-max|v|, max|v|].

    ``fixed`` forces (vmin, vmax); ``signed`` forces the symmetric form (default: when any value is < 0);
    ``cmap="auto"`` picks viridis for non-negative and rdbu for signed scales.
    """
    v = np.asarray(values, dtype=np.float64)
    if fixed is not None:
        lo, hi = float(fixed[0]), float(fixed[1])
        is_signed = lo < 0 < hi if signed is None else signed
    else:
        is_signed = bool(v.size and v.min() < 0) if signed is None else signed
        m = float(np.abs(v).max()) if v.size else 0.0
        m = m if m > 0 and np.isfinite(m) else 1.0
        lo, hi = (-m, m) if is_signed else (0.0, m)
    name = ("rdbu" if is_signed else "viridis") if cmap == "auto" else cmap
    return ColorScale(lo, hi, name, label, is_signed)


def format_value(v: float) -> str:
    """Short tick text: 3 significant digits."""
    return f"{v:.3g}"
