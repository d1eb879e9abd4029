"""Dense (per-pixel) prediction: sliding window vs encoder-decoder vs U-Net (notebook 02).

Three ways to give every pixel of an image a label:

* :class:`SlidingWindowClassifier` -- a CNN that classifies the centre pixel of
  one ``patch_size x patch_size`` patch, run once per pixel. Each input pixel
  lies in ``patch_size**2`` patches, so its first-layer filters are computed
  ``patch_size**2`` times: ``(2n-1)**2`` for a patch of half-width ``n - 1``
  (the redundancy counted in the lecture).
* :class:`EncoderDecoder` -- one fully convolutional pass: downsample to a
  small bottleneck, upsample back. Cheap, but fine detail has to squeeze
  through the bottleneck.
* :class:`UNet` -- the same body plus skip connections that concatenate each
  encoder level's features to the decoder level of the same resolution
  (Ronneberger, Fischer & Brox, "U-Net", MICCAI 2015, fig. 1).

EncoderDecoder and UNet share every layer size except the decoder convolutions'
input channels, so their comparison isolates the skips.

Also here: :func:`predict` (logits of any of the three), the cost of labelling one image
(:func:`macs_per_image`, :func:`redundancy`, :func:`windows_containing`) and :func:`convolutionalize`,
the sliding window rewritten as a fully convolutional net (Long, Shelhamer & Darrell, "Fully
Convolutional Networks for Semantic Segmentation", CVPR 2015, sec. 3.1).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Sequential):
    """Two 3 x 3 convolutions (padding 1), each followed by BatchNorm and ReLU; keeps ``H x W``."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """One encoder level: 2 x 2 max pooling (halves ``H`` and ``W``), then :class:`DoubleConv`."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """One decoder level: 2 x 2 transposed convolution (doubles ``H`` and ``W``), optional skip
    concatenation, then :class:`DoubleConv`.

    Args:
        in_channels: channels of the coarser input.
        out_channels: channels after the level (the transposed conv also outputs this many).
        skip_channels: channels of the skip tensor concatenated before the convolutions;
            0 for a decoder without skips.

    Shape:
        ``x``: ``N x in_channels x H x W``; ``skip``: ``N x skip_channels x 2H x 2W`` or None;
        output ``N x out_channels x 2H x 2W``. The concatenation order is ``[skip, upsampled]``
        along the channel dimension.
    """

    def __init__(self, in_channels: int, out_channels: int, skip_channels: int = 0):
        super().__init__()
        self.skip_channels = skip_channels
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.conv = DoubleConv(skip_channels + out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = self.up(x)
        if self.skip_channels:
            if skip is None:
                raise ValueError("this level was built with skip_channels > 0 but got no skip tensor")
            if skip.shape[2:] != x.shape[2:]:
                raise ValueError(f"skip of size {tuple(skip.shape[2:])} does not match the upsampled "
                                 f"{tuple(x.shape[2:])}: pass the encoder output of the same resolution "
                                 "as the skip (and use image sides divisible by 8)")
            x = torch.cat([skip, x], dim=1)
        return self.conv(x)


class _Dense(nn.Module):
    """The layers EncoderDecoder and UNet share: three downsamplings (image sides divisible by 8).

    ``use_skips`` only sets the decoder convolutions' input channels; each subclass writes its own
    ``forward``.
    """

    use_skips = False

    def __init__(self, in_channels: int, num_classes: int, base_channels: int = 16):
        super().__init__()
        b = base_channels
        self.in_channels, self.num_classes, self.base_channels = in_channels, num_classes, b
        s = 1 if self.use_skips else 0
        self.enc1 = DoubleConv(in_channels, b)        # full resolution
        self.enc2 = Down(b, 2 * b)                    # 1/2
        self.enc3 = Down(2 * b, 4 * b)                # 1/4
        self.bottleneck = Down(4 * b, 8 * b)          # 1/8
        self.up3 = Up(8 * b, 4 * b, skip_channels=s * 4 * b)
        self.up2 = Up(4 * b, 2 * b, skip_channels=s * 2 * b)
        self.up1 = Up(2 * b, b, skip_channels=s * b)
        self.head = nn.Conv2d(b, num_classes, kernel_size=1)

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected N x {self.in_channels} x H x W, got {tuple(x.shape)}")
        if x.shape[2] % 8 or x.shape[3] % 8:
            raise ValueError(f"image sides must be divisible by 8 (three 2x downsamplings), got {tuple(x.shape[2:])}")


class EncoderDecoder(_Dense):
    """Encoder-decoder without skips: ``N x in_channels x H x W`` -> logits ``N x num_classes x H x W``.

    Args:
        in_channels: input channels (1 for greyscale).
        num_classes: output channels (classes for segmentation, or values for regression).
        base_channels: width of the first level; doubled at each of the three downsamplings.

    Raises:
        ValueError: (in forward) for a wrong channel count or sides not divisible by 8.
    """

    use_skips = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        z = self.bottleneck(self.enc3(self.enc2(self.enc1(x))))  # N x 8b x H/8 x W/8
        d1 = self.up1(self.up2(self.up3(z)))  # no skips: every detail has to pass the bottleneck
        return self.head(d1)


class UNet(_Dense):
    """U-Net (Ronneberger et al. 2015) with three levels and skip concatenations.

    Same arguments, shapes and layer widths as :class:`EncoderDecoder`; each
    decoder level concatenates the encoder features of its resolution
    (``[skip, upsampled]`` along channels) before its convolutions.
    """

    use_skips = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        e1 = self.enc1(x)         # N x b x H x W
        e2 = self.enc2(e1)        # N x 2b x H/2 x W/2
        e3 = self.enc3(e2)        # N x 4b x H/4 x W/4
        z = self.bottleneck(e3)   # N x 8b x H/8 x W/8
        d3 = self.up3(z, e3)      # each decoder level gets the encoder features of its resolution
        d2 = self.up2(d3, e2)
        d1 = self.up1(d2, e1)     # N x b x H x W
        return self.head(d1)      # N x num_classes x H x W


class SlidingWindowClassifier(nn.Module):
    """Classify the centre pixel of a ``patch_size x patch_size`` patch; run once per pixel.

    Three 3 x 3 valid convolutions with ReLU, then two fully connected layers.

    Args:
        in_channels: input channels.
        num_classes: number of classes.
        patch_size: odd patch side in pixels (``2n - 1`` with ``n - 1`` the half-width); >= 7.
        width: channels of the convolutions.

    Shape:
        :meth:`forward`: patches ``P x in_channels x patch_size x patch_size`` -> logits ``P x num_classes``.
        :meth:`segment`: images ``N x in_channels x H x W`` -> logits ``N x num_classes x H x W``
        (zero padding at the border).
    """

    def __init__(self, in_channels: int, num_classes: int, patch_size: int = 15, width: int = 32,
                 hidden: int = 128):
        super().__init__()
        if patch_size % 2 != 1 or patch_size < 7:
            raise ValueError(f"patch_size must be odd and >= 7, got {patch_size}")
        self.in_channels, self.num_classes, self.patch_size = in_channels, num_classes, patch_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3), nn.ReLU(inplace=True),
        )
        side = patch_size - 6
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(width * side * side, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        p = self.patch_size
        if patches.ndim != 4 or patches.shape[1:] != (self.in_channels, p, p):
            raise ValueError(f"expected patches P x {self.in_channels} x {p} x {p}, got {tuple(patches.shape)}")
        return self.classifier(self.features(patches))

    def extract_patches(self, images: torch.Tensor) -> torch.Tensor:
        """All ``H * W`` patches of each image, centred on each pixel: ``(N*H*W) x C x p x p``."""
        n, c, h, w = images.shape
        p = self.patch_size
        cols = F.unfold(images, kernel_size=p, padding=p // 2)  # N x (C*p*p) x (H*W)
        return cols.transpose(1, 2).reshape(n * h * w, c, p, p)

    @torch.no_grad()
    def segment(self, images: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Label every pixel by classifying the patch around it (the slow, redundant way)."""
        n, _, h, w = images.shape
        logits = []
        for img in images:
            patches = self.extract_patches(img[None])
            logits.append(torch.cat([self(patches[i:i + batch_size]) for i in range(0, len(patches), batch_size)]))
        return torch.stack(logits).reshape(n, h, w, self.num_classes).permute(0, 3, 1, 2)

    def redundancy(self) -> int:
        """How many times each input pixel is filtered by the first layer: ``patch_size ** 2``."""
        return self.patch_size ** 2


