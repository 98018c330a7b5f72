"""Confidence intervals over clips: what ``nlviz report`` puts beside every mean.

- :func:`bootstrap_ci`: the mean of per-clip values with a 95 % *percentile bootstrap* interval — ``resamples``
  resamples of the clips with replacement, drawn by ``numpy.random.default_rng(seed)`` (PCG64, so the same
  values and seed give the same interval on every machine); the interval is the 2.5 % and 97.5 % quantiles of
  the resampled means (linear interpolation). It assumes nothing about the shape of the distribution, suits
  bounded and skewed figures (shares, distances, ratios) and is exact for the values given: clips are the
  unit, queries within a clip are averaged first.
- :func:`wilson_ci`: for a proportion (top-1), the Wilson score interval at z = 1.959964, which unlike the
  bootstrap does not collapse to a point when every clip is right (or wrong).

NaN values (a metric undefined on that clip, e.g. no query on the target) are left out; ``n`` counts the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
#: resamples of :func:`bootstrap_ci` (the report's default)
RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` clips and its 95 % interval [lo, hi] (all NaN when n = 0)."""

    mean: float
    lo: float
    hi: float
    n: int


def _finite(values: Sequence[float]) -> np.ndarray:
    v = np.asarray([float(x) for x in values], dtype=np.float64)
    return v[np.isfinite(v)]


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, resamples: int = RESAMPLES) -> Interval:
    """Mean and 95 % percentile-bootstrap interval of ``values`` (see the module docstring)."""
    v = _finite(values)
    n = len(v)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = math.fsum(v) / n
    if n == 1:
        return Interval(mean, mean, mean, 1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))  # (R, n) clips drawn with replacement
    means = v[idx].mean(1)  # (R,)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return Interval(mean, float(min(lo, mean)), float(max(hi, mean)), n)


def wilson_ci(successes: int, n: int) -> Interval:
    """The proportion ``successes / n`` and its 95 % Wilson score interval."""
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    p = successes / n
    z2 = Z95**2
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(p, max(0.0, center - half), min(1.0, center + half), n)
