"""Notebook 06: pix2pix's objective ablation in miniature -- L1 only, cGAN only, L1 + cGAN (lambda = 100).

Isola et al. 2017, Sec. 4.3 and Table 1 compare the three objectives on Cityscapes labels -> photo with
the FCN-score. Here (fast profile) the task is the offline edges -> shoes set
(:mod:`course_lib.data.shoes`, 32 x 32, Fashion-MNIST shoes with Canny edges); the U-Net generator
(``unet_32``, ngf 8, dropout) and the conditional PatchGAN scaled to the paper's 70/256 patch-to-image
ratio (10 x 10 at 32 x 32) are trained with Adam 2e-4, beta1 0.5, for each objective; the scores
(:func:`course_lib.translation.evaluate_shoes`) are the shoe-type accuracy judged by the course's
Fashion-MNIST recognizer (in the manner of the FCN-score), the Fréchet recognizer distance to real test
shoes, and pixel L1 / PSNR. The full profile uses the paper's settings on facades (256 x 256, batch 1,
200 epochs) and reports the pixel scores only (no recognizer for facades).

Members: the three objectives; each stores its generator (fast profile, seed 0:
``course_lib/weights/pix2pix_shoes_L1.pt``, ``..._cGAN.pt``, ``..._L1cGAN.pt``). Notebook 07's 10 x 10 row
and notebook 08's paired upper bound load the L1 + cGAN member. ``python -m course_lib train
pix2pix_ablation`` retrains; ``python -m course_lib reproduce pix2pix_ablation --seed 1`` trains-or-loads seed 1
in the user's cache.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..device import get_device, seed_everything
from ..losses import GANLoss, pix2pix_generator_loss
from ..translation import (TranslationConfig, build_discriminator, build_generator, evaluate_pairs, load_pairs,
                           real_shoes_scores, translate)
from . import common

OBJECTIVES = {"L1": (False, True), "cGAN": (True, False), "L1+cGAN": (True, True)}
"""The rows of pix2pix's Table 1: name -> (use_gan, use_l1)."""
MEMBERS = tuple(OBJECTIVES)
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)


@dataclass(frozen=True)
class Config(TranslationConfig):
    """The translation runs' sizes (:class:`course_lib.translation.TranslationConfig`); pix2pix uses
    ``generator``, ``discriminator``, ``ngf``, ``ndf``, ``n_train``, ``n_test``, ``steps``, ``batch_size``,
    ``lr``, ``beta1`` and ``lambda_l1``."""


def build(cfg: TranslationConfig, member: str, seed: int = 0) -> common.Run:
    """A fresh pix2pix run of the objective ``member`` (a key of :data:`OBJECTIVES`).

    Models: ``G`` (:func:`~course_lib.translation.build_generator`, stored as
    ``pix2pix_<dataset>_<member without +>``, e.g. ``pix2pix_shoes_L1cGAN``) and the conditional
    ``cfg.discriminator`` ``D`` on input + output channels (built for every objective, so that every
    objective starts from the same generator). ``D`` is built after reseeding with ``seed``:
    G and D each start from the seed, as the stored generators were trained. State: ``opt_G``, ``opt_D``
    (Adam ``cfg.lr``, betas ``(cfg.beta1, 0.999)``), ``criterion`` (the vanilla GAN loss), ``use_gan``,
    ``use_l1``, ``lambda_l1``. Batches: ``(x, y)`` pairs of ``cfg.batch_size``, in an order fixed by ``seed``.

    Raises:
        ValueError: an unknown objective.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    if member not in OBJECTIVES:
        raise ValueError(f"unknown pix2pix objective {member!r}; known: {list(OBJECTIVES)}")
    channels = {"shoes": (1, 1), "facades": (3, 3)}[cfg.dataset]
    device = get_device()
    G = build_generator(cfg, *channels).to(device)
    seed_everything(seed)
    D = build_discriminator(cfg, sum(channels)).to(device)
    use_gan, use_l1 = OBJECTIVES[member]

    def batches():
        x, y, _ = load_pairs(cfg)
        return common.random_batches(x, y, batch_size=cfg.batch_size, seed=seed)

    opt_G, _ = common.adam(G.parameters(), cfg.lr, (cfg.beta1, 0.999))
    opt_D, _ = common.adam(D.parameters(), cfg.lr, (cfg.beta1, 0.999))
    return common.Run(models={"G": G, "D": D},
                      stored={"G": f"pix2pix_{cfg.dataset}_{member.replace('+', '')}"},
                      steps=cfg.steps, batches=batches,
                      state={"opt_G": opt_G, "opt_D": opt_D, "criterion": GANLoss("vanilla").to(device),
                             "use_gan": use_gan, "use_l1": use_l1, "lambda_l1": cfg.lambda_l1})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One pix2pix iteration on a batch ``(x, y)`` in [-1, 1]; returns the losses as floats.

    D (when the objective has the cGAN term) learns to tell the real pair ``cat[x, y]`` from the fake pair
    ``cat[x, G(x)]``, both conditioned on the input, its loss halved (Isola et al. 2017, Sec. 3.3); then G
    minimises ``L_cGAN + lambda * L1`` (Eq. 4; :func:`~course_lib.losses.pix2pix_generator_loss`).
    """
    device = next(run.G.parameters()).device
    x, y = (t.to(device) for t in batch)
    fake = run.G(x)
    logs = {}
    if run.use_gan:
        d_real = run.D(torch.cat([x, y], 1))
        d_fake = run.D(torch.cat([x, fake.detach()], 1))
        loss_D = 0.5 * (run.criterion(d_real, True) + run.criterion(d_fake, False))
        run.opt_D.zero_grad(set_to_none=True)
        run.precision.backward_step(loss_D, run.opt_D)  # loss_D.backward(); run.opt_D.step()
        logs["D"] = loss_D.item()
    loss_G, parts = pix2pix_generator_loss(run.D, x, fake, y, run.criterion, run.lambda_l1, run.use_gan, run.use_l1)
    run.opt_G.zero_grad(set_to_none=True)
    run.precision.backward_step(loss_G, run.opt_G)  # loss_G.backward(); run.opt_G.step()
    logs.update(parts)
    return logs


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each objective's generator on the held-out pairs.

    Returns:
        ``(rows, {"samples": ...})``: one row per objective (``objective, type_accuracy, frd, l1, psnr,
        train_seconds``) and a ``real shoes`` reference row (shoes only); ``samples``: inputs, targets and
        each objective's outputs for the first 8 test pairs (``8 x C x H x W`` in [-1, 1]).
    """
    test = load_pairs(cfg)[2]
    inputs, targets = (test.edges, test.shoes) if cfg.dataset == "shoes" else test
    rows, samples = [], {}
    for member, run in runs.items():
        rows.append({"objective": member, **evaluate_pairs(run.G, test),
                     "train_seconds": run.meta.get("train_seconds", float("nan"))})
        samples[member] = translate(run.G, inputs[:8])
    if cfg.dataset == "shoes":
        rows.append({"objective": "real shoes", **real_shoes_scores(test), "train_seconds": 0.0})
    samples["input"], samples["target"] = inputs[:8], targets[:8]
    return rows, {"samples": samples}

