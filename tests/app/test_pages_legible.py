"""No figure text is cut off or overlaps other text, in a real browser (Debian chromium through Playwright), on the
shipped checkpoints of a BAT video model (two colorbars per figure, the BA-Transform page) and an image model (one
frame: the narrowest figures). Before the colorbars moved under the plots, every Compare and Attribution figure
had one overlap (the first bar's title under the second bar's ticks) and the BA-Transform page another."""

from __future__ import annotations

import pytest

from support.browser import skip_without_browser
from support.screens import shoot

pytestmark = pytest.mark.browser


def test_compare_bat_attribution_and_explore_text_is_legible(tmp_path):
    skip_without_browser()
    found = shoot(tmp_path, ("st_bat3d", "im_bat"), pages=("explore", "compare", "bat", "attribution"))
    assert len(found) == 8
    assert {shot: problems for shot, problems in found.items() if problems} == {}
    assert all((tmp_path / shot).stat().st_size > 10_000 for shot in found)  # real page screenshots
