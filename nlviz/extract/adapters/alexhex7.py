"""AlexHex7/Non-local_pytorch's ``NONLocalBlock1D/2D/3D``, one set per file ``lib/non_local_{embedded_gaussian,
gaussian,dot_product,concatenation}.py``: the class names are the same in every file, so the pairwise function
is read from the *module that defines the class* (its file name). Matched under any package path
(``lib.non_local_dot_product``, a copy in the user's own package ...).

The block (``_NonLocalBlockND``): ``g``, ``theta``, ``phi`` 1×1 convs C → ``inter_channels`` (C'); with
``sub_sample`` a max pool (2, 2×2 or 1×2×2) follows inside ``g`` and ``phi`` (``nn.Sequential(conv, pool)``),
i.e. pooling *after* the convs. Embedded gaussian: softmax_j(θ_iᵀφ_j), never scaled; gaussian: softmax_j(x_iᵀx_j)
on the raw input (no θ/φ convs; ``phi`` is the bare pool with ``sub_sample``, absent without); dot product:
θ_iᵀφ_j / N_k; concatenation: ReLU(w_fᵀ[θ_i; φ_j]) / N_k with ``concat_project[0]`` the bias-free 2C' → 1 conv.
Output: ``W`` (conv, or conv + BN with ``bn_layer``), added to x.
"""

from __future__ import annotations

from torch import nn

from nlviz.extract.blocks import register
from nlviz.extract.roles import NonLocalRoles, RolesAdapter

NAMES = ("NONLocalBlock1D", "NONLocalBlock2D", "NONLocalBlock3D")
#: file (module) name → (mode, the pairwise kind, attributes the adapter reads)
FILES = {
    "non_local_embedded_gaussian": ("embedded_gaussian", "softmax", ("theta", "phi")),
    "non_local_gaussian": ("gaussian", "softmax", ()),
    "non_local_dot_product": ("dot_product", "dot_product", ("theta", "phi")),
    "non_local_concatenation": ("concatenation", "concatenation", ("theta", "phi", "concat_project")),
}


def file_of(block: nn.Module) -> str:
    """The AlexHex7 file (module name) that defines the block's class — or, for a subclass declared
    ``like=`` one of them, its nearest such base."""
    for cls in type(block).__mro__:
        name = cls.__module__.rpartition(".")[2]
        if name in FILES:
            return name
    raise ValueError(
        f"{type(block).__qualname__} is defined in {type(block).__module__!r}, not in one of AlexHex7's files "
        f"{sorted(FILES)}: its pairwise function is unknown; declare it by its roles with nlviz.extract.declare"
    )


def roles(block: nn.Module) -> NonLocalRoles:
    """The roles of an AlexHex7 block: the mode from its file, the pooling from ``sub_sample``."""
    mode, kind, _ = FILES[file_of(block)]
    if mode == "gaussian":
        return NonLocalRoles(g="g", phi="phi" if block.sub_sample else None, out="W")
    if mode == "concatenation":
        return NonLocalRoles(
            theta="theta", phi="phi", g="g", pairwise="concatenation", concat="concat_project.0", out="W"
        )
    return NonLocalRoles(theta="theta", phi="phi", g="g", pairwise=kind, out="W")


def adapt(block: nn.Module) -> RolesAdapter:
    return RolesAdapter(block, roles(block))


for _file, (_mode, _kind, _reads) in FILES.items():
    register(
        _file,
        NAMES,
        requires=("sub_sample", "inter_channels", "g", "W", *_reads),
        library=f"AlexHex7 ({_mode})",
        kinds=_kind,
    )(adapt)
