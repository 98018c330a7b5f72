"""Whole-model checkpoint layouts of public codebases, one file each (registered in ``nlviz.io.public.LAYOUTS``).

Each module defines ``LAYOUT`` (a :class:`~nlviz.io.layouts.base.Layout`): its key patterns, the variants its
keys cannot show, ``build`` (public → nlviz arch + weights) and ``export`` (the inverse).
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
