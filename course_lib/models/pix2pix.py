"""pix2pix building blocks (Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with
Conditional Adversarial Networks", CVPR 2017).

This module so far holds the PatchGAN discriminators and the normalisation
factory; notebook 01 measures their receptive fields, notebooks 06-07 train them.
The layer layout (kernel 4, padding 1, LeakyReLU 0.2, channel width doubling up
to 8 x ndf) matches the paper's appendix 6.1.2 and the authors' public code, so
the receptive fields come out as the paper's 1, 16, 70 and 286 pixels.

Written as named ``nn.Sequential`` stages so that students can print a model and
read it, and so that :func:`course_lib.receptive_field.receptive_field` can walk it.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

NORMS = ("batch", "instance", "none")


def get_norm_layer(norm: str, num_features: int) -> nn.Module:
    """Normalisation layer by name.

    Args:
        norm: ``"batch"`` (BatchNorm2d with learned scale/shift and running
            statistics), ``"instance"`` (InstanceNorm2d, no affine parameters, no
            running statistics -- as in the pix2pix/CycleGAN code), or ``"none"``.
        num_features: channel count.

    Raises:
        ValueError: for another name.
    """
    if norm == "batch":
        return nn.BatchNorm2d(num_features, affine=True, track_running_stats=True)
    if norm == "instance":
        return nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


def _uses_bias(norm: str) -> bool:
    # BatchNorm's shift makes a conv bias redundant; InstanceNorm here has no affine shift.
    return norm != "batch"


class NLayerDiscriminator(nn.Sequential):
    """PatchGAN discriminator: classifies each overlapping N x N patch as real or fake.

    ``n_layers`` stride-2 convolutions (4 x 4, padding 1), then one stride-1
    convolution and a stride-1 convolution to one channel. Receptive field of an
    output pixel: 16 (``n_layers=1``), 34 (2), 70 (3, the paper's default
    "70 x 70 PatchGAN"), 142 (4), 286 (5).

    Args:
        in_channels: channels of the input; for a conditional D this is the
            input image's plus the output image's channels (concatenated).
        ndf: filters in the first layer; doubled per layer up to ``8 * ndf``.
        n_layers: number of stride-2 convolutions (>= 1).
        norm: ``"batch"``, ``"instance"`` or ``"none"`` (no norm on the first layer).

    Shape:
        input ``N x in_channels x H x W`` float (pix2pix uses [-1, 1]); output
        ``N x 1 x H' x W'`` raw logits, one per patch (``H' = H/2**n_layers - 2``
        for ``H`` divisible by ``2**n_layers``; 30 x 30 for 256 x 256 and ``n_layers=3``).
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch"):
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        if in_channels < 1 or ndf < 1:
            raise ValueError(f"in_channels and ndf must be positive, got {in_channels}, {ndf}")
        bias = _uses_bias(norm)
        layers = OrderedDict()
        layers["conv0"] = nn.Sequential(
            nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)
        )
        width = ndf
        for n in range(1, n_layers + 1):
            stride = 2 if n < n_layers else 1
            out = ndf * min(2 ** n, 8)
            layers[f"conv{n}"] = nn.Sequential(
                nn.Conv2d(width, out, kernel_size=4, stride=stride, padding=1, bias=bias),
                get_norm_layer(norm, out),
                nn.LeakyReLU(0.2, True),
            )
            width = out
        layers["head"] = nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=1)
        super().__init__(layers)
        self.in_channels, self.ndf, self.n_layers, self.norm = in_channels, ndf, n_layers, norm


class PixelDiscriminator(nn.Sequential):
    """PixelGAN: a 1 x 1 PatchGAN that judges each pixel's colour on its own (receptive field 1).

    Args:
        in_channels: channels of the input (conditional: input + output channels).
        ndf: filters of the first 1 x 1 convolution (the second has ``2 * ndf``).
        norm: ``"batch"``, ``"instance"`` or ``"none"``.

    Shape:
        ``N x in_channels x H x W`` -> ``N x 1 x H x W`` raw logits.
    """

    def __init__(self, in_channels: int, ndf: int = 64, norm: str = "batch"):
        bias = _uses_bias(norm)
        super().__init__(OrderedDict(
            conv0=nn.Sequential(nn.Conv2d(in_channels, ndf, kernel_size=1), nn.LeakyReLU(0.2, True)),
            conv1=nn.Sequential(
                nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias), get_norm_layer(norm, ndf * 2),
                nn.LeakyReLU(0.2, True),
            ),
            head=nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        ))
        self.in_channels, self.ndf, self.norm = in_channels, ndf, norm
