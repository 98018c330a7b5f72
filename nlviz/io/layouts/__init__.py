"""Whole-model checkpoint layouts of public codebases, one file each (registered in ``nlviz.io.public.LAYOUTS``).

Each module defines ``LAYOUT`` (a :class:`~nlviz.io.layouts.records.Layout`): its key patterns, the variants its
keys cannot show, ``build`` (public → nlviz arch + weights) and ``export`` (the inverse). The shared pieces live
beside them, one concern each: ``records`` (Checkpoint, Layout, Converted), ``variants`` (resolving conventions),
``shapes`` (the ResNet a state dict is), ``blocks`` (where operator blocks sit) and ``inputs`` (the card's input);
keys are renamed both ways by each layout's :class:`~nlviz.io.keymap.KeyMap`.
"""

LAYOUT_MODULES = (
    "nlviz.io.layouts.mmaction2",
    "nlviz.io.layouts.slowfast",
    "nlviz.io.layouts.caffe2",
    "nlviz.io.layouts.alexhex7",
    "nlviz.io.layouts.cgnl",
    "nlviz.io.layouts.bat",
    "nlviz.io.layouts.timm",
    "nlviz.io.layouts.torchvision",
)
