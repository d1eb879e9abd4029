"""Notebook 03's parts: Lab, the in-gamut ab bins, soft encoding, rebalancing, decoding, the loss,
the metrics, the networks, the experiment and its stored weights, and the notebook's forward pass and
training step against the library's."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import color, metrics
from course_lib.checkpoints import load_weights
from course_lib.data.colorization import (caltech_held_out, caltech_training_lab, caltech_training_prior, kodak_held_out,
                                         random_crop_batches)
from course_lib.device import seed_everything
from course_lib.experiments import colorization as ce
from course_lib.experiments import common
from course_lib.losses import rebalanced_cross_entropy, rebalanced_cross_entropy_sparse
from course_lib.models.colorization import ColorizationNet, predict_ab
from notebook_cells import cell_namespace

NOTEBOOK = "03_colorization.ipynb"
PREAMBLE = ("import torch\nimport torch.nn.functional as F\nfrom course_lib import color\n"
            "from course_lib.models.colorization import AB_SCALE\n")

BINS = color.ab_bins()


# ----------------------------------------------------------------------------- Lab and the bins

def test_lab_known_values_and_round_trip():
    lab = color.rgb_to_lab(np.array([[255, 255, 255], [255, 0, 0], [0, 0, 0]], np.uint8))
    assert np.allclose(lab[0], [100, 0, 0], atol=0.01)
    assert np.allclose(lab[1], [53.24, 80.09, 67.20], atol=0.05)   # sRGB red, D65
    assert np.allclose(lab[2], [0, 0, 0], atol=0.01)
    rgb = np.random.default_rng(0).integers(0, 256, (20, 20, 3)).astype(np.uint8)
    back = color.lab_to_rgb(color.rgb_to_lab(rgb))
    assert np.abs(back * 255 - rgb).max() < 0.5
    with pytest.raises(ValueError, match="0, 1"):
        color.rgb_to_lab(np.full((2, 2, 3), 2.0))
    L, ab = color.lab_tensors(rgb[None])
    assert L.shape == (1, 1, 20, 20) and ab.shape == (1, 2, 20, 20) and L.dtype == torch.float32


def test_stored_bins_are_the_in_gamut_bins_of_srgb():
    assert color.AB_BINS.shape == (261, 2) and color.GRID_SIZE == 10
    assert np.all(color.AB_BINS % 10 == 0)
    # a 64-level cube finds the same 261 bins as all 256^3 8-bit colours (which take a minute)
    assert np.array_equal(color.compute_in_gamut_bins(64), color.AB_BINS)
    stored = {tuple(p) for p in color.AB_BINS.astype(int)}
    assert (0, 0) in stored and (80, 70) in stored           # grey; red (a 80.1, b 67.2)
    assert (20, -80) not in stored and (-100, 0) not in stored
    # every 8-bit colour of a coarse sample falls into a stored bin
    rgb = np.random.default_rng(1).integers(0, 256, (5000, 1, 3)).astype(np.uint8)
    ab = color.rgb_to_lab(rgb)[:, 0, 1:]
    assert {tuple(p) for p in (np.floor((ab + 5) / 10) * 10).astype(int)} <= stored


def test_quantize_and_soft_encode():
    ab = torch.tensor([[0.0, 0.0], [12.0, -3.0], [80.0, 70.0]]).T.reshape(1, 2, 1, 3)
    q = color.quantize_ab(ab, BINS)
    assert q.shape == (1, 1, 3)
    assert BINS[q[0, 0]].tolist() == [[0, 0], [10, 0], [80, 70]]
    z = color.soft_encode(ab, BINS)
    assert z.shape == (1, 261, 1, 3)
    assert torch.allclose(z.sum(1), torch.ones(1, 1, 3))
    assert ((z > 0).sum(1) == 5).all()
    # the point (0, 0): itself at distance 0, four neighbours at distance 10
    w = z[0, :, 0, 0]
    expected_centre = 1 / (1 + 4 * math.exp(-100 / 50))
    assert w.max().item() == pytest.approx(expected_centre, rel=1e-5)
    assert w[q[0, 0, 0]].item() == pytest.approx(expected_centre, rel=1e-5)
    idx, weight = color.soft_encode_sparse(ab, BINS)
    assert torch.allclose(torch.zeros_like(z).scatter_(1, idx, weight), z)
    assert (idx[:, 0] == q).all()


def test_rebalancing_weights():
    q = len(BINS)
    uniform = torch.full((q,), 1 / q, dtype=torch.float64)
    # smoothing keeps the mass in gamut, so a uniform distribution stays nearly (not exactly) uniform
    assert torch.allclose(color.rebalancing_weights(uniform, BINS), torch.ones(q), atol=0.05)
    p = torch.zeros(q, dtype=torch.float64)
    grey = int(color.quantize_ab(torch.zeros(1, 2, 1, 1), BINS))
    p[grey], p[0] = 0.9, 0.1
    smooth = color.smooth_distribution(p, BINS)
    assert smooth.sum().item() == pytest.approx(1.0) and smooth[grey] < 0.9
    w = color.rebalancing_weights(p, BINS)
    assert (smooth * w.double()).sum().item() == pytest.approx(1.0, rel=1e-5)   # expected weight 1
    assert w[grey] < w[0] < w.max()                                             # rare colours weigh more
    by_hand = 1 / (0.5 * smooth + 0.5 / q)
    assert torch.allclose(w.double(), by_hand / (smooth * by_hand).sum(), rtol=1e-5)
    assert torch.allclose(color.rebalancing_weights(p, BINS, lam=1.0), torch.ones(q), atol=1e-5)
    with pytest.raises(ValueError):
        color.rebalancing_weights(p, BINS, lam=0.0)


def test_annealed_mean_between_mean_and_mode():
    torch.manual_seed(0)
    logits = torch.randn(2, len(BINS), 3, 4)
    logits.scatter_add_(1, torch.randint(0, len(BINS), (2, 1, 3, 4)), torch.full((2, 1, 3, 4), 6.0))  # a clear mode
    probs = logits.softmax(1)
    mean = color.decode(logits, BINS, "mean")
    assert torch.allclose(color.annealed_mean(probs, BINS, T=1.0), mean, atol=1e-4)
    assert torch.allclose(color.annealed_mean(probs, BINS, T=0.02), color.decode(logits, BINS, "mode"), atol=1e-2)
    assert torch.allclose(color.annealed_mean(probs, BINS), color.decode(logits, BINS, "annealed mean"), atol=1e-3)
    one_hot = F.one_hot(torch.tensor([[[7]]]), len(BINS)).permute(0, 3, 1, 2).float()
    assert torch.allclose(color.annealed_mean(one_hot, BINS)[0, :, 0, 0], BINS[7])
    # a sharper distribution moves away from the (grey) mean: T < 1 is more saturated
    sat = lambda ab: ab.norm(dim=1).mean().item()  # noqa: E731
    assert sat(color.decode(logits, BINS, "mean")) < sat(color.decode(logits, BINS, "annealed mean"))
    with pytest.raises(ValueError):
        color.decode(logits, BINS, "median")


# ----------------------------------------------------------------------------- loss and metrics

def test_rebalanced_cross_entropy_by_hand():
    torch.manual_seed(1)
    ab = torch.randn(2, 2, 3, 3) * 30
    target = color.soft_encode(ab, BINS)
    logits = torch.randn(2, len(BINS), 3, 3)
    plain = -(target * logits.log_softmax(1)).sum(1)
    assert torch.allclose(rebalanced_cross_entropy(logits, target), plain.mean())
    w = torch.rand(len(BINS)) + 0.5
    weighted = (w[target.argmax(1)] * plain).mean()
    assert torch.allclose(rebalanced_cross_entropy(logits, target, w), weighted)
    idx, weight = color.soft_encode_sparse(ab, BINS)
    assert torch.allclose(rebalanced_cross_entropy_sparse(logits, idx, weight, w), weighted, atol=1e-6)
    assert torch.allclose(rebalanced_cross_entropy_sparse(logits, idx, weight), plain.mean(), atol=1e-6)
    with pytest.raises(ValueError):
        rebalanced_cross_entropy(logits, target[:, :10])


def test_colourfulness():
    grey = np.full((8, 8, 3), 0.4)
    assert metrics.colourfulness(grey) == 0.0
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    # rg = 255, yb = 127.5 everywhere: no spread, so M = 0.3 * |(255, 127.5)|
    assert metrics.colourfulness(red) == pytest.approx(0.3 * math.hypot(255, 127.5))
    half = np.zeros((2, 2, 3))
    half[0, :, 0] = 1.0   # half the pixels red, half black: std of rg = 127.5, of yb = 63.75
    assert metrics.colourfulness(half) == pytest.approx(math.hypot(127.5, 63.75) + 0.3 * math.hypot(127.5, 63.75))
    with pytest.raises(ValueError):
        metrics.colourfulness(np.zeros((4, 4)))


def test_quantize_by_grid_is_the_exact_nearest_bin():
    """quantize_ab's grid path (AB_BINS lie on the 10-unit grid) gives the exact nearest bin, in gamut and far
    outside it, and bins off the grid are compared with every pixel as nearest_bins does."""
    gen = torch.Generator().manual_seed(0)
    ab = torch.cat([torch.randn(3, 2, 16, 16, generator=gen) * 50, torch.randn(1, 2, 16, 16, generator=gen) * 150])
    q = color.quantize_ab(ab, BINS)
    points = ab.permute(0, 2, 3, 1).reshape(-1, 1, 2).double()
    exact = (points - BINS.double()).norm(dim=-1)                    # P x Q, computed directly in float64
    assert (exact.gather(1, q.reshape(-1, 1)).squeeze(1) <= exact.min(1).values + 1e-9).all()
    off_grid = BINS + 0.5
    assert torch.equal(color.quantize_ab(ab, off_grid), color.nearest_bins(ab, off_grid, 1)[0][:, 0])
    assert color.quantize_ab(torch.zeros(0, 2, 4, 4), BINS).shape == (0, 4, 4)


@pytest.mark.parametrize("weighted", [False, True])
def test_ab_accuracy_curve_counts_each_threshold(weighted):
    """The share of (weighted) pixels within each whole threshold, errors exactly on a threshold included."""
    gen = torch.Generator().manual_seed(1)
    true = torch.randn(2, 2, 8, 8, generator=gen) * 40
    pred = true + torch.randn(2, 2, 8, 8, generator=gen) * 60
    pred[:, 0, 0] = true[:, 0, 0] + torch.arange(8.0)                # errors of exactly 0, 1, ..., 7
    pred[:, 1, 0] = true[:, 1, 0]
    w = torch.rand(2, 8, 8, generator=gen) if weighted else torch.ones(2, 8, 8)
    t, acc = metrics.ab_accuracy_curve(pred, true, pixel_weights=w if weighted else None)
    err = (pred.double() - true.double()).norm(dim=1)
    expected = [float((w.double() * (err <= x)).sum() / w.double().sum()) for x in t]
    assert np.allclose(acc, expected, rtol=0, atol=1e-12)


def test_ab_auc_and_mse():
    true = torch.zeros(1, 2, 4, 5)
    assert metrics.ab_accuracy_auc(true, true) == pytest.approx(1.0, abs=0.004)   # trapezoid at t = 0
    off = true.clone()
    off[:, 0] = 30.0                                   # every pixel 30 away
    assert metrics.ab_accuracy_auc(off, true) == pytest.approx(120 / 150, abs=0.004)
    far = true.clone()
    far[:, 1] = 200.0
    assert metrics.ab_accuracy_auc(far, true) == 0.0
    assert metrics.ab_mse(off, true) == pytest.approx(450.0)
    t, acc = metrics.ab_accuracy_curve(off, true)
    assert t[0] == 0 and t[-1] == 150 and acc[29] == 0 and acc[30] == 1


def test_class_rebalanced_auc_weighs_rare_colours():
    """Half the pixels grey (common), half red (rare): a model right on the grey ones only gets a raw AuC near
    its share of right pixels, and a rebalanced AuC near the rare colour's share of the inverse prior."""
    true = torch.zeros(1, 2, 4, 4)
    true[:, 0, :2] = 60.0                                          # top half a = 60: the rare colour
    pred = torch.zeros_like(true)                                  # grey everywhere: right on the bottom half only
    prior = torch.full((len(BINS),), 1e-6, dtype=torch.float64)
    grey, red = (int(color.quantize_ab(torch.tensor([[[[a]], [[0.0]]]]), BINS)) for a in (0.0, 60.0))
    prior[grey], prior[red] = 0.9, 0.1
    w = metrics.class_rebalanced_weights(true, prior, BINS)
    assert w.shape == (1, 4, 4) and w[0, 0, 0] == pytest.approx(10.0) and w[0, 3, 3] == pytest.approx(1 / 0.9)
    raw = metrics.ab_accuracy_auc(pred, true)
    rebal = metrics.ab_accuracy_auc(pred, true, pixel_weights=w)
    # the grey half is right at every threshold; the red half (60 off) from threshold 60 on (90 of 150)
    assert raw == pytest.approx(0.5 + 0.5 * 90 / 150, abs=0.01)
    share = 1 / 0.9 / (10 + 1 / 0.9)                               # the grey pixels' share of the weight
    assert rebal == pytest.approx(share + (1 - share) * 90 / 150, abs=0.01)
    assert metrics.ab_accuracy_auc(pred, true, pixel_weights=torch.ones(1, 4, 4)) == pytest.approx(raw)
    with pytest.raises(ValueError, match="one weight per pixel"):
        metrics.ab_accuracy_auc(pred, true, pixel_weights=torch.ones(4, 4))
    with pytest.raises(ValueError, match="non-negative"):
        metrics.ab_accuracy_auc(pred, true, pixel_weights=-torch.ones(1, 4, 4))
    with pytest.raises(ValueError, match="zero prior"):
        metrics.class_rebalanced_weights(true, torch.zeros(len(BINS)), BINS)


