"""Diffusion (notebook 09): schedule numbers, forward process, loss, samplers, the U-Net, train-or-load.

The samplers are checked against an *exact* noise predictor: for Gaussian data x0 ~ N(mu, s^2) the
optimal eps-prediction is known in closed form, so the DDPM and DDIM samplers must give back
N(mu, s^2).
"""
from __future__ import annotations

import math

import pytest
import torch

from course_lib.device import seed_everything
from course_lib.diffusion import (NoiseSchedule, ancestral_sample, ddim_sample, ddim_timesteps, diffusion_loss,
                                  extract, p_sample, predict_x0, q_sample)
from course_lib.models.diffusion_unet import DiffusionUNet, timestep_embedding

MU, S = 0.3, 0.2


class GaussianOracle(torch.nn.Module):
    """E[eps | x_t] for data x0 ~ N(MU, S^2) per pixel: sqrt(1-a) (x_t - sqrt(a) MU) / (a S^2 + 1 - a)."""

    def __init__(self, schedule):
        super().__init__()
        self.s = schedule

    def forward(self, x, t, cond=None):
        a = extract(self.s.alphas_cumprod, t, x)
        return (1 - a).sqrt() * (x - a.sqrt() * MU) / (a * S ** 2 + 1 - a)


def test_linear_schedule_of_ho_et_al():
    s = NoiseSchedule()
    assert len(s) == 1000
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(s.alphas_cumprod, torch.cumprod(1 - s.betas, 0))
    assert s.alphas_cumprod[-1].item() == pytest.approx(4.04e-5, rel=0.02)  # almost pure noise at T
    assert s.alphas_cumprod_prev[0].item() == 1.0 and s.posterior_variance[0].item() == 0.0
    assert torch.all(s.posterior_variance[1:] <= s.betas[1:])
    with pytest.raises(ValueError):
        NoiseSchedule(betas=torch.tensor([0.1, 1.0]))


def test_q_sample_closed_form_and_statistics():
    s = NoiseSchedule()
    x0 = torch.full((4000, 1, 2, 2), 0.5)
    t = torch.full((4000,), 499)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    xt = q_sample(x0, t, noise, s)
    a = s.alphas_cumprod[499].item()
    assert torch.allclose(xt, math.sqrt(a) * x0 + math.sqrt(1 - a) * noise, atol=1e-6)
    assert xt.mean().item() == pytest.approx(math.sqrt(a) * 0.5, abs=0.02)
    assert xt.var().item() == pytest.approx(1 - a, rel=0.05)
    # per-image timesteps, 0-based: t = 0 is one step of noise (variance beta_0)
    t2 = torch.tensor([0, 999])
    xt2 = q_sample(torch.ones(2, 1, 1, 1), t2, torch.zeros(2, 1, 1, 1), s)
    assert xt2[0].item() == pytest.approx(math.sqrt(1 - 1e-4)) and xt2[1].item() < 0.01
    assert torch.allclose(predict_x0(xt, t, noise, s), x0, atol=1e-5)
    with pytest.raises(IndexError):
        q_sample(x0[:1], torch.tensor([1000]), noise[:1], s)


def test_loss_is_one_for_zero_predictor_and_zero_for_exact_one():
    s = NoiseSchedule()
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((512, 1, 4, 4), 0.7)
    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731
    assert diffusion_loss(zero, x0, s, generator=g).item() == pytest.approx(1.0, abs=0.05)
    exact = lambda x, t: (x - extract(s.sqrt_alphas_cumprod, t, x) * 0.7) / extract(  # noqa: E731
        s.sqrt_one_minus_alphas_cumprod, t, x)
    assert diffusion_loss(exact, x0, s, generator=g).item() < 1e-6
    # conditional models get the conditioning image
    seen = {}

    def cond_model(x, t, cond):
        seen["cond"] = cond
        return torch.zeros_like(x)

    diffusion_loss(cond_model, x0[:2], s, cond=torch.ones(2, 1, 4, 4))
    assert torch.equal(seen["cond"], torch.ones(2, 1, 4, 4))


