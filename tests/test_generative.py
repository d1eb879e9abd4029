"""GANs and VAEs (notebooks 04, 05): losses against hand-computed values, the models' shapes and
architecture rules, latent interpolation, a few training steps that lower the loss (the train-or-load
rule), training that a seed fixes exactly, the notebooks' own training steps against the library's, and the
shipped weights."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import latent, losses, metrics
from course_lib.device import seed_everything
from course_lib.experiments import common
from course_lib.experiments import dcgan as dcgan_experiment
from course_lib.experiments import vae as vae_experiment
from course_lib.models import dcgan, toy_gan, vae
from notebook_cells import cell_namespace


# --- GAN losses ---------------------------------------------------------------------------------

def test_gan_losses_match_the_formulas():
    real = torch.tensor([2.0, -1.0, 0.5])
    fake = torch.tensor([-3.0, 0.0, 1.0, 4.0])
    d = lambda s: torch.sigmoid(s)  # noqa: E731
    by_hand_d = -torch.log(d(real)).mean() - torch.log(1 - d(fake)).mean()
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(by_hand_d.item(), rel=1e-6)
    assert losses.generator_loss(fake).item() == pytest.approx(-torch.log(d(fake)).mean().item(), rel=1e-6)
    assert losses.saturating_generator_loss(fake).item() == pytest.approx(torch.log(1 - d(fake)).mean().item(),
                                                                          rel=1e-6)
    zero = torch.zeros(5)
    assert losses.discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    # the non-saturating loss agrees with GANLoss('vanilla') with target "real"
    assert torch.allclose(losses.generator_loss(fake), losses.GANLoss("vanilla")(fake, True))
    # finite for large logits (softplus, not log(sigmoid))
    assert torch.isfinite(losses.discriminator_loss(torch.tensor([-200.0]), torch.tensor([200.0])))


def test_saturating_loss_has_vanishing_gradient_where_D_rejects_fakes():
    s = torch.tensor([-8.0], requires_grad=True)  # D is sure the fake is fake
    losses.saturating_generator_loss(s).backward()
    g_sat = s.grad.abs().item()
    s.grad = None
    losses.generator_loss(s).backward()
    g_ns = s.grad.abs().item()
    assert g_sat < 1e-3 and g_ns > 0.99  # -sigmoid(s) vs -(1 - sigmoid(s))


# --- VAE losses ---------------------------------------------------------------------------------

def test_reparameterize_statistics_and_gradients():
    mu = torch.full((200_000, 2), 1.5, requires_grad=True)
    logvar = torch.tensor([[math.log(4.0), math.log(0.25)]]).expand(200_000, 2).clone().requires_grad_(True)
    z = losses.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert z.shape == mu.shape
    assert torch.allclose(z.mean(0), torch.tensor([1.5, 1.5]), atol=0.02)
    assert torch.allclose(z.std(0), torch.tensor([2.0, 0.5]), atol=0.02)  # std = exp(logvar / 2)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu)) and logvar.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        losses.reparameterize(torch.zeros(2, 3), torch.zeros(2, 4))


def test_gaussian_kl_closed_form():
    mu, logvar = torch.zeros(3, 4), torch.zeros(3, 4)
    assert torch.allclose(losses.gaussian_kl(mu, logvar), torch.zeros(3))
    # 1-D: KL(N(m, v) || N(0, 1)) = (v + m^2 - 1 - ln v) / 2
    m, v = 0.7, 2.5
    kl = losses.gaussian_kl(torch.tensor([[m]]), torch.tensor([[math.log(v)]]))
    assert kl.item() == pytest.approx((v + m * m - 1 - math.log(v)) / 2, rel=1e-6)
    # against torch.distributions, summed over dimensions
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    ref = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(losses.gaussian_kl(mu, logvar), ref, atol=1e-5)


def test_vae_loss_sums_pixels_and_averages_the_batch():
    torch.manual_seed(0)
    logits, target = torch.randn(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    out = losses.vae_loss(logits, target, mu, logvar, beta=0.5)
    recon = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / 4
    assert out["recon"].item() == pytest.approx(recon.item(), rel=1e-5)
    assert out["kl"].item() == pytest.approx(losses.gaussian_kl(mu, logvar).mean().item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx(out["recon"].item() + 0.5 * out["kl"].item(), rel=1e-5)
    with pytest.raises(ValueError, match="0, 1"):
        losses.vae_loss(logits, target * 2 - 1, mu, logvar)


# --- models ---------------------------------------------------------------------------------------

def test_dcgan_shapes_and_architecture_rules():
    model = dcgan.DCGAN()
    z = torch.randn(3, dcgan.NZ)
    x = model.G(z)
    assert x.shape == (3, 1, 32, 32) and x.min() >= -1 and x.max() <= 1
    assert model.D(x).shape == (3,)
    modules = list(model.modules())
    assert not any(isinstance(m, nn.Linear) for m in modules), "DCGAN has no fully connected layers"
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in modules), "no pooling"
    assert any(isinstance(m, nn.LeakyReLU) for m in model.D.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.G.modules())
    assert not isinstance(model.D.net[1], nn.BatchNorm2d), "no BatchNorm on D's input layer"
    run = dcgan_experiment.build(dcgan_experiment.Config.make("fast"), "dcgan_fashion", seed=0)
    for opt in (run.opt_G, run.opt_D):
        assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)  # Radford et al., Sec. 4
    assert run.gan.G is run.G and run.gan.D is run.D and run.stored == {"gan": "dcgan_fashion"}
    convs = [m for m in run.gan.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(m.bias is None for m in convs) and 0.015 < torch.cat([m.weight.flatten() for m in convs]).std() < 0.025
    with pytest.raises(ValueError, match="member"):
        dcgan_experiment.build(dcgan_experiment.Config.make("fast"), "dcgan_mnist")
    with pytest.raises(ValueError):
        model.G(torch.randn(2, 7))


def test_dcgan_training_steps_lower_the_discriminator_loss():
    """Train-or-load rule: a few steps of the real training, the loss falls (D learns first)."""
    from course_lib.data.fashion_mnist import fashion_mnist_tensors

    torch.manual_seed(0)
    model = dcgan.DCGAN(ngf=16, ndf=16)
    run = common.Run(models={"G": model.G, "D": model.D}, stored={}, steps=10, batches=lambda: iter(()),
                     state={"opt_G": common.adam(model.G.parameters(), 2e-4, (0.5, 0.999))[0],
                            "opt_D": common.adam(model.D.parameters(), 2e-4, (0.5, 0.999))[0]})
    x, _ = fashion_mnist_tensors("train", 320, value_range="-1,1", pad_to=32)
    hist = [dcgan_experiment.train_step(run, (x[i:i + 32], torch.randn(32, dcgan.NZ))) for i in range(0, 320, 32)]
    assert hist[0]["loss_D"] > 1.0  # about 2 log 2 at the start
    assert sum(h["loss_D"] for h in hist[-3:]) / 3 < 0.7 * hist[0]["loss_D"]
    assert all(math.isfinite(h["loss_G"]) for h in hist)


def test_vae_shapes_and_training_steps_lower_the_loss():
    from course_lib.data.fashion_mnist import fashion_mnist_tensors

    torch.manual_seed(0)
    model = vae.VAE(z_dim=4, width=8)
    x, _ = fashion_mnist_tensors("train", 256, value_range="-1,1", pad_to=32)
    logits, mu, logvar = model(x[:5])
    assert logits.shape == (5, 1, 32, 32) and mu.shape == logvar.shape == (5, 4)
    s = model.sample(3)
    assert s.shape == (3, 1, 32, 32) and s.min() >= -1 and s.max() <= 1
    assert model.reconstruct(x[:2]).shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="32 x 32"):
        model.encode(torch.zeros(1, 1, 28, 28))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    hist = []
    for epoch in range(3):
        for i in range(0, 256, 32):
            xb = x[i:i + 32]
            out = losses.vae_loss(*model(xb)[:1], (xb + 1) / 2, *model.encode(xb))
            opt.zero_grad()
            out["loss"].backward()
            opt.step()
            hist.append(out["loss"].item())
    assert sum(hist[-4:]) / 4 < 0.8 * sum(hist[:4]) / 4
    # the experiment's step on the stored network's size: the negative ELBO falls as well
    cfg = vae_experiment.Config.make("fast", lr=2e-3)
    run = vae_experiment.build(cfg, "vae_fashion_z16", seed=0)
    steps = [vae_experiment.train_step(run, x[i:i + 32]) for _ in range(2) for i in range(0, 256, 32)]
    assert all(s["loss"] == pytest.approx(s["recon"] + s["kl"], rel=1e-5) for s in steps)
    assert sum(s["loss"] for s in steps[-4:]) < 0.8 * sum(s["loss"] for s in steps[:4])
    with pytest.raises(ValueError, match="member"):
        vae_experiment.build(cfg, "vae_fashion_z3")


# --- training is fixed by the seed; the notebooks' steps are the library's ------------------------

def _same_state(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("module, member", [(dcgan_experiment, "dcgan_fashion"), (vae_experiment, "vae_fashion_z2")])
def test_a_seed_fixes_the_training_exactly(module, member):
    """Build, then the first steps of the real training, twice with one seed (as ``common.train`` does):
    the same losses and the same weights; another seed differs."""
    cfg = module.Config.make("fast", n_train=512)

    def first_steps(seed, steps=3):
        seed_everything(seed)
        run = module.build(cfg, member, seed)
        history = common.fit(module, run, steps=steps, progress=False)
        return run, {k: v for k, v in history.items() if not k.startswith("_")}

    (a, ha), (b, hb), (c, hc) = first_steps(1), first_steps(1), first_steps(2)
    role = next(iter(a.stored))
    assert ha == hb and _same_state(a.models[role], b.models[role])
    assert ha != hc and not _same_state(a.models[role], c.models[role])


def test_notebook_04_dcgan_step_is_the_library_step():
    ns = cell_namespace("04_gans_dcgan.ipynb", defines="dcgan_train_step",
                        preamble="import torch\nfrom course_lib import losses")
    cfg = dcgan_experiment.Config.make("fast")
    runs = [dcgan_experiment.build(cfg, "dcgan_fashion", seed=3) for _ in range(2)]
    g = torch.Generator().manual_seed(0)
    for _ in range(3):  # three steps, so that the optimisers' moments matter too
        batch = (torch.rand(8, 1, 32, 32, generator=g) * 2 - 1, torch.randn(8, dcgan.NZ, generator=g))
        logs_nb, logs_lib = ns["dcgan_train_step"](runs[0], batch), dcgan_experiment.train_step(runs[1], batch)
        assert logs_nb == logs_lib
    assert _same_state(runs[0].gan, runs[1].gan)
    assert not _same_state(runs[0].gan, dcgan_experiment.build(cfg, "dcgan_fashion", seed=3).gan)  # they trained


def test_notebook_05_vae_forward_and_elbo_step_are_the_library_ones():
    ns = cell_namespace("05_vae.ipynb", defines="vae_forward", preamble="import torch\nfrom course_lib import losses")
    ns = cell_namespace("05_vae.ipynb", defines="vae_train_step", namespace=ns)  # it calls the notebook's forward
    cfg = vae_experiment.Config.make("fast")
    runs = []
    for _ in range(2):  # as common.train: seed, then build
        seed_everything(3)
        runs.append(vae_experiment.build(cfg, "vae_fashion_z16", seed=3))
    assert _same_state(runs[0].vae, runs[1].vae)
    x = torch.rand(8, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    out_nb = ns["vae_forward"](runs[0].vae, x, torch.Generator().manual_seed(5))
    out_lib = runs[1].vae(x, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(out_nb, out_lib))
    for step in range(3):  # eps of the step come from the global generator
        torch.manual_seed(step)
        logs_nb = ns["vae_train_step"](runs[0], x)
        torch.manual_seed(step)
        assert logs_nb == vae_experiment.train_step(runs[1], x)
    assert _same_state(runs[0].vae, runs[1].vae)


def test_toy_gan_generator_moves_to_the_data():
    r = toy_gan.train_toy_gan(steps=150, snapshot_steps=(0, 150))
    assert len(r["snapshots"]) == 2 and r["snapshots"][1]["d_prob"].shape == r["grid"].shape
    assert abs(r["g_mean"][0] - 3.0) > 2 and abs(r["g_mean"][-1] - 3.0) < 1.0
    with pytest.raises(ValueError, match="g_loss"):
        toy_gan.train_toy_gan(steps=1, g_loss="wasserstein")


# --- latent tools -----------------------------------------------------------------------------------

def test_lerp_and_slerp():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(latent.slerp(z0, z1, 0.5), torch.tensor([1.0, 1.0]) / math.sqrt(2), atol=1e-6)
    assert torch.allclose(latent.lerp(z0, z1, 0.5), torch.tensor([0.5, 0.5]))
    ts = torch.linspace(0, 1, 5)
    path = latent.slerp(3 * z0, 3 * z1, ts)
    assert path.shape == (5, 2) and torch.allclose(path.norm(dim=-1), torch.full((5,), 3.0), atol=1e-5)
    assert torch.allclose(path[0], 3 * z0) and torch.allclose(path[-1], 3 * z1, atol=1e-6)
    # batches of pairs, and parallel vectors fall back to lerp without NaN
    torch.manual_seed(0)
    a, b = torch.randn(4, 64), torch.randn(4, 64)
    mid = latent.slerp(a, b, 0.5)
    assert mid.shape == (4, 64)
    assert (mid.norm(dim=1) > latent.lerp(a, b, 0.5).norm(dim=1)).all()
    assert torch.allclose(latent.slerp(a, 2 * a, 0.5), 1.5 * a, atol=1e-5)
    with pytest.raises(ValueError):
        latent.slerp(a, b[:, :3], 0.5)


def test_attribute_vector_recovers_a_planted_direction():
    # a fake "generator + recognizer": class 1 when the first latent coordinate is > 0.5, class 0 when < -0.5
    class Judge(nn.Module):
        def forward(self, images):
            v = images[:, 0, 0, 0]
            return torch.stack([-10 * (v + 0.5), torch.zeros_like(v), 10 * (v - 0.5)], 1)[:, [0, 2, 1]]

    generate = lambda z: z[:, :1, None, None]  # noqa: E731
    out = latent.attribute_vector(generate, Judge(), from_class=0, to_class=1, z_dim=8, n=2000)
    v = out["vector"]
    assert v[0] > 1.5 and v[1:].abs().max() < 0.3
    with pytest.raises(ValueError, match="raise n"):
        latent.attribute_vector(generate, Judge(), 0, 1, z_dim=8, n=8)


# --- sharpness ---------------------------------------------------------------------------------------

def test_sharpness_drops_with_blur():
    x = -torch.ones(1, 1, 16, 16)
    x[..., 4:12, 4:12] = 1.0
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    assert metrics.sharpness(x).item() > metrics.sharpness(blurred).item() > 0
    assert metrics.sharpness(-torch.ones(2, 1, 8, 8)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        metrics.sharpness(torch.zeros(8, 8))


# --- shipped weights and the score table -----------------------------------------------------------

def test_shipped_generative_weights_load_and_record_their_command(monkeypatch):
    from course_lib.checkpoints import WEIGHTS_DIR

    def no_training(*args, **kwargs):
        raise AssertionError("the stored weights should load, not train")

    monkeypatch.setattr(common, "train", no_training)
    monkeypatch.delenv("COURSE_RETRAIN", raising=False)
    # the committed files keep the commands of the old per-model scripts, which trained exactly as
    # `python -m course_lib train dcgan` / `... train vae` do (same steps, batches and seeding)
    gan = common.load(dcgan_experiment, dcgan_experiment.Config.make("fast"))["dcgan_fashion"]
    assert gan.meta["command"] == "python -m course_lib.models.dcgan --steps 1200 --seed 0"
    assert gan.meta["trained"] is False and gan.meta["steps"] == dcgan_experiment.Config.make("fast").steps
    assert gan.meta["snapshots"].dtype == torch.uint8 and len(gan.meta["snapshot_steps"]) == len(gan.meta["snapshots"])
    runs = common.load(vae_experiment, vae_experiment.Config.make("fast"))
    cfg = vae_experiment.Config.make("fast")
    for member, z_dim in (("vae_fashion_z16", 16), ("vae_fashion_z2", 2)):
        model = runs[member].vae
        assert runs[member].meta["command"] == f"python -m course_lib.models.vae --z-dim {z_dim} " \
                                               f"--steps {getattr(cfg, f'steps_z{z_dim}')} --seed 0"
        assert model.z_dim == z_dim and runs[member].meta["steps"] == getattr(cfg, f"steps_z{z_dim}")
    for name in ("dcgan_fashion.pt", "vae_fashion_z16.pt", "vae_fashion_z2.pt"):
        assert (WEIGHTS_DIR / name).stat().st_size < 3e6, f"{name} is too large for the repository"
    readme = (WEIGHTS_DIR / "README.md").read_text()
    for command in ("python -m course_lib train dcgan --seed 0", "python -m course_lib train vae --seed 0"):
        assert command in readme, f"{command} is not in course_lib/weights/README.md"
    # the held-out negative ELBO of the stored VAEs is the one their files recorded when they were made
    # (float32 then, float16 weights now: within 0.5 nats)
    for row in vae_experiment.evaluate(cfg, runs):
        meta = runs[row["member"]].meta
        assert row["recon_nats"] == pytest.approx(meta["test_recon"], abs=0.5), row
        assert row["kl_nats"] == pytest.approx(meta["test_kl"], abs=0.5), row


def test_generative_scores_rank_real_images_first(monkeypatch):
    from course_lib.experiments import generative_scores as gs

    def no_training(*args, **kwargs):
        raise AssertionError("generative_scores must score the stored weights, not train")

    monkeypatch.setattr(common, "train", no_training)
    monkeypatch.delenv("COURSE_RETRAIN", raising=False)
    assert gs.MEMBERS == () and {"DCGAN", "VAE (z = 16)"} <= set(gs.GENERATORS)
    cfg = gs.Config.make("fast", n=300, models=("DCGAN", "VAE (z = 16)"))  # DDPM: test_diffusion samples a few
    rows, extras = gs.evaluate(cfg, {}, progress=False)
    rows = {r["model"]: r for r in rows}
    assert list(rows) == [gs.REAL, "DCGAN", "VAE (z = 16)"] and all(r["n"] == 300 for r in rows.values())
    real = rows[gs.REAL]
    for name in ("DCGAN", "VAE (z = 16)"):
        assert rows[name]["frd"] > 2 * real["frd"], name
        assert 0.1 <= rows[name]["confidence"] <= 1 and 0 <= rows[name]["coverage_entropy"] <= math.log(10) + 1e-9
    assert extras["markdown"].count("\n") == len(rows) + 1 and extras["recognizer_accuracy"] > 0.88
    # the DCGAN experiment's own table is the same row
    dcgan_rows = dcgan_experiment.evaluate(dcgan_experiment.Config.make("fast", n_score=300),
                                           common.load(dcgan_experiment, dcgan_experiment.Config.make("fast")),
                                           progress=False)
    assert [r["model"] for r in dcgan_rows] == [gs.REAL, "DCGAN"]
    assert {k: v for k, v in dcgan_rows[1].items() if k not in ("sample_seconds", "note")} == \
        {k: v for k, v in rows["DCGAN"].items() if k not in ("sample_seconds", "note")}
    with pytest.raises(ValueError, match="unknown generator"):
        gs.evaluate(gs.Config.make("fast", n=50, models=("GAN",)), {}, progress=False)
    with pytest.raises(ValueError):
        gs.held_out_split(6000)
    assert gs.MEMBERS == () and not hasattr(gs, "build") and not hasattr(gs, "train_step")  # it trains nothing
