"""A convolutional variational autoencoder for 32 x 32 Fashion-MNIST (notebook 05; Kingma & Welling,
"Auto-Encoding Variational Bayes", ICLR 2014).

* Encoder ``q(z | x)``: three strided 4 x 4 convolutions (32 -> 16 -> 8 -> 4 pixels) and one linear layer
  to the mean ``mu`` and **log-variance** ``logvar`` of a diagonal Gaussian over ``z`` (``N x z_dim`` each).
* ``z = mu + exp(logvar / 2) * eps`` (:func:`course_lib.losses.reparameterize`).
* Decoder ``p(x | z)``: a linear layer to ``128 x 4 x 4`` and three transposed convolutions back to
  ``1 x 32 x 32`` **logits** of Bernoulli pixel intensities.
* Loss: the negative ELBO, :func:`course_lib.losses.vae_loss` (reconstruction + KL).

Images go in as ``N x 1 x 32 x 32`` in [-1, 1] (as everywhere in the course); :meth:`VAE.decode_images`
returns the decoder's *mean* image ``sigmoid(logits)`` mapped back to [-1, 1].

Weights: ``course_lib/weights/vae_fashion_z16.pt`` (16-d latent) and ``vae_fashion_z2.pt`` (2-d latent, for the
latent map), made by the commands in :data:`VAE_COMMANDS` (``python -m course_lib.models.vae``).
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from ..checkpoints import WEIGHTS_DIR, save_weights, train_or_load
from ..losses import reparameterize, vae_loss

VAE_STEPS = {16: 1500, 2: 800}
"""Training steps (batches of 64) of the stored VAEs, by latent size."""
VAE_PATHS = {16: WEIGHTS_DIR / "vae_fashion_z16.pt", 2: WEIGHTS_DIR / "vae_fashion_z2.pt"}
VAE_COMMANDS = {z: f"python -m course_lib.models.vae --z-dim {z} --steps {VAE_STEPS[z]} --seed 0" for z in VAE_PATHS}


class VAE(nn.Module):
    """Convolutional VAE. ``forward(x)`` returns ``(recon_logits, mu, logvar)``:
    ``N x 1 x 32 x 32``, ``N x z_dim``, ``N x z_dim``.

    Args:
        z_dim: latent dimensions (16 for samples, 2 for the latent map).
        width: channels of the first convolution (then 2x and 4x).
    """

    def __init__(self, z_dim: int = 16, width: int = 32):
        super().__init__()
        self.z_dim = z_dim
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.ReLU(True),            # 32 -> 16
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.ReLU(True),        # 16 -> 8
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.ReLU(True),    # 8 -> 4
            nn.Flatten())
        self.to_stats = nn.Linear(4 * w * 16, 2 * z_dim)
        self.from_z = nn.Sequential(nn.Linear(z_dim, 4 * w * 16), nn.ReLU(True), nn.Unflatten(1, (4 * w, 4, 4)))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.ReLU(True),   # 4 -> 8
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU(True),       # 8 -> 16
            nn.ConvTranspose2d(w, 1, 4, 2, 1))                          # 16 -> 32, logits

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``N x 1 x 32 x 32`` in [-1, 1] -> ``(mu, logvar)``, each ``N x z_dim``."""
        if x.shape[-2:] != (32, 32):
            raise ValueError(f"the VAE takes 32 x 32 images (pad 28 x 28 by 2 with -1), got {tuple(x.shape)}")
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``N x z_dim`` -> pixel logits ``N x 1 x 32 x 32``."""
        return self.decoder(self.from_z(z))

    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """Latents -> the decoder's mean image, ``N x 1 x 32 x 32`` in [-1, 1]."""
        return torch.sigmoid(self.decode(z)) * 2 - 1

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, device=None) -> torch.Tensor:
        """``n`` images ``N x 1 x 32 x 32`` in [-1, 1]: the decoder's mean at ``z ~ N(0, I)`` drawn with ``seed``."""
        device = torch.device(device or next(self.parameters()).device)
        z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
        self.eval()
        return self.decode_images(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's mean image at the encoder's mean ``mu`` (no sampling), in [-1, 1]."""
        self.eval()
        return self.decode_images(self.encode(x)[0])


def train_vae(model: VAE, steps: int = 1500, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
              device=None, progress: bool = True, limit: int | None = None) -> dict:
    """Train on the Fashion-MNIST training split (padded to 32 x 32) with Adam and :func:`vae_loss`.

    Returns metadata ``{"steps", "batch_size", "train_seconds", "loss", "recon", "kl"`` (per-step lists),
    ``"test_recon", "test_kl"}`` (nats per image on the first 2,000 test images, one sample of ``z`` each:
    the usual one-sample estimate of the negative ELBO).
    """
    from ..data.fashion_mnist import fashion_mnist_tensors
    from ..train import train_loop

    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x, _ = fashion_mnist_tensors("train", limit, value_range="-1,1", pad_to=32)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def batches():
        while True:
            order = torch.randperm(len(x), generator=g)
            for i in range(0, len(x) - batch_size + 1, batch_size):
                yield x[order[i:i + batch_size]]

    def step(xb):
        xb = xb.to(device)
        logits, mu, logvar = model(xb)
        out = vae_loss(logits, (xb + 1) / 2, mu, logvar)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        return {k: v.item() for k, v in out.items()}

    start = time.perf_counter()
    history = train_loop(step, batches(), steps, desc=f"VAE z={model.z_dim}", progress=progress)
    seconds = time.perf_counter() - start
    model.eval()
    xt, _ = fashion_mnist_tensors("test", 2000, value_range="-1,1", pad_to=32)
    with torch.no_grad():
        logits, mu, logvar = model(xt.to(device), torch.Generator(device).manual_seed(0))
        test = vae_loss(logits, (xt.to(device) + 1) / 2, mu, logvar)
    return {"steps": steps, "batch_size": batch_size, "train_seconds": round(seconds, 1),
            "loss": [round(v, 2) for v in history["loss"]], "recon": [round(v, 2) for v in history["recon"]],
            "kl": [round(v, 2) for v in history["kl"]],
            "test_recon": round(test["recon"].item(), 2), "test_kl": round(test["kl"].item(), 2)}


def load_vae(z_dim: int = 16, device=None, retrain: bool | None = None, progress: bool = True) -> VAE:
    """The course's VAE with a ``z_dim``-dimensional latent (16 or 2), in eval mode, on ``device``;
    metadata (losses, test ELBO terms, command) in ``model.meta``. Loads ``vae_fashion_z{z_dim}.pt``; with
    ``retrain=True`` (or ``COURSE_RETRAIN=1``) trains from scratch (``VAE_STEPS[z_dim]`` steps) and overwrites it.

    Raises:
        ValueError: for a ``z_dim`` without a stored file (train one with ``python -m course_lib.models.vae``).
    """
    if z_dim not in VAE_PATHS:
        raise ValueError(f"no stored VAE with z_dim={z_dim}; stored: {sorted(VAE_PATHS)}")
    model = VAE(z_dim)
    meta = train_or_load(model, VAE_PATHS[z_dim], lambda m: train_vae(m, steps=VAE_STEPS[z_dim], progress=progress),
                         VAE_COMMANDS[z_dim],
                         retrain=retrain)
    model.meta = meta
    return model.to(device or "cpu").eval()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the course's VAE on Fashion-MNIST and store its weights.")
    parser.add_argument("--z-dim", type=int, default=16)
    parser.add_argument("--steps", type=int, default=None, help="default: VAE_STEPS[z_dim]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    model = VAE(args.z_dim)
    args.steps = args.steps or VAE_STEPS.get(args.z_dim, 1500)
    meta = train_vae(model, steps=args.steps, seed=args.seed)
    command = f"python -m course_lib.models.vae --z-dim {args.z_dim} --steps {args.steps} --seed {args.seed}"
    out = args.out or str(WEIGHTS_DIR / f"vae_fashion_z{args.z_dim}.pt")
    path = save_weights(model, out, command, meta)
    print(f"{args.steps} steps in {meta['train_seconds']} s; test recon {meta['test_recon']} nats, "
          f"KL {meta['test_kl']} nats; weights in {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
