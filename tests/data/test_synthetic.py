"""Synthetic tasks: determinism, mask correctness, label balance, the cue ↔ target link, batches, recipes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nlviz.data import IMAGENET_MEAN, IMAGENET_STD, TASKS, make_task, task_from_recipe

SMALL = {
    "spacetime": {"frames": 6, "size": 32, "cue_frames": 2, "probe_frames": 3, "occluders": 2, "decoys": 2},
    "image": {"size": 40, "occluders": 2, "decoys": 2},
}


@pytest.fixture(params=["spacetime", "image"])
def task(request):
    return make_task(request.param, **SMALL[request.param])


def test_registry_names():
    assert TASKS.names() == ["image", "spacetime"]


def test_deterministic_per_seed_and_index(task):
    a, b = task.sample(3, 17), task.sample(3, 17)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.masks, b.masks)
    assert a.objects == b.objects and a.label == b.label
    for other in (task.sample(3, 18), task.sample(4, 17)):
        assert not np.array_equal(a.frames, other.frames)


def test_shapes_and_dtypes(task):
    c = task.sample(0, 0)
    t, s = task.frames, task.size
    assert c.frames.shape == (t, s, s, 3) and c.frames.dtype == np.uint8
    assert c.masks.shape == (t, s, s) and c.masks.dtype == np.int32
    assert 0 <= c.label < task.num_classes == len(task.class_names) == 4


def test_masks_match_objects_and_colors(task):
    for i in range(40):
        c = task.sample(1, i)
        ids = set(np.unique(c.masks).tolist()) - {0}
        assert ids <= set(c.objects)
        assert np.all(c.frames[c.masks == 0] == (16, 16, 16))  # background pixels have the background color
        for oid, o in c.objects.items():
            pix = c.frames[c.masks == oid]  # (n, 3)
            allowed = [o.rgb] + ([o.ring_rgb] if o.ring_rgb else [])
            assert np.all(np.any([np.all(pix == col, axis=1) for col in allowed], axis=0)), (i, o)
            reach = o.radius + (1 if o.ring_rgb else 0)
            for f, (y, x) in zip(o.frames, o.centers):  # visible pixels lie within the stamp around the center
                ys, xs = np.nonzero(c.masks[f] == oid)
                assert np.all(np.abs(ys - y) <= reach) and np.all(np.abs(xs - x) <= reach)
            absent = sorted(set(range(task.frames)) - set(o.frames))
            assert not np.any(c.masks[absent] == oid)
        # one occluder is smaller than a disk; with these seeds no cue, target or probe is fully hidden
        for o in c.objects.values():
            if o.role in ("cue", "target", "probe"):
                assert all((c.masks[f] == o.id).sum() > 0 for f in o.frames)


def test_label_is_the_target_quadrant_linked_to_the_cue(task):
    s = task.size
    for i in range(50):
        c = task.sample(2, i)
        (cue,), (target,) = c.by_role("cue"), c.by_role("target")
        probes = c.by_role("probe")
        assert len(probes) == 3 and cue.partner == target.id and target.partner == cue.id
        assert target.color == cue.color and all(p.color != cue.color for p in probes)
        assert target.quadrant == c.label and sorted(p.quadrant for p in probes + [target]) == [0, 1, 2, 3]
        for y, x in target.centers:  # drawn inside its quadrant
            assert 2 * (y >= s / 2) + (x >= s / 2) == c.label
        assert cue.shape == "ringed_disk" and cue.ring_rgb == (255, 255, 255)
        # the cue is far from every probe: at least the task's minimum gap
        gap = min(np.hypot(cy - y, cx - x) for cy, cx in cue.centers for p in probes + [target] for y, x in p.centers)
        assert gap >= (7 if task.dim == 3 else task.min_gap - 1e-9)


def test_to_clip_has_identity_geometry(task):
    clip = task.sample(0, 1).to_clip("synthetic:0:1")
    assert clip.frames.shape == (task.frames, task.size, task.size, 3) and clip.source == "synthetic:0:1"
    f, y, x = clip.geometry.to_source(task.frames - 1, 3, 5)
    assert (int(f), float(y), float(x)) == (task.frames - 1, 3.0, 5.0)


def test_spacetime_timeline():
    task = make_task("spacetime", frames=8, cue_frames=2, probe_frames=4)
    c = task.sample(0, 5)
    assert c.by_role("cue")[0].frames == (0, 1)
    assert c.by_role("target")[0].frames == (4, 5, 6, 7)
    assert c.by_role("occluder")[0].frames == tuple(range(8))


def test_labels_balanced_over_1000_samples(task):
    labels = np.array([task.sample(7, i).label for i in range(1000)])
    counts = np.bincount(labels, minlength=4)
    assert counts.sum() == 1000 and counts.min() >= 200 and counts.max() <= 300, counts


def test_batch_is_normalized_samples(task):
    x, y = task.batch(5, 10, 3)
    assert x.dtype == torch.float32 and y.dtype == torch.long and x.shape == (3, *task.input_shape)
    c = task.sample(5, 11)
    expect = (c.frames[..., 0].astype(np.float32) / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]  # red channel
    np.testing.assert_allclose(x[1, 0].numpy(), expect[0] if task.dim == 2 else expect, atol=1e-5)
    assert y[1].item() == c.label


def test_recipe_round_trip_through_json(task):
    recipe = json.loads(json.dumps(task.recipe()))
    again = task_from_recipe(recipe)
    assert again.recipe() == recipe and type(again) is type(task)
    np.testing.assert_array_equal(again.sample(0, 3).frames, task.sample(0, 3).frames)


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown task 'video'; valid: image, spacetime"):
        make_task("video")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['frame'\]"):
        make_task("spacetime", frame=8)
    with pytest.raises(ValueError, match=r"probe_frames=7 must be an integer in \[1, 6\]"):
        make_task("spacetime", frames=8, cue_frames=2, probe_frames=7)
    with pytest.raises(ValueError, match=r"colors=3 must be an integer in \[4, 8\]"):
        make_task("image", colors=3)
    with pytest.raises(ValueError, match="size=30 must be an integer >= 40"):
        make_task("image", size=30)
    with pytest.raises(ValueError, match="index=-1 must be a non-negative integer"):
        make_task("image").sample(0, -1)
    with pytest.raises(ValueError, match="must be 3 numbers"):
        make_task("image", std=(0.2, 0.2))
    with pytest.raises(ValueError, match="a task recipe is"):
        task_from_recipe({"name": "image"})
