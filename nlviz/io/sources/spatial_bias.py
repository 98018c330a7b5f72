"""State-dict source ``spatialbias``: the official SB bottleneck (github.com/GoJunHyeong/SpatialBias).

Official keys (one ``Bottleneck`` with ``gc_group=True``, relative to the block) → ours
(:class:`nlviz.ops.spatial_bias.SpatialBiasBottleneck`):

==============================================  ==============================
``conv1/2/3.weight``, ``bn1/2/3.*``              same names
``SB.feature_reduction.0.weight``                ``sb.reduce.weight``
``SB.feature_reduction.1.*`` (BatchNorm)         ``sb.reduce_bn.*``
``SB.sb_conv.weight`` / ``.bias`` (Conv1d)       ``sb.mix.weight`` / ``.bias``
``downsample.0.weight``, ``downsample.1.*``      ``shortcut.conv.weight``, ``shortcut.bn.*``
==============================================  ==============================

The official module stores Conv1d weights as (100, 100, 3), like ours, so tensors pass through unchanged.
The repository's older ``spatial_bias.py`` variant (``conv_gc_reduction``, ``nlc_convolution``) applies the
reduction conv with the block's stride, a different computation; it is not a supported source.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from nlviz.io.convert import SOURCES, StateDict, rename

_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"

#: official → nlviz
RULES: list[tuple[str, str]] = [
    (r"conv([123])\.weight", r"conv\1.weight"),
    (rf"bn([123])\.{_BN}", r"bn\1.\2"),
    (r"SB\.feature_reduction\.0\.weight", "sb.reduce.weight"),
    (rf"SB\.feature_reduction\.1\.{_BN}", r"sb.reduce_bn.\1"),
    (r"SB\.sb_conv\.(weight|bias)", r"sb.mix.\1"),
    (r"downsample\.0\.weight", "shortcut.conv.weight"),
    (rf"downsample\.1\.{_BN}", r"shortcut.bn.\1"),
]

#: nlviz → official
INVERSE_RULES: list[tuple[str, str]] = [
    (r"conv([123])\.weight", r"conv\1.weight"),
    (rf"bn([123])\.{_BN}", r"bn\1.\2"),
    (r"sb\.reduce\.weight", "SB.feature_reduction.0.weight"),
    (rf"sb\.reduce_bn\.{_BN}", r"SB.feature_reduction.1.\1"),
    (r"sb\.mix\.(weight|bias)", r"SB.sb_conv.\1"),
    (r"shortcut\.conv\.weight", "downsample.0.weight"),
    (rf"shortcut\.bn\.{_BN}", r"downsample.1.\1"),
]


@SOURCES.register("spatialbias")
def from_spatialbias(state_dict: Mapping[str, Tensor]) -> StateDict:
    """Official SB bottleneck keys → nlviz ``spatial_bias`` keys; an unknown key raises naming it."""
    return rename(state_dict, RULES, "spatialbias")


def to_spatialbias(state_dict: Mapping[str, Tensor]) -> StateDict:
    """nlviz ``spatial_bias`` keys → the official bottleneck's keys (the inverse of :func:`from_spatialbias`)."""
    return rename(state_dict, INVERSE_RULES, "spatialbias (inverse)")
