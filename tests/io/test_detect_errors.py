"""Detection and clear failures: unknown layouts name the closest known format and the keys it does not know;
keys that do not match the layout list the missing and unexpected ones; undecidable conventions ask for a
variant; no partial loads, no code execution."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import nlviz
from nlviz.io import public
from nlviz.io.checkpoint import CheckpointError
from nlviz.models import build_model, paper_placement
from support.randomize import randomize

MMACTION_NL = {"mode": "dot_product", "sub_sample": True, "use_scale": False}


@pytest.fixture(scope="module")
def mm_state():
    """An mmaction2 I3D NL ``state_dict`` (written by our exporter; the parity tests use mmaction2's own model)."""
    torch.manual_seed(0)
    model = build_model("r50_i3d", blocks=paper_placement("5", "nonlocal", MMACTION_NL))
    return public.export_state_dict(randomize(model), "mmaction2")


def _save(obj, path):
    torch.save(obj, path)
    return path


def test_detects_every_layout_by_its_keys(mm_state, tmp_path):
    assert public.detect(_save({"state_dict": mm_state}, tmp_path / "a.pth")) == "mmaction2"
    ranked = public.rank(list(mm_state))
    assert (
        ranked[0][0] == "mmaction2" and ranked[0][1] == len(mm_state) and ranked[0][2] == 5 * 12
    )  # θ, φ, g (w, b), W_z, 5 BN entries


def test_unknown_layout_names_the_closest_format(mm_state, tmp_path):
    state = {
        **mm_state,
        "backbone.layer2.1.se.fc.weight": torch.zeros(4, 4),
        "backbone.layer2.1.se.fc.bias": torch.zeros(4),
    }
    path = _save({"state_dict": state}, tmp_path / "i3d_se.pth")
    with pytest.raises(CheckpointError) as err:
        nlviz.load_model(path)
    msg = str(err.value)
    assert "i3d_se.pth: unknown checkpoint layout" in msg
    assert "closest known format: mmaction2 (" in msg and f"recognizes {len(mm_state)} of {len(state)} keys" in msg
    assert "keys it does not know (2): ['backbone.layer2.1.se.fc.bias', 'backbone.layer2.1.se.fc.weight']" in msg

    foreign = _save({"encoder.weight": torch.zeros(2), "decoder.bias": torch.zeros(2)}, tmp_path / "vit.pth")
    with pytest.raises(
        CheckpointError, match=r"unknown checkpoint layout; closest known format: \w+ .*recognizes 0 of 2"
    ):
        nlviz.load_model(foreign)


def test_missing_and_unexpected_keys_are_listed(mm_state, tmp_path):
    state = {k: v for k, v in mm_state.items() if k != "backbone.layer1.0.conv2.bn.weight"}
    path = _save({"state_dict": state}, tmp_path / "nl-dot-product-cut.pth")
    with pytest.raises(
        CheckpointError, match=r"missing keys \(1\): \['layer1\.0\.bn2\.weight'\].*closest known format: mmaction2"
    ):
        nlviz.load_model(path)

    state = dict(mm_state)
    state["cls_head.fc_cls.weight"] = torch.zeros(400, 1024)
    with pytest.raises(
        CheckpointError, match=r"shape mismatches: \['fc\.weight: checkpoint \(400, 1024\) vs model \(400, 2048\)'\]"
    ):
        nlviz.load_model(_save({"state_dict": state}, tmp_path / "nl-dot-product-shape.pth"))

    with pytest.raises(
        CheckpointError,
        match=r"forced\.pth: the slowfast layout: unexpected key\(s\) \['backbone\.conv1\.bn\.bias', .*\] … \(380 in all\); "
        r"closest known format: mmaction2",
    ):
        nlviz.load_model(_save({"state_dict": mm_state}, tmp_path / "forced.pth"), format="slowfast")


def test_unknown_key_inside_a_block_names_the_block(mm_state, tmp_path):
    state = {**mm_state, "backbone.layer2.1.non_local_block.extra.weight": torch.zeros(3)}
    path = _save({"state_dict": state}, tmp_path / "nl-dot-product-extra.pth")
    with pytest.raises(
        CheckpointError,
        match=r"extra\.pth: operator block layer2\.1\.non_local_block: unexpected "
        r"key\(s\) \['extra\.weight'\]; closest known format: mmaction2",
    ):
        nlviz.load_model(path)


def test_undecidable_mode_asks_for_a_variant(mm_state, tmp_path):
    path = _save({"state_dict": mm_state}, tmp_path / "my_i3d.pth")
    with pytest.raises(
        CheckpointError, match=r"pass one explicitly: mmaction2:embedded_gaussian, mmaction2:dot_product"
    ):
        nlviz.load_model(path)
    assert nlviz.load_model(path, format="mmaction2:dot_product").layer2.nl1.mode == "dot_product"
    gaussian = {k: v for k, v in mm_state.items() if ".theta." not in k and ".phi." not in k}
    with pytest.raises(CheckpointError, match=r"mmaction2:dot_product was asked for but the keys are 'gaussian'"):
        nlviz.load_model(_save({"state_dict": gaussian}, tmp_path / "g.pth"), format="mmaction2:dot_product")


def test_bad_format_names_and_files(tmp_path):
    with pytest.raises(
        CheckpointError, match=r"format='mmaction2:scaled' is not supported; allowed: .*'mmaction2:dot_product'"
    ):
        nlviz.load_model(tmp_path / "x.pth", format="mmaction2:scaled")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match=r"junk\.pth: not a checkpoint file: .* starts with bytes 00 6e 6f 74"):
        nlviz.load_model(junk)
    with pytest.raises(CheckpointError, match=r"expected a state dict .* non-tensor entries \['epochs'\]"):
        nlviz.load_model(_save({"state_dict": {"conv1.weight": torch.zeros(1), "epochs": 3}}, tmp_path / "nt.pth"))


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.target}",))


def test_pickled_code_never_runs(tmp_path):
    sentinel = tmp_path / "ran"
    for name in ("evil.pth", "evil.pkl"):
        path = tmp_path / name
        path.write_bytes(pickle.dumps({"state_dict": {"w": _Evil(sentinel)}}, protocol=2))
        with pytest.raises(CheckpointError, match=r"cannot read as a weights-only checkpoint"):
            nlviz.load_model(path)
    assert not sentinel.exists()


def test_numpy_values_in_metadata_are_allowed(mm_state, tmp_path):
    """mmengine/mmcv metadata may hold numpy scalars; weights-only loading allows exactly those."""
    meta = {"best_score": np.float64(0.7), "cfg": "model = dict(backbone=dict(non_local_cfg=dict(mode='dot_product')))"}
    model = nlviz.load_model(_save({"state_dict": mm_state, "meta": meta}, tmp_path / "np.pth"))
    assert model.card["format"] == "mmaction2:dot_product" and "stored" in model.card["variant_from"]