def test_p_sample_one_step_by_hand():
    s = NoiseSchedule()
    x = torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(1))
    eps = torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(2))
    model = lambda xt, t: eps  # noqa: E731
    t = 10
    b, a, ab = s.betas[t].item(), s.alphas[t].item(), s.alphas_cumprod[t].item()
    mean = (x - b / math.sqrt(1 - ab) * eps) / math.sqrt(a)
    z = torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(3))
    out = p_sample(model, x, t, s, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(out, mean + math.sqrt(b) * z, atol=1e-6)
    out_post = p_sample(model, x, t, s, generator=torch.Generator().manual_seed(3), variance="posterior")
    assert torch.allclose(out_post, mean + s.posterior_variance[t].sqrt().item() * z, atol=1e-6)
    # the last step adds no noise
    b0, a0, ab0 = s.betas[0].item(), s.alphas[0].item(), s.alphas_cumprod[0].item()
    last = p_sample(model, x, 0, s, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(last, (x - b0 / math.sqrt(1 - ab0) * eps) / math.sqrt(a0), atol=1e-6)


def test_samplers_recover_gaussian_data_with_exact_denoiser():
    s = NoiseSchedule()
    oracle = GaussianOracle(s)
    g = torch.Generator().manual_seed(0)
    x = ancestral_sample(oracle, (3000, 1, 1, 1), s, generator=g, device="cpu")
    assert x.mean().item() == pytest.approx(MU, abs=0.02) and x.std().item() == pytest.approx(S, abs=0.02)
    # DDIM on all 1000 steps follows the exact marginals; with 50 big steps (eta 0 or 1) the mean is kept
    # and the discretisation shrinks the spread a little (measured: std 0.176 / 0.164 instead of 0.2)
    y = ddim_sample(oracle, (3000, 1, 1, 1), s, steps=1000, eta=0.0, generator=g, device="cpu", clip_x0=False)
    assert y.mean().item() == pytest.approx(MU, abs=0.02) and y.std().item() == pytest.approx(S, abs=0.01)
    for eta in (0.0, 1.0):
        y = ddim_sample(oracle, (3000, 1, 1, 1), s, steps=50, eta=eta, generator=g, device="cpu", clip_x0=False)
        assert y.mean().item() == pytest.approx(MU, abs=0.02)
        assert 0.14 < y.std().item() < S + 0.01, eta
    # eta = 0 is deterministic given the starting noise
    a = ddim_sample(oracle, (5, 1, 2, 2), s, steps=10, generator=torch.Generator().manual_seed(4), device="cpu")
    b = ddim_sample(oracle, (5, 1, 2, 2), s, steps=10, generator=torch.Generator().manual_seed(4), device="cpu")
    assert torch.equal(a, b)
    assert ddim_timesteps(1000, 50)[0] == 999 and ddim_timesteps(1000, 50)[-1] == 0
    assert len(ddim_timesteps(1000, 50)) == 50


def test_timestep_embedding_and_unet():
    e = timestep_embedding(torch.tensor([0, 5, 999]), 16)
    assert e.shape == (3, 16)
    assert torch.allclose(e[0, :8], torch.zeros(8)) and torch.allclose(e[0, 8:], torch.ones(8))
    assert not torch.allclose(e[1], e[2])
    torch.manual_seed(0)
    net = DiffusionUNet(base_channels=8, channel_mults=(1, 2, 2), time_dim=16)
    x = torch.randn(2, 1, 28, 28)
    out = net(x, torch.tensor([3, 700]))
    assert out.shape == x.shape and torch.all(out == 0)  # zero-initialised output convolution
    torch.nn.init.normal_(net.out.weight, std=0.1)
    a, b = net(x, torch.tensor([3, 3])), net(x, torch.tensor([700, 700]))
    assert not torch.allclose(a, b)  # the time embedding reaches the output
    assert net(torch.randn(1, 1, 32, 32), torch.tensor(5)).shape == (1, 1, 32, 32)
    cnet = DiffusionUNet(cond_channels=1, base_channels=8, time_dim=16)
    assert cnet(x, torch.tensor([1, 2]), torch.randn(2, 1, 28, 28)).shape == x.shape
    with pytest.raises(ValueError):
        cnet(x, torch.tensor([1, 2]))
    with pytest.raises(ValueError):
        net(x, torch.tensor([1, 2]), torch.randn(2, 1, 28, 28))
    with pytest.raises(ValueError):
        net(torch.randn(1, 1, 30, 30), torch.tensor([1]))


@pytest.mark.parametrize("name", ["ddpm", "sr_diffusion", "sr_regression"])
def test_retraining_a_few_steps_lowers_the_loss(name):
    """The training code of the stored weights, for 20 steps of 8 images: the loss falls (mean of the last
    10% of the steps against the first 10%)."""
    from course_lib.experiments import common
    from course_lib.experiments import diffusion as D

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cfg = D.Config.make("fast", batch_size=8, n_train=256, **{f"steps_{name}": 20})
        seed_everything(0)
        run = D.build(cfg, name, seed=0)
        assert run.steps == 20 and run.stored == {"ema": f"diffusion_{name}"}
        loss = common.fit(D, run, progress=False)["loss"]
    finally:
        torch.set_num_threads(threads)
    assert len(loss) == 20 and sum(loss[-2:]) < 0.8 * sum(loss[:2]), loss


def test_a_seed_fixes_the_training_exactly_and_the_average_is_stored():
    """Two builds with one seed train to the same weights (and weight average); the stored role is the
    average, which moved away from its start but lags the trained network."""
    from course_lib.experiments import common
    from course_lib.experiments import diffusion as D

    cfg = D.Config.make("fast", batch_size=4, n_train=64, steps_sr_diffusion=4)
    runs = []
    for _ in range(2):
        seed_everything(5)
        run = D.build(cfg, "sr_diffusion", seed=5)
        start = [p.clone() for p in run.ema.parameters()]
        runs.append((run, common.fit(D, run, progress=False)["loss"]))
    (a, la), (b, lb) = runs
    assert la == lb
    for pa, pb, pn, p0 in zip(a.ema.parameters(), b.ema.parameters(), a.net.parameters(), start):
        assert torch.equal(pa, pb)
    moved = sum((pa - p0).abs().sum() for pa, p0 in zip(a.ema.parameters(), start))
    lag = sum((pn - pa).abs().sum() for pn, pa in zip(a.net.parameters(), a.ema.parameters()))
    assert moved > 0 and lag > moved


def test_notebook_09_ddpm_step_is_the_library_step():
    """The DDPM training step written out in notebook 09 (t, eps, q_sample, MSE, Adam, EMA) against
    ``experiments.diffusion.train_step``: the same losses, weights and weight averages."""
    from course_lib.experiments import diffusion as D
    from notebook_cells import cell_namespace

    ns = cell_namespace("09_diffusion.ipynb", defines="ddpm_train_step",
                        preamble="import torch\nimport torch.nn.functional as F\nfrom course_lib import diffusion as dif")
    cfg = D.Config.make("fast")
    runs = []
    for _ in range(2):  # as common.train: seed, then build
        seed_everything(3)
        runs.append(D.build(cfg, "ddpm", seed=3))
    start = {k: v.clone() for k, v in runs[0].net.state_dict().items()}
    x0 = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    for step in range(3):  # t and eps come from the global generator
        torch.manual_seed(step)
        logs_nb = ns["ddpm_train_step"](runs[0], x0)
        torch.manual_seed(step)
        assert logs_nb == D.train_step(runs[1], x0)
    for role in ("net", "ema"):
        sa, sb = runs[0].models[role].state_dict(), runs[1].models[role].state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), role
    assert not all(torch.equal(start[k], runs[0].net.state_dict()[k]) for k in start)  # the steps did train
    assert runs[0].sched.get_last_lr() == runs[1].sched.get_last_lr()


@pytest.mark.parametrize("name", ["ddpm", "sr_diffusion", "sr_regression"])
def test_stored_weights_load_and_record_their_command(name, monkeypatch):
    from course_lib.checkpoints import WEIGHTS_DIR
    from course_lib.experiments import common
    from course_lib.experiments import diffusion as D

    path = common.weights_path(f"diffusion_{name}")
    if not path.is_file():
        pytest.skip(f"{path.name} not trained yet")
    assert path.stat().st_size < 3e6
    monkeypatch.delenv("COURSE_RETRAIN", raising=False)
    run = common.load(D, D.Config.make("fast"), members=[name])[name]
    # the committed files keep the command of the old script, which trained exactly as
    # `python -m course_lib train diffusion --member NAME` does
    assert run.meta["trained"] is False
    assert run.meta["command"] == f"python -m course_lib.experiments.diffusion train {name} " \
                                  f"--steps {getattr(D.Config.make('fast'), f'steps_{name}')} --seed 0"
    assert run.meta["loss_last"] < run.meta["loss_first"]
    assert not any(p.requires_grad for p in run.ema.parameters())
    assert f"python -m course_lib train diffusion --member {name} --seed 0" in (WEIGHTS_DIR / "README.md").read_text()


def test_sr_degradation_and_metrics():
    from course_lib.experiments import diffusion as D
    from course_lib.metrics import psnr, sharpness

    x = torch.rand(2, 1, 28, 28) * 2 - 1
    low = D.downsample(x)
    assert low.shape == (2, 1, 7, 7)
    up = D.degrade(x)
    assert up.shape == x.shape and up.min() >= -1 and up.max() <= 1
    assert sharpness(up).mean() < sharpness(x).mean()
    assert psnr(x, x, data_range=2.0) == math.inf
    assert psnr(-x, x, data_range=2.0) < psnr(up, x, data_range=2.0)
    with pytest.raises(ValueError, match="member"):
        D.build(D.Config.make("fast"), "sr_gan")


def test_ddim_estimates_x0_with_predict_x0(monkeypatch):
    """DDIM's estimate of the clean image is :func:`predict_x0` (Ho et al. Eq. 15), called once per step."""
    import course_lib.diffusion as dif

    calls = []

    def counting(*args):
        calls.append(1)
        return predict_x0(*args)

    monkeypatch.setattr(dif, "predict_x0", counting)
    s = NoiseSchedule()
    oracle = GaussianOracle(s)
    a = ddim_sample(oracle, (5, 1, 2, 2), s, steps=10, generator=torch.Generator().manual_seed(4), device="cpu")
    assert len(calls) == 10
    monkeypatch.undo()
    assert torch.equal(a, ddim_sample(oracle, (5, 1, 2, 2), s, steps=10, generator=torch.Generator().manual_seed(4),
                                      device="cpu"))


def test_ddpm_row_of_the_generative_score_table_samples_images():
    from course_lib.experiments import common
    from course_lib.experiments import diffusion as D
    from course_lib.experiments import generative_scores as gs

    name = "DDPM (DDIM 50 steps)"
    experiment, member, sample, _ = gs.GENERATORS[name]
    assert (experiment, member) == ("diffusion", "ddpm")
    if not common.weights_path("diffusion_ddpm").is_file():
        pytest.skip("diffusion_ddpm.pt not trained yet")
    run = common.load(D, D.Config.make("fast"), members=["ddpm"], retrain=False)["ddpm"]
    x = sample(run, 4, 0, torch.device("cpu"))
    assert x.shape == (4, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x, D.sample_ddpm(run.ema, 4, seed=0))  # same seed, same images