def test_chroma_and_spread_tell_a_cast_from_colour():
    """A uniform colour cast raises the mean chroma and Hasler-Suesstrunk's mean term, not the ab spread."""
    torch.manual_seed(0)
    ab = torch.randn(2, 2, 8, 8) * 20
    cast = ab + torch.tensor([25.0, 10.0]).reshape(1, 2, 1, 1)
    assert metrics.ab_spread(cast) == pytest.approx(metrics.ab_spread(ab), rel=1e-6)   # float32 input rounding
    assert metrics.mean_chroma(cast) > metrics.mean_chroma(ab)
    flat = torch.zeros(1, 2, 3, 3)
    flat[:, 0] = 30.0
    flat[:, 1] = -40.0
    assert metrics.mean_chroma(flat) == pytest.approx(50.0) and metrics.ab_spread(flat) == 0.0
    half = torch.zeros(1, 2, 2, 2)
    half[:, 0, 0] = 20.0                                           # a = 20 on half the pixels: var 100
    assert metrics.ab_spread(half) == pytest.approx(10.0) and metrics.mean_chroma(half) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        metrics.ab_spread(torch.zeros(2, 8, 8))


# ----------------------------------------------------------------------------- networks

def test_networks_share_the_body():
    for kind, channels in (("classification", 261), ("regression", 2)):
        torch.manual_seed(0)
        net = ColorizationNet(kind, 261, width=8)
        out = net(torch.rand(2, 1, 24, 32) * 100)
        assert out.shape == (2, channels, 12, 16)
    torch.manual_seed(0)
    a = ColorizationNet("classification", 261, 8)
    torch.manual_seed(0)
    b = ColorizationNet("regression", 261, 8)
    assert all(torch.equal(x, y) for x, y in zip(a.body.state_dict().values(), b.body.state_dict().values()))
    with pytest.raises(ValueError):
        ColorizationNet("ordinal")
    with pytest.raises(ValueError, match="divisible by 4"):
        a(torch.zeros(1, 1, 30, 30))


