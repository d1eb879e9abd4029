"""Context Encoder for inpainting (notebook 10).

D. Pathak, P. Krähenbühl, J. Donahue, T. Darrell, A. A. Efros, "Context Encoders: Feature Learning by
Inpainting", CVPR 2016. An encoder of strided convolutions sees the image with a region dropped, a
**channel-wise fully connected** layer lets every position of the bottleneck see every other one
without the cost of a full FC layer (Sec. 3.1), and a decoder of transposed convolutions paints the
missing region. Training minimises ``lambda_rec * L_rec + lambda_adv * L_adv`` (Eq. 4), with
``L_rec`` the masked L2 of :func:`course_lib.losses.masked_l2_loss` (Eq. 1) and ``L_adv`` the GAN
loss of a discriminator that judges the filled region (Eq. 2); the paper uses ``lambda_rec = 0.999``,
``lambda_adv = 0.001``.

Course sizes: 64 x 64 RGB inputs with a 32 x 32 central hole (the paper: 128 x 128 with 64 x 64), four
stride-2 levels to a 4 x 4 bottleneck, outputs in [0, 1] by a sigmoid (the paper: tanh in [-1, 1]). The
decoder paints the whole image; only its hole pixels are used (:meth:`ContextEncoder.complete`).
"""
from __future__ import annotations

import torch
from torch import nn


class ChannelWiseFC(nn.Module):
    """A fully connected layer applied to each channel's ``H x W`` map separately (``C`` matrices of
    ``HW x HW``, no mixing between channels), then a 1 x 1 convolution to mix channels -- Pathak et al.
    2016, Sec. 3.1. ``N x C x H x W`` -> same shape."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        n = size * size
        self.weight = nn.Parameter(torch.randn(channels, n, n) / n ** 0.5)
        self.bias = nn.Parameter(torch.zeros(channels, n))
        self.mix = nn.Conv2d(channels, channels, 1)
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if (h, w) != (self.size, self.size):
            raise ValueError(f"ChannelWiseFC was built for {self.size} x {self.size} maps, got {h} x {w}")
        flat = x.reshape(n, c, h * w)
        out = torch.einsum("ncp,cqp->ncq", flat, self.weight) + self.bias
        return self.mix(out.reshape(n, c, h, w))


def _down(cin, cout, norm=True):
    layers = [nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


def _up(cin, cout):
    return [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class ContextEncoder(nn.Module):
    """Encoder - channel-wise FC - decoder.

    Args:
        image_size: input side (multiple of 16); the bottleneck is ``image_size / 16``.
        channels: image channels.
        base: channels of the first level (doubled at each of the four levels).

    Call: ``forward(masked)`` with ``masked`` ``N x C x S x S`` in [0, 1] (hole filled with any constant,
    see :func:`course_lib.data.restoration.apply_mask`); returns a painted image ``N x C x S x S`` in
    (0, 1). :meth:`complete` keeps the known pixels and takes only the hole from the painting.
    """

    def __init__(self, image_size: int = 64, channels: int = 3, base: int = 32):
        super().__init__()
        if image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, got {image_size}")
        b = base
        self.encoder = nn.Sequential(*_down(channels, b, norm=False), *_down(b, 2 * b), *_down(2 * b, 4 * b),
                                     *_down(4 * b, 8 * b))
        self.bottleneck = nn.Sequential(ChannelWiseFC(8 * b, image_size // 16), nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(*_up(8 * b, 4 * b), *_up(4 * b, 2 * b), *_up(2 * b, b),
                                     nn.ConvTranspose2d(b, channels, 4, stride=2, padding=1), nn.Sigmoid())

    def forward(self, masked: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.bottleneck(self.encoder(masked)))

    def complete(self, masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``masked`` with its hole (``mask == 1``) replaced by the network's painting."""
        return masked * (1 - mask) + self(masked) * mask


class HoleDiscriminator(nn.Module):
    """DCGAN-style discriminator of the filled region (Pathak et al. 2016, Sec. 3.2): a ``hole x hole``
    RGB patch in [0, 1] -> one logit per image ``N x 1``. ``hole`` must be a multiple of 8."""

    def __init__(self, hole: int = 32, channels: int = 3, base: int = 32):
        super().__init__()
        if hole % 8:
            raise ValueError(f"hole must be a multiple of 8, got {hole}")
        self.body = nn.Sequential(*_down(channels, base, norm=False), *_down(base, 2 * base),
                                  *_down(2 * base, 4 * base), nn.Flatten(),
                                  nn.Linear(4 * base * (hole // 8) ** 2, 1))

    def forward(self, patch: torch.Tensor) -> torch.Tensor:
        return self.body(patch * 2 - 1)
