"""On-object mass: coverage and mass by hand; the report on a synthetic spacetime clip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import nlviz
from nlviz.analysis import object_coverage, object_queries, object_report, on_object_mass, task_object_mass
from nlviz.data import make_task
from nlviz.extract.geometry import GridGeometry
from nlviz.models import build_model
from support.randomize import randomize


def test_coverage_is_the_covered_pixel_fraction():
    masks = np.zeros((1, 4, 4), np.int32)
    masks[0, 0, :2] = 1
    masks[0, 1, 0] = 1
    masks[0, 3, 3] = 2
    cover = object_coverage(masks, 1, GridGeometry((1, 4, 4), (1, 2, 2)))
    assert cover[0].tolist() == [[0.75, 0], [0, 0]]
    both = object_coverage(masks, [1, 2], GridGeometry((1, 4, 4), (1, 2, 2)))
    assert both[0].tolist() == [[0.75, 0], [0, 0.25]]
    with pytest.raises(ValueError, match="do not match the model input"):
        object_coverage(masks, 1, GridGeometry((1, 8, 8), (1, 2, 2)))
    with pytest.raises(ValueError, match="0 is the background"):
        object_coverage(masks, 0, GridGeometry((1, 4, 4), (1, 2, 2)))
    assert object_queries(masks, 1, GridGeometry((1, 4, 4), (1, 2, 2))).tolist() == [[0, 0, 0]]


def test_on_object_mass_by_hand(make_aff):
    """Input 2×4×4, key grid 2×2×2. The object fills key cell (1, 0, 0) and half of (1, 1, 1)."""
    masks = np.zeros((2, 4, 4), np.int32)
    masks[1, :2, :2] = 7
    masks[1, 2, 2:] = 7
    row = torch.zeros(8)
    row[[0, 1]] = 0.1  # own frame
    row[4], row[7], row[5] = 0.4, 0.2, 0.2  # frame 1: (1,0,0), (1,1,1), (1,0,1)
    aff = make_aff(row[None], (2, 2, 2), (2, 2, 2), (2, 4, 4), [(0, 0, 0)])
    r = on_object_mass(aff, masks, 7)
    assert r.reached.item() == pytest.approx(0.8)
    assert r.mass.item() == pytest.approx((0.4 * 1 + 0.2 * 0.5) / 0.8)
    assert r.chance.item() == pytest.approx(1.5 / 4)
    everywhere = on_object_mass(aff, masks, 7, other_frames=False)
    assert everywhere.mass.item() == pytest.approx(0.5) and everywhere.chance.item() == pytest.approx(1.5 / 8)
    same_frame_only = make_aff(
        torch.tensor([[0.5, 0.5, 0, 0, 0, 0, 0, 0]]), (2, 2, 2), (2, 2, 2), (2, 4, 4), [(0, 0, 0)]
    )
    assert math.isnan(on_object_mass(same_frame_only, masks, 7).mass.item())


@pytest.fixture(scope="module")
def spacetime():
    task = make_task("spacetime", frames=4, size=24, cue_frames=1, probe_frames=2)
    sample = task.sample(0, 3)
    blocks = [{"op": "nonlocal", "stage": 2, "index": 0, "options": {"sub_sample": True, "zero_init": False}}]
    torch.manual_seed(0)
    model = randomize(
        build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=blocks), seed=3, std=0.2, add=True
    )
    x = task.batch(0, 3, 1)[0]
    with torch.no_grad(), nlviz.capture(model, clip=sample.to_clip()) as rec:
        model(x)
    return sample, rec


def test_report_on_the_cue_target_pair(spacetime):
    sample, rec = spacetime
    block = rec.blocks[0]
    target = sample.by_role("target")[0]
    rep = object_report(rec, block, sample, target.id, max_bytes=50_000)
    assert rep["partner_id"] == 1 and rep["queries"] > 0
    # the same figures from one full Affinity of the selected queries
    geo = rec.geometry(block)
    q = object_queries(sample.masks, target.id, geo.query)
    aff = rec.affinity(block, q)
    for name, oid in (("self", target.id), ("partner", 1)):
        r = on_object_mass(aff, sample.masks, oid)
        assert rep[name] == pytest.approx(float(r.mass.nanmean()), rel=1e-9)
        ok = ~r.mass[0, 0].isnan()
        assert rep[f"{name}_chance"] == pytest.approx(float(r.chance[ok].mean()), rel=1e-9)
    # the partner (cue) is only in frame 0: its chance is its share of the frames the target does not occupy
    cue_cover = object_coverage(sample.masks, 1, geo.key)
    assert rep["partner_chance"] == pytest.approx(float(cue_cover.sum() / (3 * 6 * 6)), rel=1e-9)
    with pytest.raises(ValueError, match="is not in this sample"):
        object_report(rec, block, sample, 99)


def test_task_object_mass_averages_reports_over_samples():
    task = make_task("spacetime", frames=4, size=24, cue_frames=1, probe_frames=2)
    blocks = [{"op": "nonlocal", "stage": 2, "index": 0, "options": {"sub_sample": True, "zero_init": False}}]
    torch.manual_seed(0)
    model = randomize(
        build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=blocks), seed=3, std=0.2, add=True
    )
    got = task_object_mass(model, task, seed=0, start=2, n=2)
    (block,) = got
    reports = []
    for index in (2, 3):
        sample = task.sample(0, index)
        with torch.no_grad(), nlviz.capture(model, clip=sample.to_clip()) as rec:
            model(task.batch(0, index, 1)[0])
        reports.append(object_report(rec, block, sample, sample.by_role("target")[0].id))
    for key in ("self", "partner", "partner_chance", "reached"):
        assert got[block][key] == pytest.approx((reports[0][key] + reports[1][key]) / 2, rel=1e-9), key
    assert got[block]["samples"] == 2
    with pytest.raises(ValueError, match="no object with role"):
        task_object_mass(model, task, n=1, role="nothing")
