"""A model and its input, run and recorded: the home both the app's session and the batch exporter use.

- :class:`InputSpec` (``inputspec``): what a model expects (video/image, frames, size, channels, mean, std,
  classes), from its card, a JSON file or flags;
- :class:`LoadedModel`, :func:`load`, :func:`describe` (``loaded``): a model in eval mode with its spec, task,
  data seed and operator blocks;
- :func:`read_input`, :func:`model_input` (``inputs``): a source read as the model reads it, and its tensor;
- :func:`forward` (``forward``): one forward pass under :func:`nlviz.capture`.
"""

from nlviz.run.forward import Forward, forward
from nlviz.run.inputs import model_input, read_input
from nlviz.run.inputspec import InputSpec
from nlviz.run.loaded import BlockError, LoadedModel, describe, label_of, load, safe_name

__all__ = [
    "BlockError",
    "Forward",
    "InputSpec",
    "LoadedModel",
    "describe",
    "forward",
    "label_of",
    "load",
    "model_input",
    "read_input",
    "safe_name",
]
