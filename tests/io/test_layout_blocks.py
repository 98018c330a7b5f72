"""Single-block parity of the conventions each layout picks, against the reference packages that exist:

- SlowFast / Caffe2 blocks (pool before φ/g, softmax scaled by C'^-1/2, or ÷N_k) = pytorchvideo ``NonLocal``,
  which is SlowFast's block under other names;
- BAT official blocks (convs with bias, sigmoid normalization) = timm ``BatNonLocalAttn`` with the biases
  folded into its BatchNorm running means (timm's 1×1 convs have none);
- AlexHex7's four blocks (pool after the convs, no scale) = mmcv ``NonLocal2d`` with ``use_scale=False``.

The official CGNL code is not installable (and hard-codes CUDA): its layout is checked by key round trips and
the operator's own explicit-kernel reference (tests/ops/test_cgnl.py).
"""

from __future__ import annotations

import pytest
import torch
from mmcv.cnn.bricks.non_local import NonLocal2d
from pytorchvideo.layers.nonlocal_net import create_nonlocal

from nlviz import ops
from nlviz.io import convert_state_dict
from nlviz.io.layouts import bat as bat_layout
from nlviz.io.layouts import slowfast as slowfast_layout
from nlviz.io.sources.bat import TIMM
from nlviz.io.sources.nonlocal_block import CAFFE2, MMCV, SLOWFAST
from nlviz.models import build_model
from support.randomize import randomize
from support.refs import load_or_skip, timm_non_local_attn

pytestmark = pytest.mark.ref
TOL = 1e-5


def _err(ours, ref, x) -> float:
    with torch.no_grad():
        want = ref(x)
        assert (want - x).abs().max() > 0.05, "the reference block adds nothing: vacuous comparison"
        return ((ours(x) - want).abs().max() / want.abs().max()).item()


@pytest.mark.parametrize("instantiation", ["softmax", "dot_product"])
@pytest.mark.parametrize("caffe2", [False, True])
def test_slowfast_and_caffe2_blocks_match_pytorchvideo(instantiation, caffe2):
    c = 32
    ref = randomize(create_nonlocal(dim_in=c, dim_inner=c // 2, pool_size=(1, 2, 2), instantiation=instantiation))
    ours_names = convert_state_dict(ref.state_dict(), "pytorchvideo")
    public = (CAFFE2 if caffe2 else SLOWFAST).to_theirs(
        ours_names
    )  # the block as a SlowFast model_state / Caffe2 pickle holds it
    mode = slowfast_layout.MODE[instantiation]
    specs, state = slowfast_layout.nonlocal_specs({(3, 1): public}, mode, "before_conv", instantiation == "softmax")
    op = ops.create("nonlocal", c, **specs[0]["options"]).eval()
    op.load_state_dict({k.removeprefix("layer2.nl1."): v for k, v in state.items()})
    x = torch.randn(2, c, 3, 6, 5)  # odd width: the floor of the 1×2×2 pool matters
    assert _err(op, ref, x) <= TOL


def _fold_bias_into_bn(sd: dict) -> dict:
    """BN(Wx + b) = BN'(Wx) with running mean μ − b: drop the conv biases timm's layout cannot hold."""
    sd = dict(sd)
    for conv in ("reduce", "embed", "mix", "restore"):
        bias = sd.pop(f"{conv}.conv.bias")
        sd[f"{conv}.bn.running_mean"] = sd[f"{conv}.bn.running_mean"] - bias
    return sd


def test_bat_official_block_matches_timm():
    s, k = 7, 4
    model = randomize(
        build_model("r50_2d", blocks=[{"op": "bat", "stage": 3, "index": 1, "options": {"block_size": s, "groups": k}}])
    )
    official = bat_layout.export(model)  # layer3.nl1.{conv1.0, batransform.conv_p, ...}
    block = {key.removeprefix("layer3.nl1."): v for key, v in official.items() if key.startswith("layer3.nl1.")}
    assert "batransform.conv_p.bias" in block and "conv1.0.bias" in block
    name, options, state = bat_layout.block_spec(block)
    c = state["reduce.conv.weight"].shape[1]  # 1024 channels in res4
    op = ops.create(name, c, **options).eval()
    op.load_state_dict(state)
    ref = load_or_skip(timm_non_local_attn).BatNonLocalAttn(c, block_size=s, groups=k, rd_channels=c // 2)
    ref.load_state_dict(TIMM.to_theirs(_fold_bias_into_bn(state)))
    x = torch.randn(2, c, 14, 14)
    assert _err(op, ref.eval(), x) <= TOL


@pytest.mark.parametrize("mode", ["embedded_gaussian", "gaussian", "dot_product", "concatenation"])
def test_alexhex7_blocks_match_mmcv(mode):
    model = randomize(build_model("alexhex7_mnist", mode=mode))
    ref = NonLocal2d(32, sub_sample=True, use_scale=False, mode=mode, norm_cfg=dict(type="BN"))
    ref.load_state_dict(MMCV.to_theirs(model.nl_1.state_dict(), sub_sample=True))
    x = torch.randn(2, 32, 14, 14)
    assert _err(model.nl_1, ref.eval(), x) <= TOL
