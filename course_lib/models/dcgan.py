"""DCGAN for 32 x 32 Fashion-MNIST (notebook 04; Radford, Metz & Chintala, "Unsupervised Representation
Learning with Deep Convolutional Generative Adversarial Networks", 2015).

The paper's architecture guidelines (Sec. 3), followed here:

* no pooling and **no fully connected layers**: strided convolutions in D, transposed ("fractionally
  strided") convolutions in G; the latent ``z`` enters G as a ``nz x 1 x 1`` map;
* **BatchNorm** in both networks, except G's output layer and D's input layer;
* ReLU in G with ``tanh`` at the output (images in [-1, 1]); **LeakyReLU (slope 0.2) in D**;
* weights initialised from ``N(0, 0.02)``; **Adam, lr 2e-4, beta1 = 0.5** (Sec. 4).

The losses are :func:`course_lib.losses.discriminator_loss` and the non-saturating
:func:`course_lib.losses.generator_loss`; :func:`train_step` is one alternating update.

Weights: ``course_lib/weights/dcgan_fashion.pt`` (float16), made by the command in
:data:`DCGAN_COMMAND` (``python -m course_lib.models.dcgan``); :func:`load_dcgan` trains instead when the
file is missing or ``COURSE_RETRAIN=1``.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from ..checkpoints import WEIGHTS_DIR, save_weights, train_or_load
from ..losses import discriminator_loss, generator_loss

DCGAN_PATH = WEIGHTS_DIR / "dcgan_fashion.pt"
NZ = 64
DCGAN_STEPS = 1200
DCGAN_COMMAND = f"python -m course_lib.models.dcgan --steps {DCGAN_STEPS} --seed 0"


class Generator(nn.Module):
    """DCGAN generator: ``z`` (``N x nz`` or ``N x nz x 1 x 1``) -> images ``N x 1 x 32 x 32`` in [-1, 1].

    Four transposed convolutions 1 -> 4 -> 8 -> 16 -> 32 pixels, with ``8 ngf, 4 ngf, 2 ngf`` channels,
    BatchNorm + ReLU between them, ``tanh`` at the end; no fully connected layer.
    """

    def __init__(self, nz: int = NZ, ngf: int = 32, out_channels: int = 1):
        super().__init__()
        self.nz = nz

        def up(cin, cout, k=4, s=2, p=1):
            return [nn.ConvTranspose2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.net = nn.Sequential(*up(nz, 4 * ngf, 4, 1, 0),            # 1 -> 4
                                 *up(4 * ngf, 2 * ngf),                  # 4 -> 8
                                 *up(2 * ngf, ngf),                      # 8 -> 16
                                 nn.ConvTranspose2d(ngf, out_channels, 4, 2, 1, bias=False),  # 16 -> 32
                                 nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim == 2:
            z = z[:, :, None, None]
        if z.shape[1] != self.nz:
            raise ValueError(f"expected latents with {self.nz} channels, got shape {tuple(z.shape)}")
        return self.net(z)


class Discriminator(nn.Module):
    """DCGAN discriminator: images ``N x 1 x 32 x 32`` in [-1, 1] -> one logit per image, shape ``N``.

    Strided 4 x 4 convolutions 32 -> 16 -> 8 -> 4, LeakyReLU(0.2), BatchNorm except on the first layer,
    then a 4 x 4 convolution to one number (no fully connected layer, no sigmoid: the losses take logits).
    """

    def __init__(self, ndf: int = 32, in_channels: int = 1):
        super().__init__()

        def down(cin, cout, bn=True):
            return [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)] + ([nn.BatchNorm2d(cout)] if bn else []) \
                + [nn.LeakyReLU(0.2, True)]

        self.net = nn.Sequential(*down(in_channels, ndf, bn=False), *down(ndf, 2 * ndf), *down(2 * ndf, 4 * ndf),
                                 nn.Conv2d(4 * ndf, 1, 4, 1, 0, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def weights_init(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al. 2015, Sec. 4): conv weights ``N(0, 0.02)``, BatchNorm
    scales ``N(1, 0.02)`` and shifts 0. Use ``model.apply(weights_init)``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGAN(nn.Module):
    """The pair ``G`` and ``D`` in one module, so that one weight file holds both."""

    def __init__(self, nz: int = NZ, ngf: int = 32, ndf: int = 32):
        super().__init__()
        self.G = Generator(nz, ngf)
        self.D = Discriminator(ndf)
        self.apply(weights_init)

    @property
    def nz(self) -> int:
        return self.G.nz

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, device=None) -> torch.Tensor:
        """``n`` images ``N x 1 x 32 x 32`` in [-1, 1] from ``z ~ N(0, I)`` drawn with ``seed`` (G in eval mode)."""
        device = torch.device(device or next(self.parameters()).device)
        z = torch.randn(n, self.nz, generator=torch.Generator().manual_seed(seed)).to(device)
        self.G.eval()
        return self.G(z)


def make_optimizers(model: DCGAN, lr: float = 2e-4, beta1: float = 0.5):
    """Adam for G and for D with the DCGAN settings (lr 2e-4, betas (0.5, 0.999))."""
    return (torch.optim.Adam(model.G.parameters(), lr=lr, betas=(beta1, 0.999)),
            torch.optim.Adam(model.D.parameters(), lr=lr, betas=(beta1, 0.999)))


def train_step(G: nn.Module, D: nn.Module, opt_G, opt_D, real: torch.Tensor, z: torch.Tensor) -> dict:
    """One alternating GAN update (Goodfellow et al. 2014, Algorithm 1, with k = 1):

    1. **D step**: ``discriminator_loss(D(real), D(G(z).detach()))``, backward, ``opt_D.step()``;
    2. **G step**: ``generator_loss(D(G(z)))`` (non-saturating) through the *updated* D, backward,
       ``opt_G.step()``. D's gradients from this pass are cleared at the next D step.

    Args:
        real: a batch of real images ``N x C x H x W`` in [-1, 1]; z: latents ``N x nz``.

    Returns:
        ``{"loss_D", "loss_G", "D_real", "D_fake"}`` as floats (``D_*``: mean probability D gives).
    """
    fake = G(z)
    opt_D.zero_grad(set_to_none=True)
    real_logits = D(real)
    fake_logits = D(fake.detach())
    loss_D = discriminator_loss(real_logits, fake_logits)
    loss_D.backward()
    opt_D.step()

    opt_G.zero_grad(set_to_none=True)
    loss_G = generator_loss(D(fake))
    loss_G.backward()
    opt_G.step()
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
            "D_real": torch.sigmoid(real_logits).mean().item(), "D_fake": torch.sigmoid(fake_logits).mean().item()}


def train_dcgan(model: DCGAN, steps: int = DCGAN_STEPS, batch_size: int = 64, lr: float = 2e-4, seed: int = 0,
                device=None, progress: bool = True, limit: int | None = None, snapshot_every: int | None = None,
                n_snapshot: int = 16) -> dict:
    """Train ``model`` on the Fashion-MNIST training split (padded to 32 x 32, in [-1, 1]).

    Every ``snapshot_every`` steps (default ``steps // 6``) G's samples of ``n_snapshot`` fixed latents
    are kept as uint8 images, so a notebook can show how samples improve without training again.

    Returns:
        metadata: ``{"steps", "batch_size", "train_seconds", "loss_D", "loss_G"`` (per-step lists, rounded),
        ``"snapshot_steps"``, ``"snapshots"`` (uint8 tensor ``S x n x 32 x 32``)}.
    """
    from ..data.fashion_mnist import fashion_mnist_tensors
    from ..train import train_loop

    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model.apply(weights_init)
    x, _ = fashion_mnist_tensors("train", limit, value_range="-1,1", pad_to=32)
    model.to(device).train()
    opt_G, opt_D = make_optimizers(model, lr)
    fixed_z = torch.randn(n_snapshot, model.nz, generator=torch.Generator().manual_seed(1234)).to(device)
    snapshot_every = snapshot_every or max(1, steps // 6)
    snaps, snap_steps = [], []

    def snapshot(step):
        model.G.eval()
        with torch.no_grad():
            imgs = model.G(fixed_z)
        model.G.train()
        snaps.append(((imgs.cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[:, 0])
        snap_steps.append(step)

    def batches():
        while True:
            order = torch.randperm(len(x), generator=g)
            for i in range(0, len(x) - batch_size + 1, batch_size):
                yield x[order[i:i + batch_size]]

    count = [0]

    def step(real):
        if count[0] % snapshot_every == 0:
            snapshot(count[0])
        count[0] += 1
        z = torch.randn(len(real), model.nz, generator=g).to(device)
        return train_step(model.G, model.D, opt_G, opt_D, real.to(device), z)

    start = time.perf_counter()
    history = train_loop(step, batches(), steps, desc="DCGAN", progress=progress)
    snapshot(steps)
    model.eval()
    return {"steps": steps, "batch_size": batch_size, "train_seconds": round(time.perf_counter() - start, 1),
            "loss_D": [round(v, 4) for v in history["loss_D"]], "loss_G": [round(v, 4) for v in history["loss_G"]],
            "snapshot_steps": snap_steps, "snapshots": torch.stack(snaps)}


def load_dcgan(device=None, retrain: bool | None = None, progress: bool = True) -> DCGAN:
    """The course's DCGAN, in eval mode, on ``device``; the stored metadata (losses, sample snapshots,
    command) is in ``model.meta``. Loads ``course_lib/weights/dcgan_fashion.pt``; with ``retrain=True``
    (or ``COURSE_RETRAIN=1``) trains it from scratch (:data:`DCGAN_STEPS` steps of 64 images: about 0.26 s per
    step on one CPU thread of a quiet 2-core machine, 5 minutes; the stored file took 43 minutes on a heavily loaded
    one) and overwrites the file."""
    model = DCGAN()
    meta = train_or_load(model, DCGAN_PATH, lambda m: train_dcgan(m, progress=progress), DCGAN_COMMAND,
                         retrain=retrain)
    model.meta = meta
    return model.to(device or "cpu").eval()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the course's DCGAN on Fashion-MNIST and store its weights.")
    parser.add_argument("--steps", type=int, default=DCGAN_STEPS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(DCGAN_PATH))
    args = parser.parse_args(argv)
    model = DCGAN()
    meta = train_dcgan(model, steps=args.steps, seed=args.seed)
    command = f"python -m course_lib.models.dcgan --steps {args.steps} --seed {args.seed}"
    path = save_weights(model, args.out, command, meta)
    print(f"{args.steps} steps in {meta['train_seconds']} s; weights in {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
