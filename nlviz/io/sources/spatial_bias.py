"""Key map ``spatialbias``: the official SB bottleneck (github.com/GoJunHyeong/SpatialBias).

Official keys (one ``Bottleneck`` with ``gc_group=True``, relative to the block) ↔ ours
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

from nlviz.io.keymap import KeyMap, same
from nlviz.io.registries import SOURCES

SB_BOTTLENECK = SOURCES.register(
    "spatialbias",
    KeyMap(
        "spatialbias",
        [
            *same("conv<1|2|3>.weight", "bn<1|2|3>.<bn>"),
            ("SB.feature_reduction.0.weight", "sb.reduce.weight"),
            ("SB.feature_reduction.1.<bn>", "sb.reduce_bn.<bn>"),
            ("SB.sb_conv.<p>", "sb.mix.<p>"),
            ("downsample.0.weight", "shortcut.conv.weight"),
            ("downsample.1.<bn>", "shortcut.bn.<bn>"),
        ],
    ),
)
