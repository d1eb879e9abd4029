"""A residual denoising CNN in the manner of DnCNN (notebook 10).

K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep CNN
for Image Denoising", IEEE TIP 26(7), 2017, Sec. III-A: a plain stack of 3 x 3 convolutions --
Conv+ReLU, then ``depth - 2`` times Conv+BatchNorm+ReLU, then one Conv -- that predicts the **noise**
``v = y - x`` of a noisy image ``y``; the clean estimate is ``y - net(y)`` ("residual learning").
The paper's grey-image net has depth 17 (20 for the blind model) and 64 channels. The class's defaults
are small (depth 10, 32 channels: receptive field 21 x 21, ~75 k parameters) for quick examples and tests;
the denoising experiment (:mod:`course_lib.experiments.denoising`) uses depth 17 / 64 channels in the fast
profile (the stored weights) and 20 / 64 in the full one.
"""
from __future__ import annotations

import torch
from torch import nn


class DnCNN(nn.Module):
    """Residual denoiser.

    Args:
        depth: number of convolution layers (>= 2).
        features: channels of the hidden layers.
        channels: image channels (1 for grey).

    Call: ``forward(noisy)`` with ``noisy`` ``N x channels x H x W`` (float, roughly [0, 1] plus noise);
    returns the **clean estimate** ``noisy - noise_estimate`` of the same shape (not clipped).
    :meth:`noise` returns the predicted noise itself.
    """

    def __init__(self, depth: int = 10, features: int = 32, channels: int = 1):
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be >= 2, got {depth}")
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(features, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.depth = depth

    @property
    def receptive_field(self) -> int:
        """Side of the receptive field in pixels: ``2 * depth + 1``."""
        return 2 * self.depth + 1

    def noise(self, noisy: torch.Tensor) -> torch.Tensor:
        """The predicted noise ``v`` (same shape as ``noisy``)."""
        return self.body(noisy)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return noisy - self.body(noisy)