# ----------------------------------------------------------------------------- experiment

SMALL = dict(width=8, crop=32)


def test_random_crop_batches_are_windows_of_the_photos():
    """Each batch item is a crop x crop window of one photo (mirrored or not), its ab target the 2 x 2 mean of the
    same window; the draw is seeded."""
    n, h, w = 3, 12, 16
    L = torch.arange(n * h * w, dtype=torch.float32).reshape(n, 1, h, w)
    ab = torch.stack([L[:, 0], -L[:, 0]], 1)
    batches = random_crop_batches(L, ab, 8, batch_size=16, seed=5)
    bl, bab = next(batches)
    assert bl.shape == (16, 1, 8, 8) and bab.shape == (16, 2, 4, 4) and bl.dtype == torch.float32
    flipped = 0
    for l, a in zip(bl, bab):
        i, y, x = np.unravel_index(int(l.min()), (n, h, w))       # the window's top-left (its smallest value)
        window = L[i, :, y:y + 8, x:x + 8]
        assert torch.equal(l, window) or torch.equal(l, window.flip(-1))
        flipped += not torch.equal(l, window)
        target = F.avg_pool2d(ab[i:i + 1, :, y:y + 8, x:x + 8], 2)[0]
        assert torch.equal(a, target if torch.equal(l, window) else target.flip(-1))
    assert 0 < flipped < 16
    again = next(random_crop_batches(L, ab, 8, batch_size=16, seed=5))
    assert torch.equal(again[0], bl) and not torch.equal(next(random_crop_batches(L, ab, 8, 16, seed=6))[0], bl)
    with pytest.raises(ValueError, match="multiple of 4"):
        next(random_crop_batches(L, ab, 6, 4))
    with pytest.raises(ValueError, match="multiple of 4"):
        next(random_crop_batches(L, ab, 16, 4))                    # larger than the photos' 12
    with pytest.raises(ValueError, match="expected L"):
        next(random_crop_batches(L, ab[:2], 8, 4))


