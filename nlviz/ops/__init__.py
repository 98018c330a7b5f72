"""Operator families, one per file. ``create(name, in_channels, **options)`` builds any of them."""

from nlviz.ops.base import OPS, Affinity, NonLocalOp, OpInputs, TopK, create, names

# Importing the family modules registers them.
from nlviz.ops import nonlocal_block, cgnl, bat, spatial_bias  # noqa: E402,F401  isort: skip

__all__ = ["OPS", "Affinity", "NonLocalOp", "OpInputs", "TopK", "create", "names"]
