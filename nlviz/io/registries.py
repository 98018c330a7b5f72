"""The registry of block key maps, filled where each entry is defined.

``SOURCES``: block key maps (:class:`~nlviz.io.keymap.KeyMap`) by public layout name, registered in
``nlviz/io/sources/`` (``MMCV = SOURCES.register("mmcv", KeyMap(...))``). This module imports none of them, so
the sources can import it; importing ``nlviz.io.sources`` fills it.
"""

from __future__ import annotations

from nlviz.registry import Registry

SOURCES = Registry("state-dict source")
