"""Frame sampling: uniform, strided, and the pad policy for short sources."""

from __future__ import annotations

import pytest

from nlviz.data import InputError, sample_indices


def test_uniform_takes_segment_middles():
    assert sample_indices(16, 4) == ((2, 6, 10, 14), (False,) * 4)
    assert sample_indices(8, 8) == (tuple(range(8)), (False,) * 8)
    assert sample_indices(10, 3)[0] == (1, 5, 8)


def test_stride_and_all_frames():
    assert sample_indices(20, 4, stride=3, start=2)[0] == (2, 5, 8, 11)
    assert sample_indices(7, None, stride=2, start=1) == ((1, 3, 5), (False,) * 3)
    assert sample_indices(3, None)[0] == (0, 1, 2)


def test_short_source_repeats_last_frame():
    assert sample_indices(3, 5) == ((0, 1, 2, 2, 2), (False, False, False, True, True))
    assert sample_indices(10, 4, stride=4, start=1) == ((1, 5, 9, 9), (False, False, False, True))


def test_short_source_refused_with_pad_error():
    with pytest.raises(InputError, match=r"clip\.avi: has 3 frame\(s\) but 5 frames with uniform sampling need 5"):
        sample_indices(3, 5, pad="error", source="clip.avi")
    with pytest.raises(InputError, match="need 14"):
        sample_indices(10, 4, stride=4, start=1, pad="error")


def test_bad_arguments():
    with pytest.raises(ValueError, match="pad='loop'"):
        sample_indices(10, 4, pad="loop")
    with pytest.raises(ValueError, match="frames=0"):
        sample_indices(10, 0)
    with pytest.raises(ValueError, match="stride=0"):
        sample_indices(10, 2, stride=0)
    with pytest.raises(InputError, match="start=12 is past the last frame"):
        sample_indices(10, 2, stride=1, start=12)
    with pytest.raises(InputError, match="has no frames"):
        sample_indices(0, 2)
