"""Notebook 10, part 3: denoising with a residual CNN (DnCNN-style) against non-local means and total variation.

After K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
CNN for Image Denoising", IEEE TIP 2017. Grey images (:func:`course_lib.data.restoration.photo_grey`) with
additive white Gaussian noise of standard deviation 15, 25 and 50 on the 0-255 scale. One **blind** model
(the member ``"dncnn"``; the paper's DnCNN-B idea: one net for a range of noise levels) is trained with a
noise level drawn uniformly from ``cfg.train_sigma`` for every patch
(:func:`course_lib.data.restoration.noisy_batches`), then scored at each level on the held-out photos.

Classical baselines (:mod:`course_lib.models.classical`), told the true noise level:

* non-local means (Buades, Coll & Morel, CVPR 2005) with scikit-image's example settings;
* total variation (Rudin, Osher & Fatemi 1992; Chambolle's algorithm), with its weight chosen per noise level
  on a *training* photo (:func:`~course_lib.models.classical.tv_weight`), never on the held-out ones.

The table is PSNR (dB, ``data_range = 1``, whole image) of the clipped outputs. The fast profile loads
``course_lib/weights/dncnn.pt``; ``python -m course_lib train denoising`` trains it again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.restoration import SIGMAS, grey_patches, held_out_crops, noisy_batches
from ..device import get_device
from ..metrics import psnr
from ..models.classical import nl_means, total_variation, tv_weight
from ..models.dncnn import DnCNN
from . import common
from .common import fast_full

MEMBERS = ("dncnn",)
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)

TABLE_COLUMNS = ("sigma", "noisy_psnr", "tv_psnr", "nl_means_psnr", "dncnn_psnr")


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Sizes of the denoising experiment (``Config.make(profile, **overrides)``).

    Attributes:
        sigmas: noise levels scored (0-255 scale).
        train_sigma: ``(low, high)`` range of the training noise levels.
        depth, features: DnCNN size.
        n_patches, patch_size: clean grey training patches; at most ``steps * batch_size`` are cut (at least 64).
        steps, batch_size, lr: Adam steps, patches per step, initial learning rate (cosine decay).
        eval_crop: side of the centred window of each held-out photo that is scored (None: whole photo).
    """

    sigmas: tuple[int, ...] = SIGMAS
    train_sigma: tuple[float, float] = (10.0, 55.0)
    depth: int = fast_full(8, 20)
    features: int = fast_full(32, 64)
    n_patches: int = fast_full(6000, 200_000)
    patch_size: int = fast_full(32, 50)
    steps: int = fast_full(500, 100_000)
    batch_size: int = fast_full(16, 128)
    lr: float = 2e-3
    eval_crop: int | None = fast_full(192, None)


def build(cfg: Config, member: str, seed: int = 0) -> common.Run:
    """A fresh DnCNN (seeded with ``seed``), Adam with a cosine decay, and lazy blind-denoising batches
    ``(noisy, noise)`` (:func:`noisy_batches`).

    Returns:
        A :class:`~course_lib.experiments.common.Run` with ``run.net`` (stored as ``dncnn``), ``run.opt``,
        ``run.sched`` and ``run.device``.

    Raises:
        ValueError: an unknown member.
    """
    if member not in MEMBERS:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    device = get_device()
    torch.manual_seed(seed)
    net = DnCNN(depth=cfg.depth, features=cfg.features).to(device)
    opt, sched = common.adam(net.parameters(), cfg.lr, schedule="cosine", steps=cfg.steps)

    def batches():
        clean = grey_patches(min(cfg.n_patches, max(64, cfg.steps * cfg.batch_size)), cfg.patch_size, seed=seed)
        return noisy_batches(clean, cfg.batch_size, cfg.train_sigma, seed=seed)

    return common.Run(models={"net": net}, stored={"net": "dncnn"}, steps=cfg.steps, batches=batches,
                      state={"opt": opt, "sched": sched, "device": device})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One Adam step of residual learning: L2 between the predicted and the true noise (Zhang et al. 2017,
    Eq. 1, ``|| R(y) - (y - x) ||^2``; our mean instead of their halved sum over the batch).

    Args:
        batch: ``(noisy, noise)``, ``float32 N x 1 x H x W``.

    Returns:
        ``{"loss": L2 of this batch before the update}``.
    """
    noisy, noise = (t.to(run.device) for t in batch)
    loss = torch.mean((run.net.noise(noisy) - noise) ** 2)
    run.opt.zero_grad(set_to_none=True)
    run.precision.backward_step(loss, run.opt)  # loss.backward(); run.opt.step() (fp16: loss scaling)
    run.sched.step()
    return {"loss": loss.item()}


@torch.no_grad()
def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score noisy input, TV, NL-means and the CNN at each noise level on the held-out grey photos.

    The noise of photo ``i`` at level ``sigma`` is drawn by ``numpy.random.default_rng(1000 seed + 10 sigma + i)``.

    Returns:
        ``(table, extras)``: one row per sigma (means over the photos, :data:`TABLE_COLUMNS` and the TV weight
        used); ``extras["examples"][sigma] = {"clean", "noisy", "tv", "nl_means", "dncnn"}`` (``H x W`` in
        [0, 1]) for the first held-out photo, and ``extras["train"]`` what the weight file records.
    """
    net = runs["dncnn"].net.eval()
    device = next(net.parameters()).device
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
                    "dncnn": net(torch.from_numpy(noisy)[None, None].to(device)).clamp(0, 1)[0, 0].cpu().numpy()}
            for k, v in outs.items():
                scores[k].append(psnr(v, clean, data_range=1.0))
            if i == 0:
                examples[sigma] = dict(clean=clean, **outs)
        table.append({"sigma": sigma, "noisy_psnr": float(np.mean(scores["noisy"])),
                      "tv_psnr": float(np.mean(scores["tv"])), "nl_means_psnr": float(np.mean(scores["nl_means"])),
                      "dncnn_psnr": float(np.mean(scores["dncnn"])), "tv_weight": weight})
    train = {k: v for k, v in runs["dncnn"].meta.items() if k not in ("loss", "config", "history")}
    return table, {"examples": examples, "train": train}
