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

The training (Adam, one ELBO step per batch of 64) is :mod:`course_lib.experiments.vae`. Weights:
``course_lib/weights/vae_fashion_z16.pt`` (16-d latent) and ``vae_fashion_z2.pt`` (2-d latent, for the latent
map), made by ``python -m course_lib train vae``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..losses import reparameterize


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
        """Encoder -> reparameterize -> decoder: images ``N x 1 x 32 x 32`` in [-1, 1] -> ``(recon_logits, mu,
        logvar)``, with one ``z = mu + exp(logvar / 2) * eps`` per image (``eps`` drawn with ``generator``, or
        the global generator)."""
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
