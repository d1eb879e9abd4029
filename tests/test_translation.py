"""pix2pix / CycleGAN training and scoring (course_lib.translation, the losses, the metrics, the PatchGAN
family), and the stored generators: they load, score sensibly, and a few steps of retraining lower the loss."""
import math

import pytest
import torch

from course_lib import translation as T
from course_lib.losses import GANLoss, cycle_consistency_loss, identity_loss, pix2pix_generator_loss
from course_lib.metrics import pixel_scores, recognizer_accuracy
from course_lib.models.pix2pix import SCALED_FAMILY_32, PatchDiscriminator, scaled_patchgan_family
from course_lib.receptive_field import receptive_field


class _Probe(torch.nn.Module):
    """A 'discriminator' that records what it is given and returns a constant score."""

    def __init__(self, score=0.0):
        super().__init__()
        self.seen, self.score = [], score

    def forward(self, z):
        self.seen.append(z)
        return torch.full((len(z), 1, 2, 2), self.score)


def test_generator_loss_conditions_d_and_compares_with_the_target():
    x, fake, y = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.5), torch.ones(2, 1, 4, 4)
    D = _Probe(0.0)
    loss, parts = pix2pix_generator_loss(D, x, fake, y, GANLoss("vanilla"), lambda_l1=100.0)
    assert D.seen[0].shape == (2, 2, 4, 4) and torch.equal(D.seen[0][:, :1], x) and torch.equal(D.seen[0][:, 1:], fake)
    assert math.isclose(parts["G_gan"], math.log(2), rel_tol=1e-6)  # -log sigmoid(0)
    assert math.isclose(parts["G_l1"], 0.5, rel_tol=1e-6)
    assert math.isclose(loss.item(), math.log(2) + 50.0, rel_tol=1e-6)
    l1_only, p = pix2pix_generator_loss(_Probe(), x, fake, y, GANLoss(), use_gan=False)
    assert p["G_gan"] == 0 and math.isclose(l1_only.item(), 50.0)


def test_cycle_and_identity_losses():
    a, rec = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, -1.0], [0.0, 2.0]]]])
    assert cycle_consistency_loss(a, rec).item() == 1.0
    assert identity_loss(a, rec).item() == 1.0
    with pytest.raises(ValueError):
        cycle_consistency_loss(a, torch.zeros(1, 1, 3, 3))


def test_scaled_patchgan_family_matches_the_paper_ratios():
    fam = scaled_patchgan_family(32, 2, ndf=4)
    sizes = [receptive_field(d).size for d in fam.values()]
    assert sizes == [1, 2, 10, 34]
    paper = [1, 16, 70, 286]
    for ours, theirs in zip(sizes[1:], paper[1:]):
        assert abs(ours / 32 - theirs / 256) / (theirs / 256) < 0.16
    assert [receptive_field(d).size for d in scaled_patchgan_family(256, 6, ndf=2).values()] == paper
    assert set(SCALED_FAMILY_32) == set(fam)
    with pytest.raises(ValueError):
        PatchDiscriminator(2, [(4, 2)])


def test_linear_decay_schedule():
    f = T.linear_decay(100)
    assert f(0) == f(49) == 1.0 and math.isclose(f(75), 0.5) and f(100) == 0.0


def test_metrics_for_translation():
    x = torch.zeros(3, 1, 4, 4)
    s = pixel_scores(x, x + 0.2)
    assert math.isclose(s["l1"], 0.2, rel_tol=1e-6) and math.isclose(s["psnr"], 10 * math.log10(4 / 0.04), rel_tol=1e-6)

    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z):
            logits = torch.zeros(len(z), 10)
            logits[:, 0] = 9  # class 0 wins overall, class 7 among the shoes
            logits[:, 7] = 5
            return logits

    labels = torch.tensor([1, 1, 0])
    assert math.isclose(recognizer_accuracy(x, labels, Fixed(), (5, 7, 9)), 2 / 3)
    assert recognizer_accuracy(x, torch.zeros(3, dtype=torch.long), Fixed()) == 1.0


@pytest.fixture(scope="module")
def small():
    # lr 2e-3 (10x the paper's) so that a few steps show the loss falling
    cfg = T.make_config("fast", n_train=256, n_test=200, batch_size=16, lr=2e-3)
    x, y, test = T.load_pairs(cfg)
    return cfg, x, y, test


def test_pix2pix_few_steps_reduce_the_l1_loss(small):
    cfg, x, y, _ = small
    torch.manual_seed(0)
    _, hist = T.train_pix2pix(cfg, "L1+cGAN", seed=0, data=(x, y), steps=25, progress=False)
    assert sum(hist["G_l1"][-5:]) / 5 < 0.7 * sum(hist["G_l1"][:5]) / 5
    assert "D" in hist and len(hist["D"]) == 25


def test_cyclegan_few_steps_reduce_the_cycle_loss(small):
    cfg, x, y, _ = small
    m, hist = T.train_cyclegan(cfg, x[:128], y[128:], seed=0, steps=12, progress=False)
    assert sum(hist["cycle"][-3:]) < 0.85 * sum(hist["cycle"][:3])
    assert set(hist) >= {"G_gan", "cycle", "identity", "D"}


@pytest.mark.parametrize("variant", list(T.VARIANTS))
def test_stored_pix2pix_generators_load_and_beat_chance(small, variant):
    from course_lib.experiments.pix2pix_ablation import weight_name
    from course_lib.checkpoints import load_weights

    cfg, _, _, test = small
    G = T.build_generator(T.make_config("fast"))
    meta = load_weights(G, T.weights_path(weight_name(variant)))
    assert "reproduce pix2pix_ablation" in meta["command"]
    assert T.weights_path(weight_name(variant)).stat().st_size < 2e6
    scores = T.evaluate_shoes(G, test)
    assert scores["type_accuracy"] > 0.5  # chance is 1/3


def test_stored_cyclegan_generators_load():
    from course_lib.checkpoints import load_weights

    m = T.CycleGAN(T.make_config("fast"))
    for name in ("G_AB", "G_BA"):
        meta = load_weights(getattr(m, name), T.weights_path(f"cyclegan_shoes_{name}"))
        assert "reproduce cyclegan" in meta["command"]
    assert T.translate(m.G_AB, torch.zeros(2, 1, 32, 32)).shape == (2, 1, 32, 32)


def test_training_repeats_exactly_with_the_same_seed(small):
    """The stored generators are reproducible only if a seed fixes everything (weights, batches, dropout)."""
    cfg, x, y, _ = small

    def weights(seed):
        G, _ = T.train_pix2pix(cfg, "L1+cGAN", seed=seed, data=(x[:64], y[:64]), steps=3, progress=False)
        return torch.cat([p.detach().flatten() for p in G.state_dict().values() if p.is_floating_point()])

    first, again, other = weights(7), weights(7), weights(8)
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    m1, _ = T.train_cyclegan(cfg, x[:64], y[64:128], seed=7, steps=2, progress=False)
    m2, _ = T.train_cyclegan(cfg, x[:64], y[64:128], seed=7, steps=2, progress=False)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)


def test_translation_experiments_are_discovered_and_refuse_the_full_profile_where_unscored():
    from course_lib.__main__ import experiment_names
    from course_lib.experiments import cyclegan, cyclegan_identity

    assert {"pix2pix_ablation", "patchgan_sizes", "cyclegan", "cyclegan_identity"} <= set(experiment_names())
    for module in (cyclegan, cyclegan_identity):
        with pytest.raises(NotImplementedError, match="paired"):
            module.run("full", seed=1, progress=False)
