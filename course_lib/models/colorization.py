"""Colorization networks (notebook 03): one body, two heads.

After Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016, Fig. 2, in miniature. The body
sees the lightness ``L`` and computes features at half the input resolution; then either

* a **classification head** -- a 1 x 1 convolution to ``Q`` logits per pixel, a distribution over the
  quantized ab bins of :mod:`course_lib.color` (trained with the (rebalanced) cross-entropy of
  :func:`course_lib.losses.rebalanced_cross_entropy`); or
* a **regression head** -- a 1 x 1 convolution to the two ab values per pixel (trained with L2).

The body is identical for both (same layers, same initialisation for the same seed), so the comparison
isolates the loss. The body: two stride-2 convolutions to 1/4 resolution, three dilated 3 x 3
convolutions (dilation 2, 4, 8: a receptive field of about 100 pixels, a whole 64 x 64 training crop,
as the paper's dilated ``conv5``/``conv6`` widen its view), then one transposed convolution back to 1/2
resolution joined with the 1/2-resolution features (a U-Net-style skip). The paper predicts at 1/4 of
the input and upsamples the decoded ab bilinearly; we predict at 1/2 and do the same
(:func:`predict_ab`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import color

KINDS = ("classification", "regression")
AB_SCALE = 110.0
"""The regression head predicts ab / AB_SCALE (so its targets are about in [-1, 1])."""


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class ColorizationBody(nn.Module):
    """Features ``N x 2w x H/2 x W/2`` from the lightness ``N x 1 x H x W`` (L in [0, 100]; H, W divisible by 4)."""

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.out_channels = 2 * w
        self.level1 = nn.Sequential(*_conv(1, w))                                   # H
        self.level2 = nn.Sequential(*_conv(w, 2 * w, stride=2), *_conv(2 * w, 2 * w))  # H/2
        self.level4 = nn.Sequential(*_conv(2 * w, 4 * w, stride=2),                # H/4
                                    *_conv(4 * w, 4 * w, dilation=2), *_conv(4 * w, 4 * w, dilation=4),
                                     *_conv(4 * w, 4 * w, dilation=8))
        self.up = nn.ConvTranspose2d(4 * w, 2 * w, kernel_size=2, stride=2)
        self.merge = nn.Sequential(*_conv(4 * w, 2 * w), *_conv(2 * w, 2 * w))

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        # L in [0, 100] -> about [-1, 1]; the skip joins the 1/2-resolution features to the upsampled 1/4 ones
        if L.ndim != 4 or L.shape[1] != 1 or L.shape[2] % 4 or L.shape[3] % 4:
            raise ValueError(f"expected L as N x 1 x H x W with H and W divisible by 4, got {tuple(L.shape)}")
        x = self.level1((L - 50.0) / 50.0)
        half = self.level2(x)
        x = self.up(self.level4(half))
        return self.merge(torch.cat([half, x], 1))


class ColorizationNet(nn.Module):
    """:class:`ColorizationBody` plus one head.

    Args:
        kind: ``"classification"`` (``Q`` logits per pixel) or ``"regression"`` (ab per pixel).
        num_bins: ``Q``, the number of ab bins (classification only; 261 for :data:`course_lib.color.AB_BINS`).
        width: channels of the first layer (the body doubles and quadruples them).

    Shape:
        input ``L`` ``float N x 1 x H x W`` in [0, 100]; output ``N x Q x H/2 x W/2`` logits
        (classification) or ``N x 2 x H/2 x W/2`` ab values in Lab units (regression).

    Raises:
        ValueError: for an unknown ``kind``.
    """

    def __init__(self, kind: str = "classification", num_bins: int = 261, width: int = 32):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.body = ColorizationBody(width)
        self.head = nn.Conv2d(self.body.out_channels, num_bins if kind == "classification" else 2, 1)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        out = self.head(self.body(L))
        return out * AB_SCALE if self.kind == "regression" else out

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"


@torch.no_grad()
def predict_ab(model: ColorizationNet, L: torch.Tensor, decoding: str = "annealed mean", T: float | None = None
               ) -> torch.Tensor:
    """The ab a model predicts, at full resolution: ``float32 N x 2 x H x W`` (on the CPU) for ``L``
    ``N x 1 x H x W`` in [0, 100].

    Puts ``model`` in eval mode and runs it on its own device. The classifier's logits are decoded with
    ``decoding`` (``"mean"``, ``"annealed mean"`` at temperature ``T`` -- default
    :data:`course_lib.color.ANNEAL_T` -- or ``"mode"``; :func:`course_lib.color.decode`); the regression
    model ignores ``decoding``. The half-resolution ab is upsampled bilinearly (Zhang et al. 2016, Sec. 2).
    """
    model.eval()
    device = next(model.parameters()).device
    out = model(L.to(device)).float().cpu()
    ab = out if model.kind == "regression" else color.decode(out, color.ab_bins(), decoding,
                                                             color.ANNEAL_T if T is None else T)
    return F.interpolate(ab, size=L.shape[-2:], mode="bilinear", align_corners=False)
