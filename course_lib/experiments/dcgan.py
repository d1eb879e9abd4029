"""Notebook 04: DCGAN on 32 x 32 Fashion-MNIST (Radford, Metz & Chintala 2015), trained by alternating updates.

One member, ``dcgan_fashion`` (:class:`course_lib.models.dcgan.DCGAN`: G and D in one weight file,
``course_lib/weights/dcgan_fashion.pt``). The training is Goodfellow et al. 2014, Algorithm 1 with k = 1 and
the non-saturating generator loss (Sec. 3), with DCGAN's settings (Sec. 4): weights from ``N(0, 0.02)``,
Adam with lr 2e-4 and beta1 = 0.5, batches of 64 real images (the training split padded to 32 x 32, in
[-1, 1]) and as many latents ``z ~ N(0, I)``. 1,200 steps (about 1.3 epochs; 5 minutes on one CPU thread).

:func:`evaluate` scores the generator's samples with the course's recognizer: its row of the generative score
table (:mod:`course_lib.experiments.generative_scores`) and the real-image ceiling.

Commands: ``python -m course_lib train dcgan`` (``--seed S``), ``python -m course_lib reproduce dcgan``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..losses import discriminator_loss, generator_loss
from ..models.dcgan import DCGAN
from ..models.init import init_weights
from ..device import seed_everything
from . import common

MEMBERS = ("dcgan_fashion",)


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Training (the same in both profiles) and scoring.

    Attributes:
        steps: alternating updates; batch_size: real images (and latents) per step.
        lr, beta1: Adam's learning rate and first momentum (Radford et al., Sec. 4).
        n_train: use only the first ``n_train`` training images (None: all 60,000).
        n_score: generated images scored by :func:`evaluate` (and as many real ones).
    """

    steps: int = 1200
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    n_train: int | None = None
    n_score: int = common.fast_full(2000, 5000)


def build(cfg: Config, member: str = "dcgan_fashion", seed: int = 0) -> common.Run:
    """A fresh DCGAN (``models``: ``gan`` = the stored pair, ``G``, ``D``), its two Adam optimisers and
    the batches ``(real, z)``: real ``N x 1 x 32 x 32`` in [-1, 1], latents ``N x 64``, both drawn with one
    generator seeded with ``seed`` (a fresh permutation of the training images per epoch).

    Raises:
        ValueError: an unknown member.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    if member not in MEMBERS:
        raise ValueError(f"unknown DCGAN member {member!r}; members: {MEMBERS}")
    gan = DCGAN()
    torch.manual_seed(seed)  # the stored training seeds, then initialises: N(0, 0.02), Radford et al. Sec. 4
    init_weights(gan, "normal", 0.02)
    g = torch.Generator().manual_seed(seed)
    opt_G, _ = common.adam(gan.G.parameters(), cfg.lr, (cfg.beta1, 0.999))
    opt_D, _ = common.adam(gan.D.parameters(), cfg.lr, (cfg.beta1, 0.999))

    def batches():
        from ..data.fashion_mnist import fashion_mnist_tensors

        x, _ = fashion_mnist_tensors("train", cfg.n_train, value_range="-1,1", pad_to=32)
        for (real,) in common.random_batches(x, batch_size=cfg.batch_size, generator=g):
            yield real, torch.randn(cfg.batch_size, gan.nz, generator=g)

    return common.Run(models={"gan": gan, "G": gan.G, "D": gan.D}, stored={"gan": member}, steps=cfg.steps,
                      batches=batches, state={"opt_G": opt_G, "opt_D": opt_D})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One alternating GAN update (Goodfellow et al. 2014, Algorithm 1 with k = 1):

    1. **D step**: ``discriminator_loss(D(real), D(G(z).detach()))``, backward, ``opt_D.step()``;
    2. **G step**: the non-saturating ``generator_loss(D(G(z)))`` through the *updated* D, backward,
       ``opt_G.step()``. D's gradients from this pass are cleared at the next D step.

    Args:
        run: ``run.G``, ``run.D``, ``run.opt_G``, ``run.opt_D`` (any networks: assignment a04 uses MLPs).
        batch: ``(real, z)``: real images ``N x C x H x W`` in [-1, 1] and latents ``N x nz``.

    Returns:
        ``{"loss_D", "loss_G", "D_real", "D_fake"}`` as floats (``D_*``: mean probability D gives).
    """
    real, z = batch
    G, D = run.G, run.D
    fake = G(z)
    run.opt_D.zero_grad(set_to_none=True)
    real_logits = D(real)
    fake_logits = D(fake.detach())
    loss_D = discriminator_loss(real_logits, fake_logits)
    loss_D.backward()
    run.opt_D.step()

    run.opt_G.zero_grad(set_to_none=True)
    loss_G = generator_loss(D(fake))
    loss_G.backward()
    run.opt_G.step()
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
            "D_real": torch.sigmoid(real_logits).mean().item(), "D_fake": torch.sigmoid(fake_logits).mean().item()}


def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """The DCGAN's samples judged by the course's recognizer, beside real held-out images: the rows of
    :func:`course_lib.experiments.generative_scores.score_rows` (``cfg.n_score`` images, latents drawn with
    ``seed``)."""
    from .generative_scores import score_rows

    run = runs["dcgan_fashion"]
    note = f"dcgan_fashion: {run.meta.get('steps', cfg.steps):,} steps of {cfg.batch_size} images"
    return score_rows({"DCGAN": lambda n, s, device: run.gan.to(device).sample(n, seed=s, device=device)},
                      cfg.n_score, seed, notes={"DCGAN": note}, progress=progress)
