"""nlviz.analysis.report: every metric equals a brute-force computation from the full N×N matrix (built here, in
the test only), a query-independent block gives cosine distance 0, intervals, shards and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import nlviz
from nlviz.analysis import bootstrap_ci, report, wilson_ci
from nlviz.analysis.independence import js_spread, mean_cosine_distance
from nlviz.analysis.report_inputs import load_models
from nlviz.analysis.report_metrics import BLOCK_METRICS, clip_seed, sample_cells
from nlviz.analysis.reports import merge_reports
from nlviz.run import model_input, synthetic_sample
from support.checkpoints import save_tiny

K = 12  # sampled queries per clip and block
CLIPS = 2


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    names = ["tiny_nl_embedded", "tiny_nl_dot", "tiny_nl_sub", "tiny_bat3d", "tiny_cgnl", "tiny_sb", "tiny_baseline"]
    for i, name in enumerate(names):
        save_tiny(folder, name, seed=i)
    return folder


# ---------------------------------------------------------------------- brute force (numpy, float64)
def _js(p, q):
    """JS / log 2 in the KL form (not the entropy form the library uses)."""
    m = (p + q) / 2
    kl = lambda a: sum(a[i] * math.log(a[i] / m[i]) for i in range(len(a)) if a[i] > 0)  # noqa: E731
    return (kl(p) + kl(q)) / 2 / math.log(2)


def _cos_dist(v):
    """Mean 1 − cos over pairs i < j, by a double loop."""
    d = [
        1 - float(v[i] @ v[j]) / (np.linalg.norm(v[i]) * np.linalg.norm(v[j]))
        for i in range(len(v))
        for j in range(i + 1, len(v))
    ]
    return float(np.mean(d))


def brute_force(lm, block, index, cells, k=20):
    """Every block metric and top-1 / margin of clip ``index`` from the block's full N×N rows and hooks of our own."""
    sample = synthetic_sample(f"synthetic:{index}", lm)
    clip = sample.to_clip(source=f"synthetic:{index}")
    module = lm.model.get_submodule(block)
    seen = {}
    handle = module.register_forward_hook(lambda m, a, o: seen.update(x=a[0].detach(), y=o.detach()))
    try:
        with torch.no_grad(), nlviz.capture(lm.model, clip=clip) as rec:
            logits = lm.model(model_input(clip, lm))
    finally:
        handle.remove()
    full = rec.affinity(block)  # every query row: (B, G, N, Tk, Hk, Wk)
    qgrid, kgrid = full.query_grid, full.key_grid
    w = full.weights[0].double().flatten(2).numpy()  # (G, N, Nk)
    mass = w if full.normalized else np.abs(w)
    mass = mass / mass.sum(-1, keepdims=True)
    _, qh, qw = qgrid
    flat = [(t * qh + y) * qw + x for t, y, x in cells.tolist()]
    m = mass[:, flat]  # (G, K, Nk)
    nk = m.shape[-1]
    t_in, h_in, w_in = rec.input_size
    st, sy, sx = t_in / kgrid[0], h_in / kgrid[1], w_in / kgrid[2]
    kt, ky, kx = np.meshgrid(*(np.arange(n) for n in kgrid), indexing="ij")
    kc = np.stack([(kt + 0.5) * st - 0.5, (ky + 0.5) * sy - 0.5, (kx + 0.5) * sx - 0.5], -1).reshape(-1, 3)
    qst, qsy, qsx = t_in / qgrid[0], h_in / qgrid[1], w_in / qgrid[2]
    qc = np.array([[(t + 0.5) * qst - 0.5, (y + 0.5) * qsy - 0.5, (x + 0.5) * qsx - 0.5] for t, y, x in cells.tolist()])
    key_frame = np.repeat(np.arange(kgrid[0]), kgrid[1] * kgrid[2])
    out = {}
    out["entropy"] = np.mean([[-(r[r > 0] * np.log(r[r > 0])).sum() / math.log(nk) for r in g] for g in m])
    out["topk_mass"] = np.mean([[np.sort(r)[-min(k, nk) :].sum() for r in g] for g in m])
    dist = np.linalg.norm(qc[:, None, 1:] - kc[None, :, 1:], axis=-1)  # (K, Nk) pixels
    out["spatial_distance"] = np.mean((m * dist).sum(-1))
    out["temporal_distance"] = np.mean((m * np.abs(qc[:, None, 0] - kc[None, :, 0])).sum(-1))
    own = key_frame[None, :] == cells[:, 0].numpy()[:, None]  # (K, Nk); query and key grids have the same T here
    out["other_frame_mass"] = np.mean((m * ~own).sum(-1))
    if t_in == 1:  # an image: no temporal figures
        out["temporal_distance"] = out["other_frame_mass"] = math.nan
    out["cosine_attention"] = np.mean([_cos_dist(g) for g in m])
    out["js_spread"] = np.mean([np.mean([_js(r, g.mean(0)) for r in g]) for g in m])
    x, y = seen["x"], seen["y"]
    if x.dim() == 4:  # a per-frame block: (B·T, C, H, W) → (B, C, T, H, W)
        x, y = (v.reshape(1, -1, *v.shape[1:]).transpose(1, 2) for v in (x, y))
    feats = {n: v[0][:, cells[:, 0], cells[:, 1], cells[:, 2]].T.double().numpy() for n, v in (("x", x), ("y", y))}
    out["cosine_input"] = _cos_dist(feats["x"])
    out["cosine_output"] = _cos_dist(feats["y"])
    out["cosine_context"] = _cos_dist(feats["y"] - feats["x"])
    # on-object: queries on ≥ half-covered target cells; the cue's coverage of each key cell; other frames only
    target = next(o for o in sample.objects.values() if o.role == "target")
    cover = lambda oid, g: (  # noqa: E731 - fraction of each cell of grid g covered by object oid
        (sample.masks == oid).reshape(g[0], t_in // g[0], g[1], h_in // g[1], g[2], w_in // g[2]).mean((1, 3, 5))
    )
    on_target = np.argwhere(cover(target.id, qgrid) >= 0.5)
    cue = cover(target.partner, kgrid).reshape(-1)
    masses, chances = [], []
    for t, yy, xx in on_target:
        other = key_frame != t if t_in > 1 else np.ones_like(key_frame, dtype=bool)  # images: every key
        for g in range(mass.shape[0]):
            row = mass[g, (t * qh + yy) * qw + xx]
            if row[other].sum() > 0:
                masses.append((row * cue * other).sum() / row[other].sum())
                chances.append(cue[other].mean())
    out["partner_mass"] = np.mean(masses) if masses else math.nan
    out["partner_chance"] = np.mean(chances) if chances else math.nan
    out["partner_lift"] = out["partner_mass"] / out["partner_chance"] if chances else math.nan
    p = torch.softmax(logits[0].double(), 0).numpy()
    out["top1"] = float(p.argmax() == sample.label)
    out["margin"] = float(p[sample.label] - np.delete(p, sample.label).max())
    return out


@pytest.mark.parametrize("name", ["tiny_nl_embedded", "tiny_nl_sub", "tiny_bat3d", "tiny_cgnl", "tiny_sb"])
def test_every_metric_equals_brute_force(tiny_dir, name):
    """Softmax, subsampled keys, BAT's P·Q rows (2 groups), CGNL's signed contributions (|w| shares), a per-frame
    Spatial Bias block: the report's per-clip numbers are the brute-force ones."""
    (lm,) = load_models([str(tiny_dir / f"{name}.json")])
    rep = report([lm], f"synthetic:{CLIPS}", queries=K, seed=4)
    (block,) = lm.blocks
    for clip in rep.clips:
        mine = clip["models"][lm.label]
        assert mine["status"] == "done", mine
        rec = nlviz.run.forward(lm, synthetic_sample(clip["input"], lm).to_clip()).rec
        cells = sample_cells(rec, block, K, clip_seed(4, clip["index"]))
        assert len(cells) == K
        expected = brute_force(lm, block, clip["index"], cells)
        got = mine["blocks"][block]
        for metric in BLOCK_METRICS:
            e, g = expected[metric], got[metric]
            if name == "tiny_sb" and metric in ("other_frame_mass", "temporal_distance"):
                assert g == pytest.approx(0, abs=1e-12), metric  # a per-frame block never leaves its frame
                continue
            if name == "tiny_sb" and metric.startswith("partner"):
                assert g is None, metric  # no cross-frame attention: undefined, not 0
                continue
            if isinstance(e, float) and math.isnan(e):
                assert g is None, metric
            else:
                assert g == pytest.approx(e, rel=1e-6, abs=1e-9), metric
        for metric in ("top1", "margin"):
            assert mine["values"][metric] == pytest.approx(expected[metric], rel=1e-6, abs=1e-9), metric


def test_the_report_reads_the_statistics_the_analysis_page_shows(tiny_dir):
    """One definition: on the same cells, the report's figures are block_stats' (the Analysis page's) exactly."""
    from nlviz.analysis import block_stats

    (lm,) = load_models([str(tiny_dir / "tiny_bat3d.json")])
    (clip,) = report([lm], "synthetic:1", queries=K).clips
    rec = nlviz.run.forward(lm, synthetic_sample("synthetic:0", lm).to_clip()).rec
    cells = sample_cells(rec, "layer3.nl0", K, clip_seed(0, 0))
    st = block_stats(rec, "layer3.nl0", queries=cells, k=20).to_dict()
    got = clip["models"][lm.label]["blocks"]["layer3.nl0"]
    assert [got[n] for n in ("entropy", "topk_mass", "spatial_distance", "temporal_distance")] == [
        st[n] for n in ("entropy", "topk_mass", "spatial_distance", "temporal_distance")
    ]
    assert got["other_frame_mass"] == 1 - st["same_frame_mass"]


@pytest.mark.parametrize("name", ["tiny_nl_embedded", "tiny_nl_dot"])
def test_a_query_independent_block_has_cosine_distance_zero(tiny_dir, name):
    """A constant θ (weights 0, bias c): f(x_i, x_j) = exp(c·φ(x_j)) (embedded Gaussian) or c·φ(x_j) (dot product)
    gives every query the same non-uniform row. GCNet's distance is 0 for the attention, while the block's input
    features differ between queries."""
    model = nlviz.load_model(str(tiny_dir / f"{name}.json"))
    (block,) = nlviz.extract.block_names(model)
    op = model.get_submodule(block)
    with torch.no_grad():
        op.theta.weight.zero_()
        op.theta.bias.copy_(torch.linspace(-2, 2, op.theta.bias.numel()))
    lm = nlviz.run.describe("independent", model)
    rep = report([lm], "synthetic:3", queries=16)
    (row,) = rep.rows
    m = row["metrics"]
    assert m["cosine_attention"].n == 3 and m["cosine_attention"].mean <= 1e-6 and m["cosine_attention"].hi <= 1e-6
    assert m["js_spread"].mean <= 1e-6
    assert m["entropy"].mean < 0.999  # the shared row is not uniform
    assert m["cosine_input"].mean > 0.05  # the queries' features are not alike


def test_cosine_distance_and_js_spread_by_hand():
    v = torch.tensor([[1.0, 0], [0, 1.0], [1.0, 1.0], [0, 0]])  # the zero vector is skipped
    expected = (1 + (1 - 2**-0.5) + (1 - 2**-0.5)) / 3
    assert mean_cosine_distance(v).item() == pytest.approx(expected)
    assert math.isnan(mean_cosine_distance(torch.tensor([[1.0, 2.0]])).item())
    from nlviz.ops.base import Affinity

    rows = torch.tensor([[1.0, 0], [0, 1.0]])[None, None]  # two one-hot rows; their mean row is (0.5, 0.5)
    aff = Affinity(rows.reshape(1, 1, 2, 1, 1, 2), torch.zeros(2, 3, dtype=torch.long), (1, 1, 2), (1, 1, 2), True, "x")
    assert js_spread(aff).item() == pytest.approx(_js(np.array([1.0, 0.0]), np.array([0.5, 0.5])))


def test_intervals():
    a = bootstrap_ci([0.1, 0.4, 0.2, 0.9, float("nan")], seed=3)
    assert a == bootstrap_ci([0.1, 0.4, 0.2, 0.9], seed=3) and a.n == 4 and a.mean == pytest.approx(0.4)
    assert a.lo < a.mean < a.hi
    v = np.random.default_rng(0).random(30).tolist()
    assert bootstrap_ci(v, seed=1) == bootstrap_ci(v, seed=1) != bootstrap_ci(v, seed=2)
    w = wilson_ci(0, 10)  # the textbook value: [0, 0.2775]
    assert (w.mean, w.lo) == (0, 0) and w.hi == pytest.approx(0.27753, abs=1e-4)
    assert wilson_ci(10, 10).lo == pytest.approx(1 - 0.27753, abs=1e-4)
    assert bootstrap_ci([]).n == 0 and math.isnan(bootstrap_ci([]).mean)


def test_baselines_and_shards_merge_to_the_full_report(tiny_dir):
    models = [str(tiny_dir / f"{n}.json") for n in ("tiny_nl_embedded", "tiny_baseline")]
    lms = load_models(models)
    full = report(lms, "synthetic:5", queries=8)
    parts = [report(lms, "synthetic:5", queries=8, shard=f"{i}/3") for i in range(3)]
    assert [len(p.clips) for p in parts] == [2, 2, 1] and not parts[0].complete
    merged = merge_reports(parts)
    assert merged.complete and merged.clips == full.clips and merged.rows == full.rows
    base = next(r for r in full.rows if r["model"] == "tiny_baseline")
    assert base["block"] is None and base["metrics"]["top1"].n == 5 and "entropy" not in base["metrics"]
    with pytest.raises(ValueError, match="another 'config'"):
        merge_reports([parts[0], report(lms, "synthetic:5", queries=9, shard="1/3")])


def test_a_foreign_block_from_the_users_code_equals_brute_force(tmp_path):
    """An mmcv NonLocal2d inside the user's own image model (--model file.py:build): the same brute-force check."""
    pytest.importorskip("mmcv.cnn.bricks.non_local", reason="mmcv-lite (requirements-ref.txt)")
    from support.factories import SPEC, TASK, saved_model

    _, weights = saved_model(tmp_path)
    entry = nlviz.run.UserModel(f"{tmp_path}/usernet.py:build", str(weights), {}, nlviz.run.as_input_spec(SPEC), TASK)
    (lm,) = load_models([entry])
    rep = report([lm], "synthetic:2", queries=K)
    for clip in rep.clips:
        got = clip["models"][lm.label]
        rec = nlviz.run.forward(lm, synthetic_sample(clip["input"], lm).to_clip()).rec
        cells = sample_cells(rec, "nl", K, clip_seed(0, clip["index"]))
        expected = brute_force(lm, "nl", clip["index"], cells)
        for metric in BLOCK_METRICS:
            e, g = expected[metric], got["blocks"]["nl"][metric]
            assert (g is None) if math.isnan(e) else g == pytest.approx(e, rel=1e-6, abs=1e-9), metric
        assert got["blocks"]["nl"]["partner_mass"] is not None  # an image: the cue's share of all the mass
