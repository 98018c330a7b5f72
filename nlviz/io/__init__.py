"""Checkpoint I/O: nlviz checkpoints (safetensors + JSON card) and converters for public layouts."""

from nlviz.io.convert import SOURCES, convert_state_dict

__all__ = ["SOURCES", "convert_state_dict"]
