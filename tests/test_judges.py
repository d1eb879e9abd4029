"""Shared pieces of the generative notebooks: GAN losses, train-or-load weights, the Fashion-MNIST
recognizer and the scores it gives (recognizer score, Fréchet recognizer distance)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import checkpoints, metrics
from course_lib.losses import GANLoss
from course_lib.models import recognizer as rec


# --- GANLoss ----------------------------------------------------------------------------------

def test_vanilla_gan_loss_is_bce_against_hidden_targets():
    scores = torch.tensor([[-2.0, 0.0], [1.0, 3.0]])
    loss = GANLoss("vanilla")
    by_hand_real = -torch.log(torch.sigmoid(scores)).mean()
    by_hand_fake = -torch.log(1 - torch.sigmoid(scores)).mean()
    assert torch.allclose(loss(scores, True), by_hand_real, atol=1e-6)
    assert torch.allclose(loss(scores, False), by_hand_fake, atol=1e-6)


def test_lsgan_and_label_smoothing():
    scores = torch.tensor([0.5, 2.0, -1.0])
    assert torch.allclose(GANLoss("lsgan")(scores, True), ((scores - 1) ** 2).mean())
    assert torch.allclose(GANLoss("lsgan")(scores, False), (scores ** 2).mean())
    smooth = GANLoss("vanilla", target_real_label=0.9)
    assert torch.allclose(smooth(scores, True), F.binary_cross_entropy_with_logits(scores, torch.full_like(scores, 0.9)))


def test_hinge_loss_discriminator_and_generator():
    scores = torch.tensor([-2.0, 0.5, 3.0])
    loss = GANLoss("hinge")
    assert loss(scores, True).item() == pytest.approx((3 + 0.5 + 0) / 3)
    assert loss(scores, False).item() == pytest.approx((0 + 1.5 + 4) / 3)
    assert loss(scores, True, for_discriminator=False).item() == pytest.approx(-0.5)


def test_gan_loss_errors_and_gradients():
    with pytest.raises(ValueError, match="gan_mode"):
        GANLoss("wgan")
    with pytest.raises(ValueError, match="empty"):
        GANLoss()(torch.empty(0), True)
    patch_scores = torch.zeros(2, 1, 30, 30, requires_grad=True)  # PatchGAN output
    GANLoss()(patch_scores, True).backward()
    assert patch_scores.grad.shape == patch_scores.shape and (patch_scores.grad < 0).all()


# --- train-or-load ----------------------------------------------------------------------------

def _tiny():
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))


def test_save_and_load_weights_round_trip_in_half_precision(tmp_path):
    a, b = _tiny(), _tiny()
    path = checkpoints.save_weights(a, tmp_path / "w.pt", "python make.py", {"acc": 0.5})
    meta = checkpoints.load_weights(b, path)
    assert meta == {"acc": 0.5, "command": "python make.py"}
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert vb.dtype == va.dtype, k
        assert torch.allclose(va.float(), vb.float(), atol=1e-3, rtol=1e-3), k
    with pytest.raises(ValueError, match="command"):
        checkpoints.save_weights(a, tmp_path / "x.pt", "  ")


def test_load_weights_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        checkpoints.load_weights(_tiny(), tmp_path / "missing.pt")
    checkpoints.save_weights(torch.nn.Linear(2, 2), tmp_path / "other.pt", "python other.py")
    with pytest.raises(RuntimeError, match="other.pt"):
        checkpoints.load_weights(_tiny(), tmp_path / "other.pt")


def test_train_or_load_trains_once_then_loads(tmp_path, monkeypatch):
    calls = []

    def train(model):
        calls.append(1)
        with torch.no_grad():
            model[0].weight.fill_(0.25)
        return {"acc": 1.0}

    path = tmp_path / "w.pt"
    monkeypatch.delenv("COURSE_RETRAIN", raising=False)
    assert checkpoints.train_or_load(_tiny(), path, train, "cmd")["trained"] is True
    m = _tiny()
    assert checkpoints.train_or_load(m, path, train, "cmd")["trained"] is False
    assert len(calls) == 1 and torch.all(m[0].weight == 0.25)
    monkeypatch.setenv("COURSE_RETRAIN", "1")
    assert checkpoints.train_or_load(_tiny(), path, train, "cmd")["trained"] is True and len(calls) == 2


# --- the recognizer ----------------------------------------------------------------------------

def test_recognizer_input_sizes_and_errors():
    assert rec.to_recognizer_input(torch.zeros(2, 1, 28, 28)).shape == (2, 1, 32, 32)
    assert rec.to_recognizer_input(torch.zeros(2, 1, 28, 28))[0, 0, 0, 0] == -1  # background padding
    assert rec.to_recognizer_input(torch.zeros(2, 3, 64, 64)).shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="-1, 1"):
        rec.to_recognizer_input(torch.full((1, 1, 28, 28), 255.0))
    with pytest.raises(ValueError, match="N x 1 x H x W"):
        rec.to_recognizer_input(torch.zeros(28, 28))


def test_shipped_recognizer_weights_recognize_held_out_images():
    from course_lib.data.fashion_mnist import fashion_mnist_tensors
    from course_lib.experiments import recognizer as experiment

    model = rec.load_recognizer()
    # the committed file keeps the command of the old script, which trained exactly as
    # `python -m course_lib train recognizer` does (same steps, batches, shifts and seeding)
    assert model.meta["command"] == "python -m course_lib.models.recognizer --epochs 3 --seed 0"
    assert model.meta["trained"] is False and not any(p.requires_grad for p in model.parameters())
    x, y = fashion_mnist_tensors("test", 2000, value_range="-1,1")
    assert rec.accuracy(model, x, y) > 0.88  # the stored file reports its accuracy on all 10,000
    rows = experiment.evaluate(experiment.Config.make("fast", n_test=2000), {"fashion_recognizer": _Run(model)})
    assert rows == [{"member": "fashion_recognizer", "test_accuracy": rec.accuracy(model, x, y), "n_test": 2000}]
    readme = (checkpoints.WEIGHTS_DIR / "README.md").read_text()
    assert "python -m course_lib train recognizer --seed 0" in readme


class _Run:
    def __init__(self, net):
        self.net = net


def test_course_retrain_does_not_retrain_the_judge(monkeypatch):
    """COURSE_RETRAIN=1 retrains generators; the recognizer that scores them must stay the stored one."""
    from course_lib.experiments import common

    def no_training(*args, **kwargs):
        raise AssertionError("load_recognizer trained the recognizer under COURSE_RETRAIN=1")

    monkeypatch.setenv("COURSE_RETRAIN", "1")
    monkeypatch.setattr(common, "train", no_training)
    model = rec.load_recognizer()
    assert model.meta["trained"] is False


def test_recognizer_training_reduces_the_loss():
    """The train-or-load rule: retraining from scratch works (a few steps, loss falls)."""
    from course_lib.data.fashion_mnist import fashion_mnist_tensors

    torch.manual_seed(0)
    model = rec.FashionRecognizer()
    x, y = fashion_mnist_tensors("train", 512, value_range="-1,1", pad_to=32)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(3):
        for i in range(0, 512, 64):
            loss = F.cross_entropy(model(x[i:i + 64]), y[i:i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert np.mean(losses[-4:]) < 0.6 * np.mean(losses[:4])


def test_recognizer_experiment_trains_with_the_stored_recipe_and_a_seed_fixes_it():
    """The experiment's build and train_step: one-cycle schedule over all steps, shifted batches, the loss
    falls over the first 24 steps of 64 images; the same seed gives the same weights."""
    from course_lib.device import seed_everything
    from course_lib.experiments import common
    from course_lib.experiments import recognizer as experiment

    cfg = experiment.Config.make("fast", n_train=512, batch_size=64, epochs=3)

    def train(seed):
        seed_everything(seed)
        run = experiment.build(cfg, "fashion_recognizer", seed)
        return run, common.fit(experiment, run, progress=False)["loss"]

    (a, la), (b, lb) = train(1), train(1)
    assert a.steps == 24 and la == lb and np.mean(la[-4:]) < 0.6 * np.mean(la[:4])
    assert all(torch.equal(p, q) for p, q in zip(a.net.state_dict().values(), b.net.state_dict().values()))
    assert a.sched.get_last_lr()[0] < 1e-4  # the one-cycle schedule ends near 0
    shifted = rec.random_shift(torch.ones(3, 1, 8, 8), 2, torch.Generator().manual_seed(0))
    assert shifted.shape == (3, 1, 8, 8) and (shifted == -1).any()
    with pytest.raises(ValueError, match="member"):
        experiment.build(cfg, "mnist_recognizer")


# --- the scores ---------------------------------------------------------------------------------

class _FixedLogits(torch.nn.Module):
    """A stand-in recognizer: image i gets the logits row i."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", logits)
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.logits[x[:, 0, 0, 0].long()]


