"""Adapters for foreign block classes, one module per library or repository. Importing a module registers the
classes it knows (:func:`nlviz.extract.blocks.register`); nothing here imports the libraries themselves."""

from nlviz.extract.adapters import (
    alexhex7,  # noqa: F401
    mmcv,  # noqa: F401
    pytorchvideo,  # noqa: F401
    repos_nl,  # noqa: F401
    slowfast,  # noqa: F401
    timm_nonlocal,  # noqa: F401
)
