"""Parity with mmaction2's ResNet3d (the I3D/C2D backbone of its NL configs): same numbers, same weights.

mmaction2's weights are renamed into ours with the key map below (mmcv's ``conv1.conv`` / ``conv1.bn``
→ torchvision's ``conv1`` / ``bn1``; its non-local blocks through ``nlviz.io.convert_state_dict(.., "mmcv")``).
"""

from __future__ import annotations

import re

import pytest
import torch

import nlviz.ops
from nlviz.models import build_model, paper_placement
from support.randomize import randomize
from support.refs import load_or_skip, mmaction_backbones

pytestmark = pytest.mark.ref

INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
NL5 = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))
NL_CFG = {"mode": "embedded_gaussian", "sub_sample": True, "use_scale": False}


@pytest.fixture(scope="module")
def resnet3d():
    """mmaction2's ResNet3d, imported without ``mmaction.models`` (its wheel lacks a module; support/refs.py)."""
    return load_or_skip(mmaction_backbones).ResNet3d


_RULES = [
    (r"conv1\.conv\.weight", r"conv1.weight"),
    (r"conv1\.bn\.(.*)", r"bn1.\1"),
    (r"(layer\d\.\d+)\.conv(\d)\.conv\.weight", r"\1.conv\2.weight"),
    (r"(layer\d\.\d+)\.conv(\d)\.bn\.(.*)", r"\1.bn\2.\3"),
    (r"(layer\d\.\d+)\.downsample\.conv\.weight", r"\1.downsample.0.weight"),
    (r"(layer\d\.\d+)\.downsample\.bn\.(.*)", r"\1.downsample.1.\2"),
]


def from_mmaction(sd: dict) -> dict:
    from nlviz.io import convert_state_dict

    out, nl = {}, {}
    for key, value in sd.items():
        m = re.fullmatch(r"(layer\d)\.(\d+)\.non_local_block\.(.*)", key)
        if m:
            nl.setdefault(f"{m[1]}.nl{m[2]}", {})[m[3]] = value
            continue
        for pattern, repl in _RULES:
            if re.fullmatch(pattern, key):
                out[re.sub(pattern, repl, key)] = value
                break
        else:
            raise KeyError(key)
    for prefix, block in nl.items():
        out.update({f"{prefix}.{k}": v for k, v in convert_state_dict(block, "mmcv").items()})
    return out


def _pair(resnet3d, arch: str, with_nl: bool):
    kt = 5 if arch == "r50_i3d" else 1
    inflate = INFLATE if arch == "r50_i3d" else tuple(tuple(0 for _ in r) for r in INFLATE)
    ref_args = dict(conv1_kernel=(kt, 7, 7), conv1_stride_t=2, pool1_stride_t=2, inflate=inflate)
    if with_nl:
        ref_args.update(non_local=NL5, non_local_cfg=dict(NL_CFG, norm_cfg=dict(type="BN3d", requires_grad=True)))
    ref = randomize(resnet3d(depth=50, pretrained=None, pretrained2d=False, **ref_args))
    ours = build_model(arch, blocks=paper_placement("5", "nonlocal", NL_CFG) if with_nl else []).eval()
    result = ours.load_state_dict(from_mmaction(ref.state_dict()), strict=False)
    assert result.missing_keys == [] or all(k.startswith("fc.") for k in result.missing_keys)
    assert result.unexpected_keys == []
    return ref, ours


@pytest.mark.parametrize("arch", ["r50_c2d", "r50_i3d"])
def test_backbone_matches_mmaction2(resnet3d, arch):
    ref, ours = _pair(resnet3d, arch, with_nl=False)
    assert sum(p.numel() for p in ref.parameters()) == sum(
        p.numel() for n, p in ours.named_parameters() if "fc" not in n
    )
    x = torch.randn(1, 3, 16, 32, 32)
    with torch.no_grad():
        want, got = ref(x), ours.forward_features(x)
    assert got.shape == want.shape == (1, 2048, 2, 1, 1)
    err = ((got - want).abs().max() / want.abs().max()).item()
    assert err <= 1e-5, err


@pytest.mark.skipif("nonlocal" not in nlviz.ops.names(), reason="the nonlocal operator is not registered yet")
def test_i3d_nl5_matches_mmaction2(resnet3d):
    ref, ours = _pair(resnet3d, "r50_i3d", with_nl=True)
    x = torch.randn(1, 3, 16, 64, 64)  # res3 2×8×8, res4 2×4×4
    with torch.no_grad():
        want, got = ref(x), ours.forward_features(x)
    err = ((got - want).abs().max() / want.abs().max()).item()
    assert err <= 1e-5, err
