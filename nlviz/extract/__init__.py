"""Capture: ``capture(model)`` records what each operator block needs; ``Recording.affinity`` computes exact rows
lazily. Blocks are nlviz's own operators, the foreign classes nlviz knows (``known_classes()``), and classes
declared by their roles (``declare``, :class:`NonLocalRoles`; ``check_declaration`` verifies a declaration)."""

from nlviz.extract.blocks import Found, find_blocks, known_classes, undeclare
from nlviz.extract.capture import BlockRecord, Recording, block_names, capture
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.extract.roles import NonLocalRoles, check_declaration, declare, inv_sqrt_inner

__all__ = [
    "AffinityGeometry",
    "BlockRecord",
    "Found",
    "GridGeometry",
    "NonLocalRoles",
    "Recording",
    "block_names",
    "capture",
    "check_declaration",
    "declare",
    "find_blocks",
    "inv_sqrt_inner",
    "known_classes",
    "undeclare",
]