@pytest.mark.slow
def test_caltech_data_and_prior():
    L, ab = caltech_training_lab()
    assert L.shape == (4142, 1, 128, 128) and ab.shape == (4142, 2, 128, 128) and L.dtype == torch.float32
    assert 0 <= L.min() and L.max() <= 100
    prior, weights = caltech_training_prior()
    assert prior.dtype == torch.float64 and prior.sum().item() == pytest.approx(1.0)
    grey = prior[BINS.norm(dim=1) <= 10].sum().item()
    assert 0.3 < grey < 0.8                                         # natural photos: mostly near grey
    smooth = color.smooth_distribution(prior, BINS)
    assert (smooth * weights.double()).sum().item() == pytest.approx(1, rel=1e-4)   # expected weight 1
    test = caltech_held_out()
    assert len(test.names) == 460 and test.labels.shape == (460,) and len(test.classes) == 95
    assert test.L[0].shape == (1, 1, 128, 128) and test.ab[0].shape == (1, 2, 128, 128)
    kodak = kodak_held_out()
    assert len(kodak.names) == 24 and {tuple(x.shape[-2:]) for x in kodak.L} == {(128, 192), (192, 128)}
    assert kodak.labels is None
    with pytest.raises(ValueError):
        ce.Config.make("fast", crop=30)
    with pytest.raises(ValueError):
        ce.Config.make("fast", crop=132)


