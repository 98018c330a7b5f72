"""Adapters for foreign block classes, one module per library or repository. Importing a module registers the
classes it knows (:func:`nlviz.extract.blocks.register`); nothing here imports the libraries themselves."""

from nlviz.extract.adapters import (  # noqa: F401
    alexhex7,
    bat,
    bat_video,
    cgnl,
    mmcv,
    pytorchvideo,
    repos_nl,
    slowfast,
    spatial_bias,
    timm_bat,
    timm_nonlocal,
)
