"""A model and its input, run and recorded: the home both the app's session and the batch exporter use.

- :class:`InputSpec` (``inputspec``): what a model expects (video/image, frames, size, channels, mean, std,
  classes), from its card, a JSON file or flags;
- :class:`UserModel` (``usermodel``): the user's own model, named by its factory (``file.py:build``), weights,
  input spec and optional synthetic task; :func:`build_user_model` (``factory``) imports and builds it;
- :func:`load_model`, :func:`load_checkpoint` (``loader``): a model by any name (``nlviz.load_model``);
  ``load_checkpoint`` takes zoo names and files only and never runs code;
- :func:`resolve_device` (``device``): ``auto|cpu|cuda|mps`` → a ``torch.device``, with clear errors;
- :class:`LoadedModel`, :func:`load`, :func:`describe` (``loaded``): a model in eval mode with its spec, task,
  data seed, operator blocks and device;
- :func:`read_input`, :func:`model_input` (``inputs``): a source read as the model reads it, and its tensor;
  :func:`synthetic_sample` the synthetic clip with its masks, objects and label;
- :class:`Item`, :func:`expand_inputs`, :func:`parse_shard` (``sources``): inputs of a batch job, and shards;
- :func:`forward` (``forward``): one forward pass under :func:`nlviz.capture`.
"""

from nlviz.run.device import DEVICES, available_devices, device_of, resolve_device
from nlviz.run.factory import build_user_model, import_factory, read_weights
from nlviz.run.forward import Forward, forward
from nlviz.run.inputs import model_input, read_input, synthetic_sample
from nlviz.run.inputspec import InputSpec
from nlviz.run.loaded import BlockError, LoadedModel, describe, label_of, load, safe_name
from nlviz.run.loader import load_checkpoint, load_model
from nlviz.run.sources import Item, expand_inputs, parse_shard
from nlviz.run.usermodel import UserModel, as_input_spec, is_factory, parse_factory

__all__ = [
    "DEVICES",
    "BlockError",
    "Forward",
    "InputSpec",
    "Item",
    "LoadedModel",
    "UserModel",
    "as_input_spec",
    "available_devices",
    "build_user_model",
    "describe",
    "expand_inputs",
    "device_of",
    "forward",
    "import_factory",
    "is_factory",
    "label_of",
    "load",
    "load_checkpoint",
    "load_model",
    "model_input",
    "parse_factory",
    "parse_shard",
    "read_input",
    "read_weights",
    "resolve_device",
    "safe_name",
    "synthetic_sample",
]
