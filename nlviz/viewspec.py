"""Compatibility name: the ViewSpec lives in :mod:`nlviz.export.viewspec` (the exporter's package).

``from nlviz.viewspec import ViewSpec`` keeps working for scripts written before the move; new code imports
``nlviz.export.viewspec`` (or ``nlviz.export.ViewSpec``).
"""

from nlviz.export.viewspec import *  # noqa: F403
