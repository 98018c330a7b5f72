"""The one key-map mechanism (``nlviz.io.keymap``): templates declared once rename both ways; choices, drops and
errors behave as documented."""

from __future__ import annotations

import re

import pytest
import torch

from nlviz.io.keymap import Choice, KeyMap


def test_a_key_map_declared_once_renames_both_ways():
    keys = KeyMap(
        "demo",
        [("s<d>.res<i>.branch<a|b>.<p>", "layer<d>.<i>.conv_<a|b>.<p>"), ("head[sub].<bn>", "norm.<bn>")],
        choices={"sub": Choice({True: ".0", False: ""}, default=False)},
        drop=(r"lr",),
        drop_ours=(r".+\.num_batches_tracked",),
    )
    w, v = torch.randn(4), torch.rand(4)
    ours = keys.to_ours({"s3.res12.branchb.bias": w, "head.0.running_var": v, "lr": torch.ones(1)})
    assert list(ours) == ["layer3.12.conv_b.bias", "norm.running_var"] and ours["layer3.12.conv_b.bias"] is w
    assert list(keys.to_theirs(ours)) == ["s3.res12.branchb.bias", "head.running_var"]
    back = keys.to_theirs({**ours, "norm.num_batches_tracked": torch.tensor(0)}, sub=True)
    assert list(back) == ["s3.res12.branchb.bias", "head.0.running_var"] and back["head.0.running_var"] is v
    known = re.compile(keys.pattern())  # what detection matches: their keys (every form of a choice) and drops
    assert all(known.fullmatch(k) for k in ("s1.res0.brancha.weight", "head.0.num_batches_tracked", "head.bias", "lr"))
    assert not any(known.fullmatch(k) for k in ("s12.res0.brancha.weight", "head.1.bias", "layer1.0.conv_a.weight"))

    with pytest.raises(ValueError, match=r"demo → nlviz: unexpected key\(s\) \['s3\.res1\.branchc\.bias'\]"):
        keys.to_ours({"s3.res1.branchc.bias": w})
    with pytest.raises(ValueError, match=r"in the file x: unexpected key\(s\) \['layer3\.1\.conv_a\.foo'\]"):
        keys.to_theirs({"layer3.1.conv_a.foo": w}, where="in the file x")
    with pytest.raises(ValueError, match=r"sub=2 is not supported; allowed: \[True, False\]"):
        keys.to_theirs(ours, sub=2)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['sob'\]; valid: \['sub'\]"):
        keys.to_theirs(ours, sob=True)
    many = {f"x{i}": w for i in range(20)}
    with pytest.raises(ValueError, match=r"unexpected key\(s\) \['x0', .*\] … \(20 in all\)$"):
        keys.to_ours(many)


def test_templates_are_checked_when_declared():
    with pytest.raises(ValueError, match=r"need the same slots in order"):
        KeyMap("bad", [("a.<i>.<p>", "b.<p>.<i>")])
    with pytest.raises(ValueError, match=r"unknown slot <x>"):
        KeyMap("bad", [("a.<x>", "b.<x>")])
    with pytest.raises(ValueError, match=r"choice \[sub\] is not declared"):
        KeyMap("bad", [("a[sub].weight", "b.weight")])
    required = KeyMap("req", [("a[sub].weight", "b.weight")], choices={"sub": Choice({True: ".0", False: ""})})
    with pytest.raises(ValueError, match=r"pass sub= \(one of \[True, False\]\)"):
        required.to_theirs({"b.weight": torch.zeros(1)})
