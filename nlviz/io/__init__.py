"""Checkpoint I/O: nlviz checkpoints (safetensors + JSON card) and converters for public layouts."""

from nlviz.io.convert import convert_state_dict
from nlviz.io.registries import SOURCES

# Importing the source modules registers them in SOURCES.
from nlviz.io import sources  # noqa: E402,F401  isort: skip

__all__ = ["SOURCES", "convert_state_dict"]
