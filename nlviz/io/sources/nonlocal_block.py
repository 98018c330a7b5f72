"""Key maps of one non-local block (Wang et al. 2018) in public code ↔ ``nlviz.ops.nonlocal``.

Our names (see :class:`nlviz.ops.nonlocal_block.NonLocalBlock`): ``theta``, ``phi``, ``g``, ``conv_out``
(W_z, with bias), ``norm`` (BatchNorm after W_z) and ``concat_project`` (w_f, bias-free).

| key map                    | θ / φ / g                            | W_z              | norm             | w_f                 |
|----------------------------|--------------------------------------|------------------|------------------|---------------------|
| ``MMCV``                   | theta.conv, phi(.0).conv, g(.0).conv | conv_out.conv    | conv_out.bn      | concat_project.conv |
| ``PYTORCHVIDEO``           | conv_theta, conv_phi, conv_g         | conv_out         | norm             |                     |
| ``SLOWFAST``               | conv_theta, conv_phi, conv_g         | conv_out         | bn (or norm)     |                     |
| ``CAFFE2``                 | theta_w/_b, phi_w/_b, g_w/_b         | out_w/_b         | bn_s/_b/_rm/_riv |                     |
| ``ALEXHEX7``               | theta, phi(.0), g(.0)                | W.0 (W if no BN) | W.1              | concat_project.0    |
| ``SPATIAL_NL``, ``BAT_NL`` | t, p, g                              | z                | bn               |                     |

``MMCV``, ``PYTORCHVIDEO``, ``SLOWFAST`` and ``ALEXHEX7`` are registered as sources of those (lower-case) names;
the others serve one whole-model layout each.

(``.0`` appears when the block subsamples after the conv: export needs ``sub_sample=``.) mmcv's W_z has no bias
when followed by a norm: import adds a zero bias, and export folds our bias into the BN running mean, which is
exact (BN(Wy + b) with mean μ equals BN(Wy) with mean μ − b, in eval and in train mode). SlowFast names its BN
``bn`` or ``norm`` (export: ``norm_name=``, default ``bn``); the ``slowfast`` source also reads the block-relative
Caffe2 blobs (``theta_w`` from ``nonlocal_conv3_1_theta_w``, numpy arrays allowed, ``*_momentum`` solver blobs
dropped); ``CAFFE2`` writes them (no BN step counter) and completes ``NONLOCAL.NO_BIAS`` / ``USE_AFFINE`` files
(zero biases; BN mean 0, variance 1 − eps). ``SPATIAL_NL`` (the CGNL repository's ``SpatialNL``, bias-free convs)
and ``BAT_NL`` (the BAT repository's ``NonLocal``, with biases) are the plain blocks of those whole-model layouts.
"""

from __future__ import annotations

from nlviz.io.fixups import add_zero_biases, complete_affine_bn, drop_zero_biases, with_step_counter
from nlviz.io.keymap import Choice, KeyMap, StateDict
from nlviz.io.registries import SOURCES
from nlviz.io.sources.cgnl import NAMES as TPGZ

_CONVS = ("theta", "phi", "g", "conv_out")
#: Caffe2 blob name → our conv
_C2_CONVS = {"theta": "theta", "phi": "phi", "g": "g", "out": "conv_out"}
#: a ``.0`` in their key or not: after φ/g when the block subsamples after the conv (mmcv, AlexHex7), after
#: AlexHex7's W when a BN follows it (``W.0`` conv + ``W.1`` BN)
_DOT_ZERO = {True: ".0", False: ""}


def _fold_bias_into_norm(state: StateDict) -> StateDict:
    if "norm.running_mean" in state and "conv_out.bias" in state:
        state["norm.running_mean"] = state["norm.running_mean"] - state.pop("conv_out.bias")  # (C,)
    return state


