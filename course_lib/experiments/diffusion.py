"""Notebook 09: a DDPM on Fashion-MNIST, and image-conditioned diffusion against regression.

Three models, all :class:`course_lib.models.diffusion_unet.DiffusionUNet` bodies of the same size,
trained by this module on the Fashion-MNIST *train* split (28 x 28, values in [-1, 1]) and stored as
small float16 files (train-or-load, :mod:`course_lib.checkpoints`; commands in
``course_lib/weights/README.md``):

* ``ddpm`` -- unconditional DDPM (Ho et al. 2020): linear beta 1e-4..0.02, T = 1000, the simple loss,
  sampled with DDIM (Song et al. 2021, 50 steps, eta = 0) for the grids and scores of the fast profile;
* ``sr_diffusion`` -- 4x super-resolution (sampled with DDIM, 50 steps, eta = 1: see :func:`super_resolve`) 7 x 7 -> 28 x 28 in the manner of SR3 (Saharia et al. 2021):
  the same DDPM, with the bicubically upsampled low-resolution image concatenated to ``x_t``;
* ``sr_regression`` -- the same body (the low-resolution image as input, ``t = 0`` fixed), trained with
  an L2 loss to output the high-resolution image directly.

Regression with L2 predicts the *mean* of all sharp images that fit the low-resolution input, which is
blurry; the diffusion model draws *one* of them. :func:`run` measures both on held-out test images:
PSNR (pixel fidelity: favours the mean), sharpness (mean gradient magnitude, against that of the real
images), consistency (PSNR of the downsampled output against the input) and what the course's
recognizer makes of the outputs (accuracy on the true labels, Fréchet recognizer distance to the real
test images).

Command line (the commands stored in the weight files)::

    python -m course_lib.experiments.diffusion train ddpm --steps 1200 --seed 0
    python -m course_lib.experiments.diffusion train sr_diffusion --steps 700 --seed 0
    python -m course_lib.experiments.diffusion train sr_regression --steps 300 --seed 0
    python -m course_lib reproduce diffusion          # the comparison table
"""
from __future__ import annotations

import argparse
import copy
import math
import time

import torch
import torch.nn.functional as F

from ..checkpoints import WEIGHTS_DIR, train_or_load
from ..diffusion import NoiseSchedule, ddim_sample, diffusion_loss
from ..models.diffusion_unet import DiffusionUNet
from ..profile import Profile, get_profile

SCALE = 4
"""Super-resolution factor: 28 x 28 -> 7 x 7 (average pooling) and back."""

MODEL_NAMES = ("ddpm", "sr_diffusion", "sr_regression")
ARCH = dict(base_channels=16, channel_mults=(1, 2, 4), time_dim=96)
"""The body of all three models (about 0.47 M parameters)."""

DEFAULT_STEPS = {"ddpm": 1200, "sr_diffusion": 700, "sr_regression": 300}
BATCH_SIZE = 32
LR = 1e-3
EMA_DECAY = 0.995


def weight_path(name: str):
    return WEIGHTS_DIR / f"diffusion_{name}.pt"


def train_command(name: str, steps: int | None = None, seed: int = 0) -> str:
    return f"python -m course_lib.experiments.diffusion train {name} --steps {steps or DEFAULT_STEPS[name]} --seed {seed}"


def build_model(name: str) -> DiffusionUNet:
    """A fresh network for ``name`` (one of :data:`MODEL_NAMES`)."""
    if name == "ddpm":
        return DiffusionUNet(in_channels=1, cond_channels=0, **ARCH)
    if name == "sr_diffusion":
        return DiffusionUNet(in_channels=1, cond_channels=1, **ARCH)
    if name == "sr_regression":
        return DiffusionUNet(in_channels=1, cond_channels=0, **ARCH)
    raise ValueError(f"unknown model {name!r}: use one of {MODEL_NAMES}")


