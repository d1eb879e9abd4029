"""Notebook 09: a DDPM on Fashion-MNIST, and image-conditioned diffusion against regression.

Three members, all :class:`course_lib.models.diffusion_unet.DiffusionUNet` bodies of the same size
(:data:`ARCH`, about 0.47 M parameters), trained on the Fashion-MNIST *train* split (28 x 28, in [-1, 1],
random horizontal flips) and stored as small float16 files ``course_lib/weights/diffusion_<member>.pt``:

* ``ddpm`` -- unconditional DDPM (Ho et al. 2020): linear beta 1e-4..0.02, T = 1000, the simple loss
  (Eq. 14, Algorithm 1), sampled with DDIM (Song et al. 2021, 50 steps, eta = 0) for the grids and scores;
* ``sr_diffusion`` -- 4x super-resolution 7 x 7 -> 28 x 28 in the manner of SR3 (Saharia et al. 2021): the
  same DDPM with the bicubically upsampled low-resolution image concatenated to ``x_t`` (sampled with DDIM,
  50 steps, eta = 1: see :func:`sample_super_resolution`);
* ``sr_regression`` -- the same body (the upsampled image as input, ``t = 0`` fixed) trained with an L2 loss
  to output the high-resolution image directly.

Training (every member): Adam, lr 1e-3 with 100 warm-up steps and a cosine decay, batches of 32, and an
exponential moving average of the weights (decay 0.995; Ho et al. 2020, Appendix B) -- the average (role
``ema``) is what is stored and sampled.

Regression with L2 predicts the *mean* of all sharp images that fit the low-resolution input, which is
blurry; the diffusion model draws *one* of them. :func:`evaluate` measures both on held-out test images:
PSNR (pixel fidelity: favours the mean), sharpness (mean gradient magnitude, against that of the real
images), consistency (PSNR of the downsampled output against the input) and what the course's recognizer
makes of the outputs (accuracy on the true labels, Fréchet recognizer distance to the real test images).

Commands: ``python -m course_lib train diffusion [--member ddpm]``, ``python -m course_lib reproduce diffusion``.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..diffusion import NoiseSchedule, ddim_sample, diffusion_loss
from ..models.diffusion_unet import DiffusionUNet
from ..device import seed_everything
from . import common

MEMBERS = ("ddpm", "sr_diffusion", "sr_regression")
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)
SCALE = 4
"""Super-resolution factor: 28 x 28 -> 7 x 7 (average pooling) and back."""
ARCH = dict(base_channels=16, channel_mults=(1, 2, 4), time_dim=96)
"""The body of all three members."""


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Training (the same in both profiles) and evaluation.

    Attributes:
        steps_ddpm, steps_sr_diffusion, steps_sr_regression: Adam steps of each member.
        batch_size, lr, warmup: images per step, peak learning rate, linear warm-up steps (at most a tenth
            of the steps); ema_decay: of the stored weight average.
        n_train: use only the first ``n_train`` training images (None: all 60,000).
        n_test: held-out images super-resolved by :func:`evaluate`; n_score: DDPM samples scored in notebook 09.
        ddim_steps: DDIM steps of every sampler; sr_eta: DDIM's stochasticity for super-resolution.
    """

    steps_ddpm: int = 1200
    steps_sr_diffusion: int = 700
    steps_sr_regression: int = 300
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 100
    ema_decay: float = 0.995
    n_train: int | None = None
    n_test: int = common.fast_full(64, 2000)
    n_score: int = common.fast_full(64, 2000)
    ddim_steps: int = common.fast_full(50, 100)
    sr_eta: float = 1.0


