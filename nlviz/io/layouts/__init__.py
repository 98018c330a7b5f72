"""Whole-model checkpoint layouts of public codebases, one file each; importing this package registers them in
:data:`nlviz.io.registries.LAYOUTS`.

Each layout module defines ``LAYOUT`` (a :class:`~nlviz.io.layouts.records.Layout`): its key patterns, the variants
its keys cannot show, ``build`` (public → nlviz arch + weights) and ``export`` (the inverse), both through the
layout's :class:`~nlviz.io.keymap.KeyMap`. The shared pieces live beside them: ``records`` (Checkpoint, Layout,
Converted), ``variants`` (resolving conventions), ``shapes`` (the ResNet a state dict is), ``blocks`` (where
operator blocks sit) and ``inputs`` (the card's input).
"""

from nlviz.io.layouts import alexhex7, bat, caffe2, cgnl, mmaction2, slowfast, timm, torchvision  # noqa: F401
