"""Capture: ``capture(model)`` records operator inputs; ``Recording.affinity`` computes exact rows lazily."""

from nlviz.extract.capture import BlockRecord, Recording, block_names, capture
from nlviz.extract.geometry import AffinityGeometry, GridGeometry

__all__ = ["AffinityGeometry", "BlockRecord", "GridGeometry", "Recording", "block_names", "capture"]
