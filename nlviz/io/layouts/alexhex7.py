"""AlexHex7/Non-local_pytorch: the MNIST network of ``lib/network.py`` with any of the four block files
(``non_local_{embedded_gaussian,gaussian,dot_product,concatenation}.py``); ``weights/net.pth`` is the released
embedded-gaussian one.

Keys (``module.`` from DataParallel): ``conv_{1,2,3}.{0,1}`` (conv, BN), ``nl_{1,2}.*`` (``theta``,
``phi.0``/``g.0`` — subsampled after the conv —, ``W.0`` conv + ``W.1`` BN, ``concat_project.0``) and
``fc.{0,3}``. Gaussian blocks have no ``theta``/``phi`` weights and concatenation blocks a ``concat_project``:
those modes come from the keys. Embedded gaussian and dot product have the same keys: the file name decides
(``dot``/``embedded``), else the released instantiation, embedded gaussian, is assumed and the card says so
(``alexhex7:dot_product`` overrides). Conventions: C' = C/2, max-pool 2×2 after the φ/g convs, no 1/√C' scale,
dot product and concatenation divide by N_k, BN after W_z zero-initialized (γ=β=0).
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from nlviz.io.checkpoint import CheckpointError
from nlviz.io.convert import strip_prefix
from nlviz.io.keymap import KeyMap, StateDict, same
from nlviz.io.layouts.records import Checkpoint, Converted, Layout
from nlviz.io.layouts.variants import resolve_variant
from nlviz.io.registries import LAYOUTS
from nlviz.io.sources.nonlocal_block import ALEXHEX7

NAME = "alexhex7"
_BLOCKS = ("nl_1", "nl_2")
VARIANTS = {"embedded_gaussian": "softmax(θᵀφ), no scale (the released net.pth)", "dot_product": "θᵀφ / N_k"}
#: the network around the blocks keeps its names (``conv_{1,2,3}.{0,1}`` conv + BN, ``fc.{0,3}``)
NETWORK = KeyMap(f"{NAME} network", same("conv_<1|2|3>.0.<p>", "conv_<1|2|3>.1.<bn>", "fc.<0|3>.<p>"))


def _split(sd: Mapping[str, Tensor]) -> tuple[StateDict, dict[str, StateDict]]:
    """(network keys, {block name: its keys relative to the block})."""
    blocks: dict[str, StateDict] = {b: {} for b in _BLOCKS}
    rest: StateDict = {}
    for key, value in sd.items():
        head, _, tail = key.partition(".")
        if head in blocks:
            blocks[head][tail] = value
        else:
            rest[key] = value
    return rest, blocks


def load_alexhex7_state_dict(sd: Mapping[str, Tensor]) -> StateDict:
    """The released ``net.pth`` state dict (``module.`` prefix or not) → a state dict for
    :class:`nlviz.models.alexhex7.AlexHex7MNIST`.

    The non-local blocks go through the ``alexhex7`` key map; the convs and fc keep their names. Any key outside
    that layout is a ValueError naming it.
    """
    rest, blocks = _split(strip_prefix(sd))
    out = NETWORK.to_ours(rest, where="load_alexhex7_state_dict: the network")
    for name, block in blocks.items():
        if not block:
            raise ValueError(
                f"load_alexhex7_state_dict: no keys for block {name!r} (expected '{name}.theta.weight', ...)"
            )
        out.update({f"{name}.{k}": v for k, v in ALEXHEX7.to_ours(block, where=f"operator block {name}").items()})
    return out


def _mode_from_keys(ckpt: Checkpoint) -> str | None:
    keys = [k.partition(".")[2] for k in ckpt.state if k.split(".")[0] in _BLOCKS]
    if any(k.startswith("concat_project") for k in keys):
        return "concatenation"
    if keys and not any(k.startswith("theta") for k in keys):
        return "gaussian"
    return None


def build(ckpt: Checkpoint, variant: str | None) -> Converted:
    mode, mode_from = resolve_variant(
        NAME,
        variant,
        ckpt,
        from_keys=_mode_from_keys(ckpt),
        name_hints={"dot_product": r"dot[-_]?prod", "embedded_gaussian": r"embedded"},
        default="embedded_gaussian",
        choices=list(VARIANTS),
    )
    try:
        state = load_alexhex7_state_dict(ckpt.state)
    except ValueError as e:
        raise CheckpointError(f"{ckpt.path}: {e}") from None
    card = {
        "variant": mode,
        "variant_from": mode_from,
        "conventions": {
            "instantiation": mode,
            "scale": "none (AlexHex7 never scales θᵀφ)",
            "pooling": "max-pool 2×2 of φ and g after their 1×1 convs",
            "placement": "nl_1 after conv_1 (32 ch, 14×14 queries), nl_2 after conv_2 (64 ch, 7×7)",
            "zero_init": "BN after W_z starts at γ=β=0 (the trained weights replace it)",
        },
        "input": {"shape": [1, 28, 28], "mean": [0.0], "std": [1.0], "channels": "grayscale in [0, 1]"},
    }
    return Converted("alexhex7_mnist", {"mode": mode, "num_classes": int(state["fc.3.weight"].shape[0])}, state, card)


def export(model: nn.Module) -> StateDict:
    """Our AlexHex7MNIST → the released key names (without DataParallel's ``module.``)."""
    rest, blocks = _split(model.state_dict())
    out = NETWORK.to_theirs(rest)
    for name, block in blocks.items():
        out.update({f"{name}.{k}": v for k, v in ALEXHEX7.to_theirs(block, sub_sample=True).items()})
    return out


LAYOUT = LAYOUTS.register(
    NAME,
    Layout(
        name=NAME,
        summary="AlexHex7/Non-local_pytorch MNIST network (conv_1..3, nl_1, nl_2, fc), any of its four blocks",
        keys=NETWORK,
        specific=(rf"nl_[12]\.(?:{ALEXHEX7.pattern()})",),
        variants=VARIANTS,
        build=build,
        export=export,
    ),
)
