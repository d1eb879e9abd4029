"""Notebook 05: a convolutional VAE on 32 x 32 Fashion-MNIST (Kingma & Welling, ICLR 2014), trained on the ELBO.

Two members, the same network (:class:`course_lib.models.vae.VAE`) with two latent sizes:
``vae_fashion_z16`` (16-d latent: samples, reconstructions; 1,500 steps) and ``vae_fashion_z2`` (2-d latent:
the latent map of notebook 05; 800 steps). Each step: one batch of 64 training images (padded to 32 x 32, in
[-1, 1]), encoder -> reparameterize -> decoder, the negative ELBO (:func:`course_lib.losses.vae_loss`:
Bernoulli reconstruction summed over pixels + the closed-form KL, Kingma & Welling Eq. 10 and Appendix B),
one Adam step (lr 1e-3).

:func:`evaluate` reports the held-out negative ELBO terms of each member: reconstruction and KL in nats per
image on the first 2,000 test images, one sample of ``z`` per image (the usual one-sample estimate).

Commands: ``python -m course_lib train vae [--member vae_fashion_z2]``, ``python -m course_lib reproduce vae``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..losses import vae_loss
from ..models.vae import VAE
from ..device import seed_everything
from . import common

MEMBERS = ("vae_fashion_z16", "vae_fashion_z2")
Z_DIMS = {"vae_fashion_z16": 16, "vae_fashion_z2": 2}
"""Latent size of each member."""


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Training (the same in both profiles) and evaluation.

    Attributes:
        steps_z16, steps_z2: Adam steps of each member; batch_size: images per step; lr: Adam's.
        n_train: use only the first ``n_train`` training images (None: all 60,000).
        n_test: held-out images of :func:`evaluate`.
    """

    steps_z16: int = 1500
    steps_z2: int = 800
    batch_size: int = 64
    lr: float = 1e-3
    n_train: int | None = None
    n_test: int = 2000


def build(cfg: Config, member: str = "vae_fashion_z16", seed: int = 0) -> common.Run:
    """A fresh VAE (``models``: ``vae``), Adam, and batches of training images ``N x 1 x 32 x 32`` in
    [-1, 1] (a fresh permutation per epoch, drawn with a generator seeded with ``seed``).

    Raises:
        ValueError: an unknown member.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    if member not in Z_DIMS:
        raise ValueError(f"unknown VAE member {member!r}; members: {MEMBERS}")
    model = VAE(Z_DIMS[member])
    torch.manual_seed(seed)  # as the stored training: the reparameterization's eps come from the global generator
    g = torch.Generator().manual_seed(seed)
    opt, _ = common.adam(model.parameters(), cfg.lr)

    def batches():
        from ..data.fashion_mnist import fashion_mnist_tensors

        x, _ = fashion_mnist_tensors("train", cfg.n_train, value_range="-1,1", pad_to=32)
        for (real,) in common.random_batches(x, batch_size=cfg.batch_size, generator=g):
            yield real

    return common.Run(models={"vae": model}, stored={"vae": member}, steps=getattr(cfg, f"steps_z{Z_DIMS[member]}"),
                      batches=batches, state={"opt": opt})


def train_step(run: common.Run, x: torch.Tensor) -> dict[str, float]:
    """One step on the negative ELBO: ``recon_logits, mu, logvar = vae(x)`` (encoder, one reparameterized
    ``z`` per image, decoder), :func:`course_lib.losses.vae_loss` against the images mapped to [0, 1]
    (Bernoulli targets), backward, Adam.

    Args:
        x: images ``N x 1 x 32 x 32`` in [-1, 1].

    Returns:
        ``{"loss", "recon", "kl"}``: nats per image (means over the batch), ``loss = recon + kl``.
    """
    logits, mu, logvar = run.vae(x)
    out = vae_loss(logits, (x + 1) / 2, mu, logvar)
    run.opt.zero_grad(set_to_none=True)
    out["loss"].backward()
    run.opt.step()
    return {k: v.item() for k, v in out.items()}


@torch.no_grad()
def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True) -> list[dict]:
    """One row per member: ``member, z_dim, recon_nats, kl_nats, neg_elbo_nats`` on the first ``cfg.n_test``
    test images (one ``z`` per image, drawn with a generator seeded with ``seed``)."""
    from ..data.fashion_mnist import fashion_mnist_tensors

    x_cpu, _ = fashion_mnist_tensors("test", cfg.n_test, value_range="-1,1", pad_to=32)
    rows = []
    for member, run in runs.items():
        device = next(run.vae.parameters()).device
        x = x_cpu.to(device)
        logits, mu, logvar = run.vae.eval()(x, torch.Generator(device).manual_seed(seed))
        out = vae_loss(logits, (x + 1) / 2, mu, logvar)
        rows.append({"member": member, "z_dim": Z_DIMS[member], "recon_nats": out["recon"].item(),
                     "kl_nats": out["kl"].item(), "neg_elbo_nats": out["loss"].item()})
    return rows
