"""State dicts: compare two, copy one into another model, zero the biases of named convs."""

from __future__ import annotations

import torch
from torch import nn


def same_tensors(a: dict, b: dict) -> list[str]:
    """Keys whose tensors differ (or exist on one side only); [] when identical."""
    return sorted(set(a) ^ set(b)) + [
        k for k in set(a) & set(b) if not torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k]))
    ]


def copy_backbone(src: nn.Module, dst: nn.Module) -> list[str]:
    """Load ``src``'s weights into ``dst`` where names match; return the keys ``dst`` lacks."""
    result = dst.load_state_dict(src.state_dict(), strict=False)
    assert result.missing_keys == [], result.missing_keys
    return list(result.unexpected_keys)


def zero_biases_(module: nn.Module, names: tuple[str, ...]) -> None:
    """Zero the biases of the named convs (layouts whose convs have no bias export only zero ones)."""
    with torch.no_grad():
        for name in names:
            getattr(module, name).bias.zero_()