def test_recognizer_score_confidence_and_coverage():
    k = 4
    confident = torch.eye(k) * 100  # each image sure of a different class
    idx = torch.arange(k).float().view(k, 1, 1, 1).expand(k, 1, 2, 2)
    s = metrics.recognizer_score(idx, _FixedLogits(confident))
    assert s["confidence"] == pytest.approx(1.0)
    assert s["coverage_entropy"] == pytest.approx(math.log(k))
    assert s["coverage"] == pytest.approx(1.0)
    collapsed = torch.zeros(k, k)
    collapsed[:, 2] = 100  # every image the same class: mode collapse
    s = metrics.recognizer_score(idx, _FixedLogits(collapsed))
    assert s["coverage_entropy"] == pytest.approx(0.0) and s["coverage"] == pytest.approx(1 / k)
    assert s["class_histogram"] == [0.0, 0.0, 1.0, 0.0]
    s = metrics.recognizer_score(idx, _FixedLogits(torch.zeros(k, k)))  # undecided
    assert s["confidence"] == pytest.approx(1 / k)
    with pytest.raises(ValueError):
        metrics.recognizer_score(idx[:0], _FixedLogits(confident))


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 3))
    mu, sigma = metrics.feature_statistics(a)
    assert metrics.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 for standard deviations s1, s2
    assert metrics.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1)
    # diagonal covariances: per-axis sum
    d = metrics.frechet_distance(np.zeros(2), np.diag([1.0, 4.0]), np.ones(2), np.diag([4.0, 4.0]))
    assert d == pytest.approx(2 + 1 + 0)
    with pytest.raises(ValueError):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError):
        metrics.feature_statistics(np.zeros((1, 3)))


def test_frechet_recognizer_distance_orders_real_shuffled_and_noise():
    from course_lib.data.fashion_mnist import fashion_mnist_tensors

    model = rec.load_recognizer()
    real_a, _ = fashion_mnist_tensors("test", 1000, value_range="-1,1")
    real_b, _ = fashion_mnist_tensors("train", 1000, value_range="-1,1")
    noise = torch.rand(real_a.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    near = metrics.frechet_recognizer_distance(real_b, real_a, model)
    far = metrics.frechet_recognizer_distance(noise, real_a, model)
    assert 0 <= near < 0.1 * far