def _batch_loss(run, batch) -> float:
    """The member's training loss on one fixed batch, in eval mode."""
    L, ab = batch
    run.net.eval()
    with torch.no_grad():
        out = run.net(L)
    if run.net.kind == "regression":
        return F.mse_loss(out, ab).item()
    index, weight = color.soft_encode_sparse(ab, BINS)
    return rebalanced_cross_entropy_sparse(out, index, weight, run.weights).item()


@pytest.mark.slow
@pytest.mark.parametrize("name", ce.MEMBERS)
def test_a_few_training_steps_lower_the_loss(name):
    """What retraining the stored weights does, in a few steps on one batch of real windows: its loss must fall."""
    cfg = ce.Config.make("fast", **SMALL, lr=1e-2, batch_size=8, steps=25)
    run = ce.build(cfg, name, seed=0)
    assert (run.weights is not None) == (name == "rebalanced")
    fixed = next(random_crop_batches(*caltech_training_lab(), 32, batch_size=8, seed=99))
    run.batches = lambda: itertools.repeat(fixed)
    before = _batch_loss(run, fixed)
    common.fit(ce, run, progress=False)
    after = _batch_loss(run, fixed)
    assert after < 0.9 * before, (before, after)


def test_train_step_soft_encodes_in_float32_under_autocast():
    """Under a bfloat16 autocast the step must still pick each pixel's nearest bins in float32: a pixel between
    two bins whose distances differ by less than bfloat16 resolves would otherwise get the wrong target."""
    cfg = ce.Config.make("fast", **SMALL, steps=2, batch_size=2)
    run = ce.build(cfg, "classification", seed=0)
    ab = torch.full((2, 2, 16, 16), 0.0)
    ab[:, 0] = 94.9                                                # nearest bin a = 90 (4.9 away), not 100 (5.1)
    seen = {}
    original = color.soft_encode_sparse

    def spy(ab_, bins, *a, **k):
        seen["dtype"], seen["autocast"] = ab_.dtype, torch.is_autocast_enabled("cpu")
        return original(ab_, bins, *a, **k)

    color.soft_encode_sparse = spy
    try:
        with torch.autocast("cpu", torch.bfloat16):
            ce.train_step(run, (torch.rand(2, 1, 32, 32) * 100, ab))
    finally:
        color.soft_encode_sparse = original
    assert seen == {"dtype": torch.float32, "autocast": False}