MMCV = SOURCES.register(
    "mmcv",
    KeyMap(
        "mmcv",
        [
            ("theta.conv.<p>", "theta.<p>"),
            ("<phi|g>[sub_sample].conv.<p>", "<phi|g>.<p>"),
            ("conv_out.conv.<p>", "conv_out.<p>"),
            ("conv_out.bn.<bn>", "norm.<bn>"),
            ("concat_project.conv.weight", "concat_project.weight"),
        ],
        choices={"sub_sample": Choice(_DOT_ZERO)},
        on_import=lambda state: add_zero_biases(state, ("conv_out",)),
        on_export=_fold_bias_into_norm,
    ),
)

_PYTORCH_NAMES = [("conv_<theta|phi|g>.<p>", "<theta|phi|g>.<p>"), ("conv_out.<p>", "conv_out.<p>")]
PYTORCHVIDEO = SOURCES.register("pytorchvideo", KeyMap("pytorchvideo", [*_PYTORCH_NAMES, ("norm.<bn>", "norm.<bn>")]))

#: Caffe2 SpatialBN blob suffixes → BatchNorm entries (``_riv`` holds the running variance)
CAFFE2_BN = {"s": "weight", "b": "bias", "rm": "running_mean", "riv": "running_var"}
#: block-relative Caffe2 blobs of video-nonlocal-net (``nonlocal_conv{S}_{i}_`` stripped)
_BLOBS = [
    *(
        (f"{blob}_{c}", f"{ours}.{entry}")
        for blob, ours in _C2_CONVS.items()
        for c, entry in (("w", "weight"), ("b", "bias"))
    ),
    *((f"bn_{c}", f"norm.{entry}") for c, entry in CAFFE2_BN.items()),
]
_SOLVER = (r".+_momentum",)

SLOWFAST = SOURCES.register(
    "slowfast",
    KeyMap(
        "slowfast",
        [*_PYTORCH_NAMES, ("[norm_name].<bn>", "norm.<bn>"), *_BLOBS],
        choices={"norm_name": Choice({"bn": "bn", "norm": "norm"}, default="bn")},
        drop=_SOLVER,
        on_import=with_step_counter,
    ),
)


def _complete_caffe2_block(state: StateDict) -> StateDict:
    add_zero_biases(state, _CONVS)  # NONLOCAL.NO_BIAS
    complete_affine_bn(state, "norm")  # NONLOCAL.USE_AFFINE
    return with_step_counter(state)


CAFFE2 = KeyMap(
    "caffe2 block",
    _BLOBS,
    drop=_SOLVER,
    drop_ours=(r"norm\.num_batches_tracked",),
    on_import=_complete_caffe2_block,
)

ALEXHEX7 = SOURCES.register(
    "alexhex7",
    KeyMap(
        "alexhex7",
        [
            ("theta.<p>", "theta.<p>"),
            ("<phi|g>[sub_sample].<p>", "<phi|g>.<p>"),
            ("W[with_norm].<p>", "conv_out.<p>"),
            ("W.1.<bn>", "norm.<bn>"),
            ("concat_project.0.weight", "concat_project.weight"),
        ],
        # its blocks subsample by default; W is W.0 (conv) + W.1 (BN) with a norm and the conv alone without
        choices={
            "sub_sample": Choice(_DOT_ZERO, default=True),
            "with_norm": Choice(_DOT_ZERO, default=lambda state: "norm.weight" in state),
        },
    ),
)


def _tpgz(conv: str) -> list[tuple[str, str]]:
    """``t, p, g, z`` (our θ, φ, g, W_z; the CGNL repository's names) with entries ``conv`` and the BN ``bn``
    after W_z (our ``norm``)."""
    return [*((f"{t}.{conv}", f"{ours}.{conv}") for t, ours in TPGZ.items()), ("bn.<bn>", "norm.<bn>")]


SPATIAL_NL = KeyMap(
    "SpatialNL",
    _tpgz("weight"),
    on_import=lambda state: add_zero_biases(state, _CONVS),
    on_export=lambda state: drop_zero_biases(state, _CONVS, "SpatialNL"),
)
BAT_NL = KeyMap("BAT NonLocal", _tpgz("<p>"))
