"""For every registered block source and every whole-model layout, ours → theirs → ours is the identity on a
random model and theirs → ours → theirs the identity on the public keys (tensor-equal), both through the one
key-map mechanism (``nlviz.io.keymap``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from nlviz import ops
from nlviz.io import SOURCES, convert_state_dict, public
from nlviz.io.layouts.records import Checkpoint
from nlviz.io.sources.nonlocal_block import BAT_NL, CAFFE2, SPATIAL_NL
from nlviz.models import build_model, paper_placement
from support.randomize import randomize
from support.state_dicts import same_tensors, zero_biases_

_NL_CONVS = ("theta", "phi", "g", "conv_out")


def _nl(**options):
    return ops.create("nonlocal", 8, dim=2, **options)


def _bat(**options):
    return ops.create("bat", 16, block_size=2, groups=2, **options)


#: (key map name, its op, export options, convs whose bias the public layout does not hold)
BLOCKS = [
    ("mmcv", lambda: _nl(mode="concatenation", sub_sample=True), {"sub_sample": True}, ("conv_out",)),
    ("mmcv", lambda: _nl(mode="embedded_gaussian", norm=None), {"sub_sample": False}, ()),
    ("pytorchvideo", lambda: _nl(mode="dot_product"), {}, ()),
    ("slowfast", lambda: _nl(sub_sample=True), {}, ()),
    ("slowfast", lambda: _nl(mode="dot_product"), {"norm_name": "norm"}, ()),
    ("alexhex7", lambda: _nl(mode="concatenation", sub_sample=True), {}, ()),
    ("alexhex7", lambda: _nl(mode="gaussian", norm=None), {"sub_sample": False}, ()),
    ("timm", lambda: _bat(bias=False), {}, ()),
    ("bat", lambda: _bat(dim=3, temporal=True, temporal_block_size=2), {}, ()),
    ("cgnl", lambda: ops.create("cgnl", 16, groups=2, dim=2), {}, ()),
    ("spatialbias", lambda: ops.create("spatial_bias", 32, planes=16, stride=2, out_channels=64), {}, ()),
    ("caffe2 block", lambda: _nl(sub_sample=True), {}, ()),
    ("SpatialNL", lambda: _nl(mode="embedded_gaussian"), {}, _NL_CONVS),
    ("BAT NonLocal", lambda: _nl(mode="embedded_gaussian"), {}, ()),
]
#: the block key maps no source name registers (they serve one whole-model layout)
UNREGISTERED = {k.name: k for k in (CAFFE2, SPATIAL_NL, BAT_NL)}


def test_every_block_key_map_has_a_round_trip_case():
    assert {name for name, *_ in BLOCKS} == set(SOURCES.names()) | set(UNREGISTERED)


@pytest.mark.parametrize("name, make, options, bias_free", BLOCKS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BLOCKS)])
def test_block_round_trips_are_the_identity(name, make, options, bias_free):
    op = randomize(make())
    zero_biases_(op, bias_free)
    ours = op.state_dict()
    keys = UNREGISTERED.get(name) or SOURCES.get(name)

    def to_ours(theirs):
        return keys.to_ours(theirs) if name in UNREGISTERED else convert_state_dict(theirs, name)

    theirs = keys.to_theirs(ours, **options)
    assert all(re.fullmatch(keys.pattern(), k) for k in theirs)  # written in the public names
    assert same_tensors(to_ours(theirs), ours) == []  # ours → theirs → ours
    assert same_tensors(keys.to_theirs(to_ours(theirs), **options), theirs) == []  # theirs → ours → theirs
    op.load_state_dict(to_ours(theirs), strict=True)


NL_5 = {"mode": "embedded_gaussian", "sub_sample": True, "pool": "before_conv", "use_scale": True}
MM_5 = {"mode": "dot_product", "sub_sample": True, "use_scale": False}
BAT_5 = paper_placement("5", "bat", {"block_size": 7, "groups": 4})
BAT_NL_BLOCK = {"op": "nonlocal", "stage": 3, "index": 4, "options": {"mode": "embedded_gaussian", "use_scale": True}}
TIMM_ATTN = {"op": "bat", "options": {"block_size": 8, "groups": 2, "normalize": "sigmoid", "bias": False}}
#: (format, file name, arch, arch args, convs of the non-local blocks whose bias the layout does not hold)
LAYOUTS = [
    (
        "mmaction2:dot_product",
        "i3d_nl.pth",
        "r50_i3d",
        {"blocks": paper_placement("5", "nonlocal", MM_5)},
        ("conv_out",),
    ),
    ("slowfast:softmax", "I3D_NLN_8x8_R50.pyth", "r50_i3d", {"blocks": paper_placement("5", "nonlocal", NL_5)}, ()),
    ("caffe2:softmax", "i3d_nonlocal_8x8.pkl", "r50_i3d", {"blocks": paper_placement("5", "nonlocal", NL_5)}, ()),
    ("alexhex7:embedded_gaussian", "net.pth", "alexhex7_mnist", {}, ()),
    ("cgnl:dot", "model_best.pth.tar", "r50_2d", {"blocks": [{"op": "cgnl", "stage": 3, "index": 4}]}, ()),
    ("cgnl:nl", "model_best.pth.tar", "r50_2d", {"blocks": [BAT_NL_BLOCK]}, _NL_CONVS),
    ("bat", "nlnet50.pth.tar", "r50_2d", {"blocks": [*BAT_5, BAT_NL_BLOCK]}, ()),
    ("timm", "bat_resnext26ts.pth", "timm_resnext26ts", {"attn": TIMM_ATTN}, ()),
    ("torchvision", "resnet50.pth", "r50_2d", {}, ()),
]


def test_every_layout_has_a_round_trip_case():
    assert {fmt.partition(":")[0] for fmt, *_ in LAYOUTS} == set(public.LAYOUTS.names())


@pytest.mark.parametrize("fmt, filename, arch, args, bias_free", LAYOUTS, ids=[row[0] for row in LAYOUTS])
def test_layout_round_trips_are_the_identity(fmt, filename, arch, args, bias_free):
    torch.manual_seed(0)
    model = randomize(build_model(arch, num_classes=10, **args))
    for op in model.modules():
        if getattr(op, "family", None) == "nonlocal":
            zero_biases_(op, bias_free)
    theirs = public.export_state_dict(model, fmt)
    ckpt = Checkpoint(Path(filename), dict(theirs))
    assert public.detect(ckpt) == fmt.partition(":")[0]
    loaded = public.build(public.convert(ckpt, fmt), filename)
    assert same_tensors(loaded.state_dict(), model.state_dict()) == []  # ours → theirs → ours
    assert same_tensors(public.export_state_dict(loaded, fmt), theirs) == []  # theirs → ours → theirs