def _synthetic_rows(changes=None):
    """A table in evaluate's form in which every issue-12 finding holds; ``changes``: {(model, column): value}."""
    base = {"grey": (0.80, 0.70, 300, 0.0, 0.20), "L2": (0.90, 0.72, 150, 8.0, 0.30),
            "classification": (0.88, 0.73, 180, 12.0, 0.32), "rebalanced": (0.86, 0.80, 220, 18.0, 0.35),
            "ground truth": (1.0, 1.0, 0, 20.0, 0.50)}
    rows = []
    for model, (auc, rebal, mse, chroma, top1) in base.items():
        row = {"set": "Caltech test", "model": model, "decoding": "-" if model in ("grey", "L2", "ground truth")
               else ce.SHOWN_DECODING, "auc": auc, "auc_rebal": rebal, "mse": mse, "chroma": chroma, "spread": 1.0,
               "colourfulness": 1.0, "judge_top1": top1}
        for (m, col), v in (changes or {}).items():
            if m == model:
                row[col] = v
        row["chroma_vs_truth"] = row["chroma"] / 20.0
        rows.append(row)
    return rows


def test_findings_are_computed_from_the_table():
    f = ce.findings(_synthetic_rows())
    assert all(f[k] for k in ("l2_desaturated", "rebalanced_colourful", "l2_best_mse", "l2_best_raw_auc",
                              "rebalanced_best_rebal_auc", "semantic_order", "rebalanced_beats_l2_on_judge",
                              "rebalanced_1_5x_l2", "l2_and_classification_help_the_judge")), f
    assert f["l2_chroma_ratio"] == pytest.approx(0.4) and f["rebalanced_vs_l2_chroma"] == pytest.approx(2.25)
    assert not ce.findings(_synthetic_rows({("L2", "chroma"): 12.5}))["l2_desaturated"]          # 0.625 > 0.60
    assert not ce.findings(_synthetic_rows({("rebalanced", "chroma"): 11.0}))["rebalanced_colourful"]  # 1.375x
    assert not ce.findings(_synthetic_rows({("rebalanced", "chroma"): 26.0}))["rebalanced_colourful"]  # 1.3 of truth
    assert not ce.findings(_synthetic_rows({("classification", "mse"): 100}))["l2_best_mse"]
    assert not ce.findings(_synthetic_rows({("rebalanced", "auc"): 0.95}))["l2_best_raw_auc"]
    assert not ce.findings(_synthetic_rows({("L2", "auc_rebal"): 0.9}))["rebalanced_best_rebal_auc"]
    assert not ce.findings(_synthetic_rows({("L2", "judge_top1"): 0.15}))["semantic_order"]
    assert not ce.findings(_synthetic_rows({("rebalanced", "judge_top1"): 0.55}))["semantic_order"]
    hurt = ce.findings(_synthetic_rows({("rebalanced", "judge_top1"): 0.15}))
    assert not hurt["semantic_order"] and hurt["l2_and_classification_help_the_judge"]
    assert not hurt["rebalanced_beats_l2_on_judge"]