def downsample(x: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Low-resolution version by average pooling: ``N x C x H x W`` -> ``N x C x H/scale x W/scale``."""
    return F.avg_pool2d(x, scale)


def upsample(low: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Bicubic upsampling back to full size, clamped to [-1, 1] (the conditioning image of SR3, Sec. 2.3)."""
    return F.interpolate(low, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


def degrade(x: torch.Tensor) -> torch.Tensor:
    """The conditioning image of the super-resolution task: ``upsample(downsample(x))``, ``x``'s shape."""
    return upsample(downsample(x))


def load_images(split: str = "train", limit: int | None = None):
    """Fashion-MNIST ``N x 1 x 28 x 28`` in [-1, 1] and labels."""
    from ..data.fashion_mnist import fashion_mnist_tensors

    return fashion_mnist_tensors(split, limit, value_range="-1,1")


class RegressionWrapper(torch.nn.Module):
    """Use a :class:`DiffusionUNet` as a plain image-to-image regressor: ``forward(low_up) = body(low_up, t=0)``."""

    def __init__(self, body: DiffusionUNet):
        super().__init__()
        self.body = body

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        return self.body(cond, torch.zeros(len(cond), dtype=torch.long, device=cond.device))


def train_model(name: str, model: DiffusionUNet, steps: int | None = None, seed: int = 0,
                batch_size: int = BATCH_SIZE, lr: float = LR, limit: int | None = None, progress: bool = True,
                device=None) -> dict:
    """Train ``model`` in place for ``steps`` Adam steps (warm-up of 100 steps, cosine decay), keeping an
    exponential moving average of the weights (decay 0.995) that is copied into ``model`` at the end.

    ``ddpm`` and ``sr_diffusion`` minimise :func:`course_lib.diffusion.diffusion_loss`; ``sr_regression``
    the mean squared error of its output against the high-resolution image.

    Returns:
        ``{"steps", "batch_size", "train_seconds", "loss_first", "loss_last", "losses"}`` where ``loss_first``
        / ``loss_last`` are means over the first / last 10% of the steps and ``losses`` the per-step
        losses (dropped by the command line before saving).
    """
    steps = steps or DEFAULT_STEPS[name]
    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x_all, _ = load_images("train", limit)
    schedule = NoiseSchedule()
    model.to(device).train()
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    warmup = min(100, max(1, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / steps)))
    regression = RegressionWrapper(model) if name == "sr_regression" else None
    losses = []
    order = torch.randperm(len(x_all), generator=g)
    pos = 0
    it = range(steps)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"train {name}", mininterval=5.0)
    start = time.perf_counter()
    for i in it:
        if pos + batch_size > len(order):
            order, pos = torch.randperm(len(x_all), generator=g), 0
        x0 = x_all[order[pos:pos + batch_size]].to(device)
        pos += batch_size
        if torch.rand((), generator=g) < 0.5:  # horizontal flips: garments are left-right symmetric enough
            x0 = x0.flip(-1)
        if name == "ddpm":
            loss = diffusion_loss(model, x0, schedule)
        elif name == "sr_diffusion":
            loss = diffusion_loss(model, x0, schedule, cond=degrade(x0))
        else:
            loss = F.mse_loss(regression(degrade(x0)), x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - EMA_DECAY)
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    model.load_state_dict(ema.state_dict())
    model.eval()
    k = max(1, steps // 10)
    return {"steps": steps, "batch_size": batch_size, "train_seconds": round(seconds, 1),
            "loss_first": sum(losses[:k]) / k, "loss_last": sum(losses[-k:]) / k, "losses": losses}


def load_model(name: str, retrain: bool | None = None, progress: bool = True, device=None) -> DiffusionUNet:
    """The trained network ``name`` (train-or-load from ``course_lib/weights/diffusion_<name>.pt``), in eval
    mode with gradients off. ``retrain=True`` or ``COURSE_RETRAIN=1`` trains it from scratch with the
    stored command's settings (about 15 minutes on one CPU thread for the diffusion models) and
    overwrites the file. The stored metadata is in ``model.meta``."""
    model = build_model(name)

    def fit(m):
        meta = train_model(name, m, progress=progress)
        meta.pop("losses")
        return meta

    meta = train_or_load(model, weight_path(name), fit, train_command(name), retrain=retrain)
    model.meta = meta
    return model.to(device or "cpu").eval().requires_grad_(False)


# --- evaluation ---------------------------------------------------------------------------------

def sharpness(x: torch.Tensor) -> float:
    """Mean over images of :func:`course_lib.metrics.sharpness` (mean Sobel gradient magnitude, images in
    [-1, 1] mapped to [0, 1]): blurry images score low."""
    from ..metrics import sharpness as per_image

    return float(per_image(x).mean())


def psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2), averaged over the images."""
    mse = ((x - ref) ** 2).flatten(1).mean(1).clamp(min=1e-10)
    return float((10 * torch.log10(4.0 / mse)).mean())


@torch.no_grad()
def super_resolve(name: str, model, low_up: torch.Tensor, steps: int = 50, seed: int = 0,
                  batch_size: int = 100, eta: float = 1.0) -> torch.Tensor:
    """High-resolution outputs for conditioning images ``low_up`` (``N x 1 x 28 x 28``): one DDIM sample
    (``steps`` steps, stochasticity ``eta``) per image for ``sr_diffusion``, the network output for
    ``sr_regression``.

    ``eta = 1`` (fresh noise at every step, close to the ancestral sampler on the subsequence) is the
    default: with this small, briefly trained model the deterministic ``eta = 0`` left speckles of noise in
    the outputs (measured on 16 test images: PSNR 10.7 dB, sharpness 0.26 for ``eta = 0``; 15.0 dB, 0.16 for
    ``eta = 1``; real images 0.18)."""
    outs = []
    g = torch.Generator(device=low_up.device).manual_seed(seed)
    schedule = NoiseSchedule()
    for i in range(0, len(low_up), batch_size):
        c = low_up[i:i + batch_size]
        if name == "sr_regression":
            outs.append(RegressionWrapper(model)(c).clamp(-1, 1))
        else:
            outs.append(ddim_sample(model, tuple(c.shape), schedule, steps=steps, eta=eta, cond=c, generator=g))
    return torch.cat(outs)


@torch.no_grad()
def sample_ddpm(model, n: int, steps: int = 50, seed: int = 0, batch_size: int = 100) -> torch.Tensor:
    """``n`` unconditional DDIM samples (``steps`` steps, eta 0), ``n x 1 x 28 x 28`` in [-1, 1]."""
    g = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    schedule = NoiseSchedule()
    return torch.cat([ddim_sample(model, (min(batch_size, n - i), 1, 28, 28), schedule, steps=steps, generator=g)
                      for i in range(0, n, batch_size)])


def make_config(profile: Profile | None = None) -> dict:
    """Sizes of :func:`run` and notebook 09: ``n_test`` held-out images for the super-resolution comparison,
    ``n_score`` unconditional samples judged by the recognizer in the notebook, ``ddim_steps`` DDIM steps."""
    p = profile or get_profile()
    return {"n_test": p.pick(fast=64, full=2000), "n_score": p.pick(fast=64, full=2000),
            "ddim_steps": p.pick(fast=50, full=100), "sr_eta": 1.0}


def run(profile=None, seed: int = 0, progress: bool = True) -> dict:
    """4x super-resolution on held-out Fashion-MNIST test images: bicubic, regression, diffusion.

    Returns ``{"table": [...], "images": {...}, "config": {...}}``; each row has ``method``, ``psnr_db``,
    ``consistency_db`` (PSNR of the output downsampled again against the low-resolution input),
    ``sharpness`` (the real images' value is in the last row), ``recognizer_accuracy`` (on the true
    labels), ``frechet_recognizer_distance`` (to the same real test images; not FID) and ``seconds``.
    """
    from ..metrics import frechet_recognizer_distance
    from ..models.recognizer import accuracy, load_recognizer

    p = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(p)
    torch.manual_seed(seed)
    x, y = load_images("test", cfg["n_test"])
    low_up = degrade(x)
    recognizer = load_recognizer(progress=progress)
    outputs = {"bicubic": (low_up, 0.0)}
    for name in ("sr_regression", "sr_diffusion"):
        model = load_model(name, progress=progress)
        start = time.perf_counter()
        out = super_resolve(name, model, low_up, steps=cfg["ddim_steps"], seed=seed, eta=cfg["sr_eta"])
        outputs[name] = (out, time.perf_counter() - start)
    outputs["real (ceiling)"] = (x, 0.0)
    table = []
    for method, (out, seconds) in outputs.items():
        table.append({
            "method": method,
            "psnr_db": round(psnr(out, x), 2) if method != "real (ceiling)" else float("inf"),
            "consistency_db": round(psnr(downsample(out), downsample(x)), 2) if method != "real (ceiling)" else float("inf"),
            "sharpness": round(sharpness(out), 4),
            "recognizer_accuracy": round(accuracy(recognizer, out, y), 3),
            "frechet_recognizer_distance": round(frechet_recognizer_distance(out, x, recognizer), 2),
            "seconds": round(seconds, 1),
        })
    return {"table": table, "images": {k: v[0] for k, v in outputs.items()}, "config": cfg}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the diffusion models of notebook 09 and store their weights.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train")
    tr.add_argument("name", choices=MODEL_NAMES)
    tr.add_argument("--steps", type=int, default=None)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    from ..checkpoints import save_weights

    torch.set_num_threads(1)
    model = build_model(args.name)
    meta = train_model(args.name, model, steps=args.steps, seed=args.seed)
    meta.pop("losses")
    path = save_weights(model, args.out or weight_path(args.name), train_command(args.name, meta["steps"], args.seed),
                        meta)
    print(f"{args.name}: loss {meta['loss_first']:.4f} -> {meta['loss_last']:.4f} in {meta['steps']} steps "
          f"({meta['train_seconds']} s); weights in {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