# ----------------------------------------------------------------------------- labelling and its cost

@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Per-pixel logits ``float32 N x K x H x W`` (on the CPU) for images ``N x 1 x H x W`` in [0, 1].

    Puts ``model`` in eval mode and runs it on its own device. The sliding window classifies the patch
    around every pixel (:meth:`SlidingWindowClassifier.segment`, one image at a time); the other models
    take ``batch_size`` images per forward pass.
    """
    model.eval()
    device = next(model.parameters()).device
    if isinstance(model, SlidingWindowClassifier):
        return model.segment(images.to(device)).cpu()
    return torch.cat([model(images[i:i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])


def macs_per_image(model: nn.Module, size: int) -> int:
    """Multiply-accumulates to label one ``size x size`` image (:func:`course_lib.cost.count_macs`): one
    forward pass for the dense models, ``size**2`` patch classifications for the sliding window."""
    from ..cost import count_macs

    device = next(model.parameters()).device
    if isinstance(model, SlidingWindowClassifier):
        p = model.patch_size
        return count_macs(model, torch.zeros(1, model.in_channels, p, p, device=device)) * size * size
    return count_macs(model, torch.zeros(1, model.in_channels, size, size, device=device))


def redundancy(model: nn.Module) -> int:
    """How many times each (interior) input pixel is processed to label one image: the number of
    windows that contain it -- ``patch_size**2 = (2n-1)**2`` for the sliding window, 1 for a
    fully convolutional net, which sees the image once."""
    return model.redundancy() if isinstance(model, SlidingWindowClassifier) else 1


def windows_containing(row: int, col: int, size: int, patch_size: int) -> int:
    """Count, by brute force, the ``patch_size`` windows centred on the pixels of a ``size x size``
    image that contain pixel ``(row, col)``. Equals ``patch_size**2`` away from the border."""
    r = patch_size // 2
    centres = np.arange(size)
    rows = np.abs(centres - row) <= r
    cols = np.abs(centres - col) <= r
    return int(rows.sum() * cols.sum())


def convolutionalize(model: SlidingWindowClassifier) -> nn.Sequential:
    """The sliding-window classifier rewritten as a fully convolutional net (Long et al. 2015, sec. 3.1).

    Its convolutions run once on the zero-padded image; the first fully connected layer becomes a
    ``(p-6) x (p-6)`` convolution and the second a 1 x 1 convolution, with the same weights. The
    result maps ``N x C x H x W`` to logits ``N x classes x H x W`` equal (up to float rounding) to
    :meth:`SlidingWindowClassifier.segment`, without the redundant work. Shares no tensors with
    ``model`` (weights are copied); on the model's device.
    """
    fc1, fc2 = [m for m in model.classifier if isinstance(m, nn.Linear)]
    width = model.features[0].out_channels
    side = model.patch_size - 6
    conv1 = nn.Conv2d(width, fc1.out_features, side)
    conv1.weight.data.copy_(fc1.weight.data.reshape(fc1.out_features, width, side, side))
    conv1.bias.data.copy_(fc1.bias.data)
    conv2 = nn.Conv2d(fc2.in_features, fc2.out_features, 1)
    conv2.weight.data.copy_(fc2.weight.data[:, :, None, None])
    conv2.bias.data.copy_(fc2.bias.data)

    r = model.patch_size // 2
    return nn.Sequential(nn.ZeroPad2d(r), copy.deepcopy(model.features), conv1, nn.ReLU(), conv2).to(
        next(model.parameters()).device)