@pytest.mark.slow
def test_score_rows_on_a_few_photos():
    """evaluate's scoring on 10 Caltech test photos with untrained members: the baselines' values, the columns,
    the judge's accuracy of the true photos equal to what the judge says by itself."""
    from course_lib.data.colorization import HeldOutPhotos
    from course_lib.models.photo_judge import load_photo_judge, photos_to_judge_range

    cfg = ce.Config.make("fast", **SMALL)
    runs = {n: ce.build(cfg, n) for n in ce.MEMBERS}
    full = caltech_held_out()
    keep = list(range(0, 460, 46))
    photos = HeldOutPhotos(tuple(full.names[i] for i in keep), tuple(full.rgb[i] for i in keep),
                           tuple(full.L[i] for i in keep), tuple(full.ab[i] for i in keep), full.labels[keep],
                           full.classes)
    preds = ce.predictions(runs, photos)
    assert list(preds) == ["grey", *ce.MEMBERS, "ground truth"] and list(preds["rebalanced"]) == list(color.DECODINGS)
    assert preds["rebalanced"]["mode"][0].shape == (1, 2, 128, 128)
    # batched prediction is the library's one-photo prediction
    for model, decoding in (("L2", "-"), ("rebalanced", "annealed mean"), ("classification", "mode")):
        one = predict_ab(runs[model].net, photos.L[3], decoding if decoding != "-" else "mean")
        assert torch.allclose(preds[model][decoding][3], one, atol=1e-3), model
    judge = load_photo_judge(progress=False)
    rows = ce.score_rows("Caltech test", photos, preds, judge)
    assert all(tuple(r) == ce.TABLE_COLUMNS for r in rows) and len(rows) == 1 + 1 + 3 + 3 + 1
    truth = next(r for r in rows if r["model"] == "ground truth")
    grey = next(r for r in rows if r["model"] == "grey")
    assert truth["auc"] == pytest.approx(1.0, abs=0.004) and truth["auc_rebal"] == pytest.approx(1.0, abs=0.004)
    assert truth["mse"] == 0.0 and truth["chroma_vs_truth"] == 1.0 and grey["chroma"] == 0.0 and grey["spread"] == 0.0
    assert grey["colourfulness"] == pytest.approx(0.0, abs=1.0)   # lab2rgb rounding leaves a trace
    with torch.no_grad():
        direct = judge(photos_to_judge_range(torch.from_numpy(np.stack(photos.rgb)).permute(0, 3, 1, 2)))
    # through Lab and back the photos differ by rounding only: the judge's answers agree on nearly all
    assert abs(truth["judge_top1"] - (direct.argmax(1) == photos.labels).double().mean().item()) <= 0.1
    with pytest.raises(ValueError, match="class labels"):
        ce.judge_top1(judge, kodak_held_out(), [torch.zeros_like(a) for a in kodak_held_out().ab])


@pytest.mark.parametrize("name", ce.MEMBERS)
def test_stored_weights_load_and_name_their_command(name):
    cfg = ce.Config.make("fast")
    path = common.weights_path(ce.STEMS[name])
    assert path.is_file(), f"{path} is missing: run `{common.train_command('colorization')}`"
    assert path.stat().st_size < 3e6
    meta = load_weights(ColorizationNet(ce.MODEL_KIND[name], len(color.AB_BINS), cfg.width), path)  # = ce.build's net
    assert meta["seed"] == 0 and meta["member"] == name and meta["steps"] == cfg.steps
    assert meta["command"] == common.train_command("colorization", "fast", 0, name, "bf16")
    assert meta["precision"].startswith("bf16 autocast")


# ----------------------------------------------------------------------------- the notebook's mechanism cells

@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_notebook_forward_is_the_library_forward(kind):
    ns = cell_namespace(NOTEBOOK, defines="colorization_forward", preamble=PREAMBLE)
    torch.manual_seed(0)
    net = ColorizationNet(kind, 261, width=8)
    L = torch.rand(3, 1, 24, 32) * 100
    for mode in ("train", "eval"):
        getattr(net, mode)()
        with torch.no_grad():
            assert torch.equal(ns["colorization_forward"](net, L), net(L)), mode
    stored = ColorizationNet(kind, 261, ce.Config.make("fast").width)  # (building the member would make the crops)
    load_weights(stored, common.weights_path(ce.STEMS["L2" if kind == "regression" else "rebalanced"]))
    L = caltech_held_out().L[0]
    with torch.no_grad():
        assert torch.equal(ns["colorization_forward"](stored.eval(), L), stored(L))


def test_notebook_train_step_is_the_library_train_step():
    ns = cell_namespace(NOTEBOOK, defines="rebalanced_train_step", preamble=PREAMBLE)
    cfg = ce.Config.make("fast", **SMALL, batch_size=8, steps=10)
    seed_everything(3)
    a = ce.build(cfg, "rebalanced", seed=3)
    seed_everything(3)
    b = ce.build(cfg, "rebalanced", seed=3)
    start = {k: v.clone() for k, v in a.net.state_dict().items()}
    batches_a, batches_b = a.batches(), b.batches()
    for _ in range(4):
        batch_a, batch_b = next(batches_a), next(batches_b)
        assert all(torch.equal(u, v) for u, v in zip(batch_a, batch_b))
        assert ns["rebalanced_train_step"](a, batch_a) == ce.train_step(b, batch_b)
    state_a, state_b = a.net.state_dict(), b.net.state_dict()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_b)
    assert not all(torch.equal(start[k], state_a[k]) for k in start)  # the steps did train
    assert a.sched.get_last_lr() == b.sched.get_last_lr()
