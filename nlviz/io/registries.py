"""The two registries of checkpoint conversion, filled where each entry is defined.

``SOURCES``: block key maps (:class:`~nlviz.io.keymap.KeyMap`) by public layout name, registered in
``nlviz/io/sources/`` (``MMCV = SOURCES.register("mmcv", KeyMap(...))``). ``LAYOUTS``: whole-model layouts
(:class:`~nlviz.io.layouts.records.Layout`), registered in ``nlviz/io/layouts/``. This module imports neither, so
both packages can import it; importing ``nlviz.io.sources`` / ``nlviz.io.layouts`` fills them.
"""

from __future__ import annotations

from nlviz.registry import Registry

SOURCES = Registry("state-dict source")
LAYOUTS = Registry("checkpoint layout")
