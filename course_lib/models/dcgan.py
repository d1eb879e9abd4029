"""DCGAN for 32 x 32 Fashion-MNIST (notebook 04; Radford, Metz & Chintala, "Unsupervised Representation
Learning with Deep Convolutional Generative Adversarial Networks", 2015).

The paper's architecture guidelines (Sec. 3), followed here:

* no pooling and **no fully connected layers**: strided convolutions in D, transposed ("fractionally
  strided") convolutions in G; the latent ``z`` enters G as a ``nz x 1 x 1`` map;
* **BatchNorm** in both networks, except G's output layer and D's input layer;
* ReLU in G with ``tanh`` at the output (images in [-1, 1]); **LeakyReLU (slope 0.2) in D**;
* weights initialised from ``N(0, 0.02)``; **Adam, lr 2e-4, beta1 = 0.5** (Sec. 4).

The losses are :func:`course_lib.losses.discriminator_loss` and the non-saturating
:func:`course_lib.losses.generator_loss`; the training (one alternating update per step, Adam with lr 2e-4 and
beta1 = 0.5) is :mod:`course_lib.experiments.dcgan`.

Weights: ``course_lib/weights/dcgan_fashion.pt`` (float16; G and D in one file), made by
``python -m course_lib train dcgan`` and loaded with ``common.load(course_lib.experiments.dcgan, cfg)``.
"""
from __future__ import annotations

import torch
from torch import nn

from .init import init_weights

NZ = 64
"""Size of the latent ``z``."""


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


class DCGAN(nn.Module):
    """The pair ``G`` and ``D`` in one module, so that one weight file holds both; initialised as the paper
    says (Radford et al. 2015, Sec. 4: convolutions from ``N(0, 0.02)``, BatchNorm scales from ``N(1, 0.02)``,
    :func:`course_lib.models.init.init_weights`)."""

    def __init__(self, nz: int = NZ, ngf: int = 32, ndf: int = 32):
        super().__init__()
        self.G = Generator(nz, ngf)
        self.D = Discriminator(ndf)
        init_weights(self, "normal", 0.02)

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
