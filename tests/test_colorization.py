"""Notebook 03's parts: Lab, the in-gamut ab bins, soft encoding, rebalancing, decoding, the loss,
the metrics, the networks, the experiment and its stored weights, and the notebook's forward pass and
training step against the library's."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import color, metrics
from course_lib.checkpoints import load_weights
from course_lib.data.colorization import held_out_photos
from course_lib.data.photos import PHOTO_SPLITS
from course_lib.device import seed_everything
from course_lib.experiments import colorization as ce
from course_lib.experiments import common
from course_lib.losses import rebalanced_cross_entropy, rebalanced_cross_entropy_sparse
from course_lib.models.colorization import ColorizationNet
from notebook_cells import cell_namespace

NOTEBOOK = "03_colorization.ipynb"
PREAMBLE = "import torch\nimport torch.nn.functional as F\nfrom course_lib.models.colorization import AB_SCALE\n"
OLD_COMMAND = "python -m course_lib.experiments.colorization --save-weights --seed 0"
"""The command recorded in the stored files: the old script, whose training ``train colorization`` repeats."""

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

SMALL = dict(n_crops=96, width=8)


@pytest.fixture(scope="module")
def small_crops():
    return ce.Config.make("fast", **SMALL).crops(seed=0)


def test_data_is_disjoint_and_well_formed(small_crops):
    d, photos = small_crops, held_out_photos(96)
    assert set(PHOTO_SPLITS["train"]).isdisjoint(photos.names)
    assert d.L.shape == (96, 1, 32, 32) and d.ab.shape == (96, 2, 16, 16)
    assert d.index.shape == d.weight.shape == (96, 5, 16, 16)
    assert 0 <= d.L.min() and d.L.max() <= 100
    assert d.prior.sum().item() == pytest.approx(1.0)
    assert (d.prior * color.smooth_distribution(d.prior, BINS)).sum() > 0
    assert (color.smooth_distribution(d.prior, BINS) * d.weights.double()).sum().item() == pytest.approx(1, rel=1e-4)
    assert all(L.shape[-2] % 4 == 0 and L.shape[-1] % 4 == 0 for L in photos.L)
    with pytest.raises(ValueError):
        ce.Config.make("fast", crop=30)


def _training_loss(run, crops) -> float:
    """The member's training loss on all the crops, in eval mode."""
    run.net.eval()
    with torch.no_grad():
        out = run.net(crops.L)
    if run.net.kind == "regression":
        return F.mse_loss(out, crops.ab).item()
    return rebalanced_cross_entropy_sparse(out, crops.index, crops.weight, run.weights).item()


@pytest.mark.parametrize("name", ce.MEMBERS)
def test_a_few_training_steps_lower_the_loss(name, small_crops):
    """What retraining the stored weights would do, for a few steps: the loss must fall."""
    cfg = ce.Config.make("fast", **SMALL, lr=1e-2, batch_size=8, steps=25)
    run = ce.build(cfg, name, seed=0)
    assert (run.weights is not None) == (name == "rebalanced")
    before = _training_loss(run, small_crops)
    common.fit(ce, run, progress=False)
    after = _training_loss(run, small_crops)
    assert after < 0.9 * before, (before, after)


def test_evaluate_table():
    cfg = ce.Config.make("fast", **SMALL)
    runs = {n: ce.build(cfg, n) for n in ce.MEMBERS}
    rows, extras = ce.evaluate(cfg, runs)
    keys = [(r["model"], r["decoding"]) for r in rows]
    assert ("rebalanced", "annealed mean") in keys and ("L2", "-") in keys and ("ground truth", "-") in keys
    truth = next(r for r in rows if r["model"] == "ground truth")
    grey = next(r for r in rows if r["model"] == "grey")
    assert truth["auc"] == pytest.approx(1.0, abs=0.004) and truth["mse"] == 0.0
    assert grey["colourfulness"] == pytest.approx(0.0, abs=1.0)   # lab2rgb rounding leaves a trace
    assert all(tuple(r) == ce.TABLE_COLUMNS for r in rows)
    assert [{k: r[k] for k in ce.TABLE_COLUMNS} for r in extras["rows"]] == rows
    assert extras["Q"] == 261 and len(extras["predictions"]["rebalanced"]["mode"]) == len(held_out_photos(96).names)


@pytest.mark.parametrize("name", ce.MEMBERS)
def test_stored_weights_load_and_name_their_command(name):
    cfg = ce.Config.make("fast")
    path = common.weights_path(ce.STEMS[name])
    assert path.is_file(), f"{path} is missing: run `{common.train_command('colorization')}`"
    assert path.stat().st_size < 3e6
    meta = load_weights(ColorizationNet(ce.MODEL_KIND[name], len(color.AB_BINS), cfg.width), path)  # = ce.build's net
    assert meta["seed"] == 0
    if meta["command"].startswith(OLD_COMMAND):  # made by the old script: its record of the config
        assert meta["config"] == {k: v for k, v in cfg.as_dict().items() if k != "profile"}
    else:
        assert meta["command"] == common.train_command("colorization", "fast", 0, name)
        assert meta["member"] == name and meta["steps"] == cfg.steps


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
    L = held_out_photos(96).L[0]
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
