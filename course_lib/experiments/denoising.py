"""Notebook 10, part 3: denoising with a residual CNN (DnCNN-style) against non-local means and total variation.

After K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
CNN for Image Denoising", IEEE TIP 2017. Grey images (:func:`course_lib.data.restoration.photo_grey`) with
additive white Gaussian noise of standard deviation 15, 25 and 50 on the 0-255 scale. One **blind** model
(the paper's DnCNN-B idea: one net for a range of noise levels) is trained with a noise level drawn
uniformly from ``cfg.train_sigma`` for every patch, then scored at each level on the held-out photos.

Classical baselines from scikit-image, told the true noise level:

* non-local means (Buades, Coll & Morel, CVPR 2005), ``skimage.restoration.denoise_nl_means`` with
  ``h = 0.8 sigma``, ``sigma = sigma``, 5 x 5 patches searched within 6 pixels, ``fast_mode`` -- the
  settings of scikit-image's own example;
* total variation (Rudin, Osher & Fatemi 1992; Chambolle's algorithm),
  ``skimage.restoration.denoise_tv_chambolle``, with its weight chosen per noise level on a *training* photo
  (:func:`tv_weight`), never on the held-out ones.

The table is PSNR (dB, ``data_range = 1``, whole image) of the clipped outputs. The fast profile loads
``course_lib/weights/dncnn.pt`` (``python -m course_lib.experiments.denoising``); ``COURSE_RETRAIN=1``
trains again.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..checkpoints import train_or_load
from ..data.restoration import SIGMAS, augment, grey_patches, held_out_crops, photo_grey
from ..device import get_device, seed_everything
from ..metrics import psnr
from ..models.dncnn import DnCNN
from ..profile import Profile, get_profile
from ..train import train_loop
from ._restoration import adam_cosine, table_markdown, weight_path

TABLE_COLUMNS = ("sigma", "noisy_psnr", "tv_psnr", "nl_means_psnr", "dncnn_psnr")


@dataclass(frozen=True)
class Config:
    """Sizes of the denoising experiment (build with :func:`make_config`).

    Attributes:
        sigmas: noise levels scored (0-255 scale).
        train_sigma: ``(low, high)`` range of the training noise levels.
        depth, features: DnCNN size.
        n_patches, patch_size: clean grey training patches.
        steps, batch_size, lr: Adam steps, patches per step, initial learning rate (cosine decay).
        eval_crop: side of the centred window of each held-out photo that is scored (None: whole photo).
    """

    sigmas: tuple[int, ...] = SIGMAS
    train_sigma: tuple[float, float] = (10.0, 55.0)
    depth: int = 8
    features: int = 32
    n_patches: int = 6000
    patch_size: int = 32
    steps: int = 500
    batch_size: int = 16
    lr: float = 2e-3
    eval_crop: int | None = 192

    def as_dict(self) -> dict:
        d = asdict(self)
        d["sigmas"], d["train_sigma"] = list(self.sigmas), list(self.train_sigma)
        return d


def make_config(profile: Profile | str | None = None, **overrides) -> Config:
    """The :class:`Config` of a profile (fields can be overridden)."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = dict(sigmas=SIGMAS, train_sigma=(10.0, 55.0), depth=P.pick(fast=8, full=20),
               features=P.pick(fast=32, full=64), n_patches=P.pick(fast=6000, full=200000),
               patch_size=P.pick(fast=32, full=50), steps=P.pick(fast=500, full=100000),
               batch_size=P.pick(fast=16, full=128), lr=2e-3, eval_crop=P.pick(fast=192, full=None))
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown Config fields {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    return Config(**cfg)


def build_model(cfg: Config, seed: int = 0) -> DnCNN:
    torch.manual_seed(seed)
    return DnCNN(depth=cfg.depth, features=cfg.features)


def train_dncnn(model: DnCNN, cfg: Config, *, seed: int = 0, device="cpu", progress: bool = True,
                steps: int | None = None) -> dict[str, list]:
    """Train the blind denoiser: L2 between the predicted and the true noise (Zhang et al. 2017, Eq. 1),
    a fresh noise draw and level per patch at every step. Returns the ``train_loop`` history."""
    steps = steps or cfg.steps
    seed_everything(seed)
    clean = grey_patches(min(cfg.n_patches, max(64, steps * cfg.batch_size)), cfg.patch_size, seed=seed)
    g = torch.Generator().manual_seed(seed)
    lo, hi = cfg.train_sigma
    model.to(device).train()
    opt, sched = adam_cosine(model.parameters(), cfg.lr, steps)

    def batches():
        while True:
            idx = torch.randint(0, len(clean), (cfg.batch_size,), generator=g)
            (x,) = augment(clean[idx], generator=g)
            sigma = lo + (hi - lo) * torch.rand(cfg.batch_size, 1, 1, 1, generator=g)
            noise = torch.randn(x.shape, generator=g) * sigma / 255.0
            yield x + noise, noise

    def step(batch):
        noisy, noise = (t.to(device) for t in batch)
        loss = torch.mean((model.noise(noisy) - noise) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    return train_loop(step, batches(), steps, desc="DnCNN", progress=progress)


def get_dncnn(cfg: Config, profile: Profile | str | None = None, seed: int = 0, retrain: bool | None = None,
              progress: bool = True, device="cpu") -> tuple[DnCNN, dict]:
    """Train-or-load the blind denoiser (``course_lib/weights/dncnn.pt`` in the fast profile)."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    model = build_model(cfg, seed)
    command = f"python -m course_lib.experiments.denoising --seed {seed}" + ("" if P.is_fast else " --profile full")

    def train_fn(m):
        hist = train_dncnn(m, cfg, seed=seed, device=device, progress=progress)
        return {"steps": cfg.steps, "final_loss": float(np.mean(hist["loss"][-100:])),
                "train_seconds": round(hist["_seconds"][0], 1), "config": cfg.as_dict(), "loss": hist["loss"][::10]}

    meta = train_or_load(model, weight_path("dncnn", P), train_fn, command, retrain=retrain)
    return model.to(device).eval(), meta


def tv_weight(sigma: float, photo: str = "camera", crop: int = 160, seed: int = 0) -> float:
    """The TV weight, among ``(0.5, 1, 1.5, 2, 3) * sigma / 255``, that gives the best PSNR on a centred crop
    of a *training* photo at this noise level (so the held-out photos never tune the baseline)."""
    from skimage.restoration import denoise_tv_chambolle

    im = photo_grey(photo)
    y, x = (im.shape[0] - crop) // 2, (im.shape[1] - crop) // 2
    clean = im[y:y + crop, x:x + crop].astype(np.float64)
    noisy = clean + np.random.default_rng(seed).normal(0, sigma / 255, clean.shape)
    grid = [f * sigma / 255 for f in (0.5, 1.0, 1.5, 2.0, 3.0)]
    scores = [psnr(np.clip(denoise_tv_chambolle(noisy, weight=w), 0, 1), clean) for w in grid]
    return float(grid[int(np.argmax(scores))])


def nl_means(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """Non-local means with scikit-image's example settings (see the module docstring), clipped to [0, 1]."""
    from skimage.restoration import denoise_nl_means

    s = sigma / 255
    return np.clip(denoise_nl_means(noisy, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True),
                   0, 1)


def total_variation(noisy: np.ndarray, weight: float) -> np.ndarray:
    """Chambolle's TV denoising (``skimage.restoration.denoise_tv_chambolle``), clipped to [0, 1]."""
    from skimage.restoration import denoise_tv_chambolle

    return np.clip(denoise_tv_chambolle(noisy, weight=weight), 0, 1)


@torch.no_grad()
def evaluate(model: DnCNN, cfg: Config, seed: int = 0, device="cpu") -> tuple[list[dict], dict]:
    """Score noisy input, TV, NL-means and the CNN at each noise level on the held-out grey photos.

    Returns ``(table, examples)``: one row per sigma (means over the photos, :data:`TABLE_COLUMNS`), and
    ``examples[sigma] = {"clean", "noisy", "tv", "nl_means", "dncnn"}`` for the first held-out photo.
    """
    model.to(device).eval()
    photos = held_out_crops("grey", cfg.eval_crop)
    table, examples = [], {}
    for sigma in cfg.sigmas:
        weight = tv_weight(sigma, seed=seed)
        scores = {k: [] for k in ("noisy", "tv", "nl_means", "dncnn")}
        for i, (name, clean) in enumerate(photos.items()):
            rng = np.random.default_rng(1000 * seed + 10 * sigma + i)
            noisy = (clean.astype(np.float64) + rng.normal(0, sigma / 255, clean.shape)).astype(np.float32)
            outs = {"noisy": np.clip(noisy, 0, 1), "tv": total_variation(noisy, weight),
                    "nl_means": nl_means(noisy.astype(np.float64), sigma),
                    "dncnn": model(torch.from_numpy(noisy)[None, None].to(device)).clamp(0, 1)[0, 0].cpu().numpy()}
            for k, v in outs.items():
                scores[k].append(psnr(v, clean))
            if i == 0:
                examples[sigma] = dict(clean=clean, **outs)
        table.append({"sigma": sigma, "noisy_psnr": float(np.mean(scores["noisy"])),
                      "tv_psnr": float(np.mean(scores["tv"])), "nl_means_psnr": float(np.mean(scores["nl_means"])),
                      "dncnn_psnr": float(np.mean(scores["dncnn"])), "tv_weight": weight})
    return table, examples


def show_examples(examples: dict, window: int = 96):
    """Figure: one row per noise level, clean | noisy | TV | NL-means | DnCNN (centre window)."""
    import matplotlib.pyplot as plt

    keys = ("clean", "noisy", "tv", "nl_means", "dncnn")
    fig, axes = plt.subplots(len(examples), len(keys), figsize=(2 * len(keys), 2.1 * len(examples)), squeeze=False,
                             layout="constrained")
    for i, (sigma, ex) in enumerate(examples.items()):
        h, w = ex["clean"].shape
        y, x = (h - window) // 2, (w - window) // 2
        for j, k in enumerate(keys):
            im = ex[k]
            title = k if k in ("clean",) else f"{k} {psnr(im, ex['clean']):.1f} dB"
            axes[i, j].imshow(im[y:y + window, x:x + window], cmap="gray", vmin=0, vmax=1)
            axes[i, j].set_title(f"σ={sigma}: {title}" if j == 0 else title, fontsize=8)
            axes[i, j].set_axis_off()
    return fig


def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None,
        **overrides) -> dict:
    """Train-or-load the denoiser and compare it with TV and NL-means at each noise level.

    Returns ``{"profile", "device", "seed", "config", "table", "train"}`` (valid JSON).
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P, **overrides)
    device = get_device()
    model, meta = get_dncnn(cfg, P, seed=seed, retrain=retrain, progress=progress, device=device)
    table, _ = evaluate(model, cfg, seed, device)
    return {"profile": P.name, "device": str(device), "seed": seed, "config": cfg.as_dict(), "table": table,
            "train": {k: v for k, v in meta.items() if k not in ("loss", "config")}}


def main(argv=None) -> int:
    """``python -m course_lib.experiments.denoising``: (re)train and save the denoiser's weight file."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=("fast", "full"), default="fast")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    P = get_profile(args.profile)
    cfg = make_config(P)
    start = time.perf_counter()
    model, meta = get_dncnn(cfg, P, seed=args.seed, retrain=True, progress=False)
    print(f"trained {meta['steps']} steps in {time.perf_counter() - start:.0f} s")
    print(table_markdown(evaluate(model, cfg, args.seed)[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
