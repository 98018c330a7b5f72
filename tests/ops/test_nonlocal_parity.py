"""Parity of ``nonlocal`` with the reference implementations, through the state-dict converters.

mmcv ``NonLocal1d/2d/3d`` (pool after conv; 1/√C' only in embedded gaussian; dot product and concatenation
÷N_k) and pytorchvideo ``create_nonlocal`` (pool on x before φ/g; softmax always scaled) with random weights
everywhere (their zero-initialized norm too, or the comparison would be vacuous), mapped both ways.
SlowFast's block is pytorchvideo's with other names: checked through its PyTorch names and Caffe2 blobs.
"""

from __future__ import annotations

import pytest
import torch
from mmcv.cnn.bricks.non_local import NonLocal1d, NonLocal2d, NonLocal3d
from pytorchvideo.layers.nonlocal_net import create_nonlocal

from nlviz import ops
from nlviz.io import convert_state_dict
from nlviz.io.sources import nonlocal_block as keys
from support.randomize import randomize
from support.state_dicts import same_tensors

pytestmark = pytest.mark.ref

C = 8
MODES = ["gaussian", "embedded_gaussian", "dot_product", "concatenation"]
MMCV = {
    1: (NonLocal1d, "BN1d", (2, C, 7)),
    2: (NonLocal2d, "BN2d", (2, C, 5, 6)),
    3: (NonLocal3d, "BN3d", (1, C, 2, 5, 4)),
}
TOL = 1e-5


def _max_err(ours, ref, x):
    with torch.no_grad():
        want = ref(x)
        assert (want - x).abs().max() > 0.05, "the reference block contributes nothing: vacuous comparison"
        return (ours(x) - want).abs().max().item()


MMCV_CASES = [(d, m, s, u, "bn") for d in (1, 2, 3) for m in MODES for s in (False, True) for u in (False, True)]
MMCV_CASES += [(2, m, True, True, None) for m in MODES]


@pytest.mark.parametrize(
    "dim,mode,sub_sample,use_scale,norm",
    MMCV_CASES,
    ids=[f"{d}d-{m}-sub{int(s)}-scale{int(u)}-{n}" for d, m, s, u, n in MMCV_CASES],
)
def test_mmcv(dim, mode, sub_sample, use_scale, norm):
    cls, bn, shape = MMCV[dim]
    norm_cfg = {"type": bn} if norm else None
    ref = randomize(
        cls(C, sub_sample=sub_sample, use_scale=use_scale, mode=mode, norm_cfg=norm_cfg), seed=0, std=0.3, mean_std=0.2
    )
    # mmcv ignores use_scale outside embedded gaussian; ours refuses a scale that does nothing
    options = {"mode": mode, "dim": dim, "sub_sample": sub_sample, "pool": "after_conv", "norm": norm}
    ours = ops.create("nonlocal", C, use_scale=use_scale and mode == "embedded_gaussian", **options).eval()
    converted = convert_state_dict(ref.state_dict(), "mmcv")
    ours.load_state_dict(converted)
    assert (
        same_tensors(keys.MMCV.to_theirs(converted, sub_sample=sub_sample), ref.state_dict()) == []
    )  # mmcv → ours → mmcv
    x = torch.randn(shape)
    assert _max_err(ours, ref, x) <= TOL

    # ours → mmcv: random weights incl. W_z's bias, which folds into the BN running mean
    randomize(ours, seed=1, std=0.3, mean_std=0.2)
    back = cls(C, sub_sample=sub_sample, use_scale=use_scale, mode=mode, norm_cfg=norm_cfg).eval()
    back.load_state_dict(keys.MMCV.to_theirs(ours.state_dict(), sub_sample=sub_sample))
    assert _max_err(back, ours, x) <= TOL


PTV_CASES = [
    (i, p, n, inner)
    for i in ("softmax", "dot_product")
    for p in (None, (1, 2, 2))
    for n in (True, False)
    for inner in (4,)
]
PTV_CASES += [("softmax", (1, 2, 2), True, 3)]


@pytest.mark.parametrize(
    "inst,pool_size,norm,inner",
    PTV_CASES,
    ids=[f"{i}-pool{int(bool(p))}-norm{int(n)}-inner{c}" for i, p, n, c in PTV_CASES],
)
def test_pytorchvideo(inst, pool_size, norm, inner):
    ref = randomize(
        create_nonlocal(
            dim_in=C,
            dim_inner=inner,
            pool_size=pool_size,
            instantiation=inst,
            norm=torch.nn.BatchNorm3d if norm else None,
        ),
        seed=0,
        std=0.3,
        mean_std=0.2,
    )
    mode = "embedded_gaussian" if inst == "softmax" else "dot_product"
    ours = ops.create(
        "nonlocal",
        C,
        mode=mode,
        dim=3,
        sub_sample=pool_size is not None,
        pool="before_conv",
        inter_channels=inner,
        norm="bn" if norm else None,
    ).eval()
    ours.load_state_dict(convert_state_dict(ref.state_dict(), "pytorchvideo"))
    x = torch.randn(2, C, 2, 5, 6)
    assert _max_err(ours, ref, x) <= TOL
    randomize(ours, seed=1, std=0.3, mean_std=0.2)
    ref.load_state_dict(keys.PYTORCHVIDEO.to_theirs(ours.state_dict()))
    assert _max_err(ref, ours, x) <= TOL