def downsample(x: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Low-resolution version by average pooling: ``N x C x H x W`` -> ``N x C x H/scale x W/scale``."""
    return F.avg_pool2d(x, scale)


def upsample(low: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Bicubic upsampling back to full size, clamped to [-1, 1] (the conditioning image of SR3, Sec. 2.3)."""
    return F.interpolate(low, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


def degrade(x: torch.Tensor) -> torch.Tensor:
    """The conditioning image of the super-resolution task: ``upsample(downsample(x))``, ``x``'s shape."""
    return upsample(downsample(x))


def build(cfg: Config, member: str = "ddpm", seed: int = 0) -> common.Run:
    """A fresh body (``models``: ``net`` trained, ``ema`` its average, the stored one), Adam with warm-up and
    cosine decay, the noise schedule, and batches of training images ``N x 1 x 28 x 28`` in [-1, 1] (a
    fresh permutation per epoch, each batch flipped left-right with probability 1/2; one generator seeded
    with ``seed``).

    Raises:
        ValueError: an unknown member.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    if member not in MEMBERS:
        raise ValueError(f"unknown diffusion member {member!r}; members: {MEMBERS}")
    net = DiffusionUNet(in_channels=1, cond_channels=1 if member == "sr_diffusion" else 0, **ARCH)
    torch.manual_seed(seed)  # t and eps of the loss come from the global generator, as in the stored training
    g = torch.Generator().manual_seed(seed)
    steps = getattr(cfg, f"steps_{member}")
    ema = copy.deepcopy(net).requires_grad_(False)
    opt, _ = common.adam(net.parameters(), cfg.lr)
    warmup = min(cfg.warmup, max(1, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up times cosine decay, stepped once per step
        opt, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))

    def batches():
        from ..data.fashion_mnist import fashion_mnist_tensors

        x, _ = fashion_mnist_tensors("train", cfg.n_train, value_range="-1,1")
        for (x0,) in common.random_batches(x, batch_size=cfg.batch_size, generator=g):
            yield x0.flip(-1) if torch.rand((), generator=g) < 0.5 else x0  # garments are left-right symmetric enough

    return common.Run(models={"net": net, "ema": ema}, stored={"ema": f"diffusion_{member}"}, steps=steps,
                      batches=batches, state={"member": member, "opt": opt, "sched": sched,
                                              "schedule": NoiseSchedule(), "ema_decay": cfg.ema_decay})


def train_step(run: common.Run, x0: torch.Tensor) -> dict[str, float]:
    """One step: the DDPM loss (:func:`course_lib.diffusion.diffusion_loss`: draw ``t`` and ``eps``,
    ``x_t = q_sample(x0, t, eps)``, MSE between ``eps`` and the network's prediction; conditioned on
    :func:`degrade` ``(x0)`` for ``sr_diffusion``), or for ``sr_regression`` the MSE between
    ``net(degrade(x0), t = 0)`` and ``x0``; backward, Adam, the schedule, then the weight average
    ``ema <- ema + (1 - decay) (net - ema)``.

    Args:
        x0: clean images ``N x 1 x 28 x 28`` in [-1, 1].

    Returns:
        ``{"loss": float}``.
    """
    if run.member == "sr_regression":
        loss = F.mse_loss(run.net(degrade(x0), torch.zeros(len(x0), dtype=torch.long, device=x0.device)), x0)
    else:
        loss = diffusion_loss(run.net, x0, run.schedule, cond=degrade(x0) if run.member == "sr_diffusion" else None)
    run.opt.zero_grad(set_to_none=True)
    run.precision.backward_step(loss, run.opt)  # loss.backward(); run.opt.step() (fp16: loss scaling)
    run.sched.step()
    with torch.no_grad():
        for p_ema, p in zip(run.ema.parameters(), run.net.parameters()):
            p_ema.lerp_(p, 1 - run.ema_decay)
    return {"loss": loss.item()}


# --- sampling and evaluation ---------------------------------------------------------------------

@torch.no_grad()
def sample_super_resolution(member: str, net, low_up: torch.Tensor, steps: int = 50, seed: int = 0,
                            batch_size: int = 100, eta: float = 1.0) -> torch.Tensor:
    """High-resolution outputs ``N x 1 x 28 x 28`` in [-1, 1] for conditioning images ``low_up`` (``N x 1 x 28 x
    28``, :func:`degrade`): one DDIM sample (``steps`` steps, stochasticity ``eta``, noise drawn with ``seed``)
    per image for ``sr_diffusion``; ``net(low_up, t = 0)`` clamped to [-1, 1] for ``sr_regression``.

    ``eta = 1`` (fresh noise at every step, close to the ancestral sampler on the subsequence) is the
    default: with this small, briefly trained model the deterministic ``eta = 0`` left speckles of noise in
    the outputs (measured on 16 test images: PSNR 10.7 dB, sharpness 0.26 for ``eta = 0``; 15.0 dB, 0.16 for
    ``eta = 1``; real images 0.18)."""
    outs = []
    g = torch.Generator(device=low_up.device).manual_seed(seed)
    schedule = NoiseSchedule()
    for i in range(0, len(low_up), batch_size):
        c = low_up[i:i + batch_size]
        if member == "sr_regression":
            outs.append(net(c, torch.zeros(len(c), dtype=torch.long, device=c.device)).clamp(-1, 1))
        else:
            outs.append(ddim_sample(net, tuple(c.shape), schedule, steps=steps, eta=eta, cond=c, generator=g))
    return torch.cat(outs)


@torch.no_grad()
def sample_ddpm(net, n: int, steps: int = 50, seed: int = 0, batch_size: int = 100) -> torch.Tensor:
    """``n`` unconditional DDIM samples (``steps`` steps, eta 0, noise drawn with ``seed``), ``n x 1 x 28 x 28``
    in [-1, 1]."""
    g = torch.Generator(device=next(net.parameters()).device).manual_seed(seed)
    schedule = NoiseSchedule()
    return torch.cat([ddim_sample(net, (min(batch_size, n - i), 1, 28, 28), schedule, steps=steps, generator=g)
                      for i in range(0, n, batch_size)])


def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """4x super-resolution of the first ``cfg.n_test`` Fashion-MNIST test images: bicubic, regression,
    diffusion, and the real images as the ceiling.

    Returns:
        ``(rows, {"images": {method: N x 1 x 28 x 28}})``; each row has ``method``, ``psnr_db`` (mean over
        the images of :func:`course_lib.metrics.psnr` with ``data_range=2``), ``consistency_db`` (the same
        for the outputs and the targets downsampled again), ``sharpness`` (mean of
        :func:`course_lib.metrics.sharpness`), ``recognizer_accuracy`` (on the true labels),
        ``frechet_recognizer_distance`` (to the same real test images; not FID) and ``seconds``.
    """
    from ..data.fashion_mnist import fashion_mnist_tensors
    from ..metrics import frechet_recognizer_distance, psnr, sharpness
    from ..models.recognizer import accuracy, load_recognizer

    def mean_psnr(out, ref):
        return sum(psnr(o, r, data_range=2.0) for o, r in zip(out, ref)) / len(out)

    x, y = fashion_mnist_tensors("test", cfg.n_test, value_range="-1,1")
    low_up = degrade(x)
    recognizer = load_recognizer(progress=progress)
    outputs = {"bicubic": (low_up, 0.0)}
    for member in ("sr_regression", "sr_diffusion"):
        start = time.perf_counter()
        out = sample_super_resolution(member, runs[member].ema, low_up, steps=cfg.ddim_steps, seed=seed,
                                      eta=cfg.sr_eta)
        outputs[member] = (out, time.perf_counter() - start)
    outputs["real (ceiling)"] = (x, 0.0)
    rows = []
    for method, (out, seconds) in outputs.items():
        real = method == "real (ceiling)"
        rows.append({
            "method": method,
            "psnr_db": float("inf") if real else round(mean_psnr(out, x), 2),
            "consistency_db": float("inf") if real else round(mean_psnr(downsample(out), downsample(x)), 2),
            "sharpness": round(float(sharpness(out).mean()), 4),
            "recognizer_accuracy": round(accuracy(recognizer, out, y), 3),
            "frechet_recognizer_distance": round(frechet_recognizer_distance(out, x, recognizer), 2),
            "seconds": round(seconds, 1),
        })
    return rows, {"images": {k: v[0] for k, v in outputs.items()}}
