"""A user's own model, as a newcomer would write it: a factory file with a small conv net around an mmcv
``NonLocal2d``, its weights saved the usual ways, and the same model built in memory (the reference).

    path = write_factory(tmp_path)                    # tmp_path/usernet.py with build(), plus broken factories
    model, weights = saved_model(tmp_path)            # the in-memory model (random weights) and tmp_path/w.pth
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

from support.randomize import randomize

#: the factory module's text (mmcv-lite provides NonLocal2d)
FACTORY = '''\
"""A small image classifier with an mmcv NonLocal2d (support.factories)."""

from mmcv.cnn.bricks.non_local import NonLocal2d
from torch import nn


class Net(nn.Module):
    def __init__(self, width=8, classes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.nl = NonLocal2d(width, reduction=2, mode="embedded_gaussian")
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.nl(self.stem(x)).mean((2, 3)))


def build(width=8, classes=4):
    return Net(width, classes)


def not_a_module():
    return {"width": 8}


def broken(width=8):
    raise RuntimeError("out of coffee")


LIMIT = 3
'''
#: an image task whose 32×32 clips fit :data:`SPEC`
TASK = {"name": "image", "params": {"radius": 3}}
SPEC = {"video": False, "size": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


def write_factory(folder: Path, name: str = "usernet") -> Path:
    """Write the factory module ``folder/NAME.py`` (:data:`FACTORY`); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(FACTORY)
    return path


def import_factory_module(path: Path):
    """The factory file imported the ordinary way (as a test of the user's own code would)."""
    spec = importlib.util.spec_from_file_location(f"ref_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def saved_model(folder: Path, *, seed: int = 0, wrap: str | None = "state_dict", suffix: str = ".pth"):
    """The factory's model with random weights (NonLocal2d's zero-initialized output made active), and the path of
    its weights: a pickle (``torch.save``, in ``{wrap: ...}`` with a DataParallel ``module.`` prefix when ``wrap``
    is given) or a ``.safetensors`` file."""
    path = folder / "usernet.py"
    if not path.exists():
        write_factory(folder)
    model = randomize(import_factory_module(path).build(), seed=seed, std=0.3)
    weights = folder / f"w{suffix}"
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(weights))
    else:
        torch.save({wrap: {f"module.{k}": v for k, v in state.items()}} if wrap else state, weights)
    return model, weights