def test_slowfast_names_and_caffe2_blobs():
    """SlowFast's ``Nonlocal`` = pytorchvideo's math with ``bn`` (older) or ``norm``; Caffe2 blobs by block."""
    ref = randomize(
        create_nonlocal(dim_in=C, dim_inner=C // 2, pool_size=(1, 2, 2), instantiation="softmax"),
        seed=0,
        std=0.3,
        mean_std=0.2,
    )
    ptv = ref.state_dict()
    slowfast = {k.replace("norm.", "bn."): v for k, v in ptv.items()}
    blob = {"conv_theta": "theta", "conv_phi": "phi", "conv_g": "g", "conv_out": "out"}
    suffix = {"weight": "w", "bias": "b"}
    bn = {"weight": "s", "bias": "b", "running_mean": "rm", "running_var": "riv"}
    caffe2 = {}
    for key, value in ptv.items():
        layer, attr = key.split(".")
        if layer == "norm":
            if attr in bn:
                caffe2[f"bn_{bn[attr]}"] = value.numpy()
        else:
            caffe2[f"{blob[layer]}_{suffix[attr]}"] = value.numpy()
    assert set(caffe2) == {f"{n}_{s}" for n in ("theta", "phi", "g", "out") for s in "wb"} | {
        "bn_s",
        "bn_b",
        "bn_rm",
        "bn_riv",
    }
    caffe2_with_solver = {**caffe2, "theta_w_momentum": caffe2["theta_w"] * 0}

    x = torch.randn(1, C, 2, 4, 6)
    for layout in (slowfast, ptv, caffe2_with_solver):
        ours = ops.create("nonlocal", C, dim=3, sub_sample=True, pool="before_conv").eval()
        ours.load_state_dict(convert_state_dict(layout, "slowfast"))
        assert _max_err(ours, ref, x) <= TOL
    converted = convert_state_dict(slowfast, "slowfast")
    assert same_tensors(keys.SLOWFAST.to_theirs(converted), slowfast) == []
    assert same_tensors(keys.SLOWFAST.to_theirs(converted, norm_name="norm"), ptv) == []
    assert same_tensors(keys.CAFFE2.to_theirs(convert_state_dict(caffe2, "slowfast")), caffe2) == []
    with pytest.raises(ValueError, match="norm_name='batchnorm'"):
        keys.SLOWFAST.to_theirs(converted, norm_name="batchnorm")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sub_sample", [False, True])
@pytest.mark.parametrize("norm", ["bn", None])
def test_round_trips(mode, sub_sample, norm):
    """ours → layout → ours is the identity for every source that can hold the block."""
    ours = randomize(
        ops.create("nonlocal", C, mode=mode, dim=2, sub_sample=sub_sample, norm=norm), seed=0, std=0.3, mean_std=0.2
    )
    sd = ours.state_dict()
    if norm is None:  # mmcv's W_z keeps its bias only without a norm (with one it is folded, checked above)
        assert same_tensors(convert_state_dict(keys.MMCV.to_theirs(sd, sub_sample=sub_sample), "mmcv"), sd) == []
    assert same_tensors(convert_state_dict(keys.ALEXHEX7.to_theirs(sd, sub_sample=sub_sample), "alexhex7"), sd) == []
    if mode in ("embedded_gaussian", "dot_product"):
        assert same_tensors(convert_state_dict(keys.PYTORCHVIDEO.to_theirs(sd), "pytorchvideo"), sd) == []
        assert (
            same_tensors(convert_state_dict(keys.CAFFE2.to_theirs(sd), "slowfast"), sd) == []
        )  # BN never updated: count 0
    alex = keys.ALEXHEX7.to_theirs(sd, sub_sample=sub_sample)
    expected_w = "W.0.weight" if norm else "W.weight"
    assert expected_w in alex and ("phi.0.weight" in alex) == (sub_sample and mode != "gaussian")


def test_unknown_keys_are_named():
    ref = NonLocal2d(C, sub_sample=True, norm_cfg={"type": "BN"})
    with pytest.raises(ValueError, match=r"source='pytorchvideo'.*'conv_out\.bn\.bias'"):
        convert_state_dict(ref.state_dict(), "pytorchvideo")
    sd = {**ref.state_dict(), "extra.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"source='mmcv'\): unexpected key\(s\) \['extra\.weight'\]"):
        convert_state_dict(sd, "mmcv")
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['W\.2\.weight'\]"):
        convert_state_dict({"theta.weight": torch.zeros(1), "W.2.weight": torch.zeros(1)}, "alexhex7")
