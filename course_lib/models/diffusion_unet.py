"""A small time-conditioned U-Net for diffusion models (notebook 09).

The network of a DDPM (Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020,
Sec. 4 and Appendix B) takes a noisy image ``x_t`` and the timestep ``t`` and predicts the noise
``eps`` that was added. This is a scaled-down version of their network for 28 x 28 (or 32 x 32)
greyscale images:

* the timestep enters through a **sinusoidal embedding** (the positional encoding of Vaswani et al.
  2017, Sec. 3.5, applied to ``t``) followed by a small MLP; every residual block adds a learned
  projection of it to its features;
* residual blocks with GroupNorm and SiLU, two downsamplings (28 -> 14 -> 7) and two upsamplings with
  skip connections (Ronneberger et al. 2015), as in the DDPM U-Net but without attention, so that it
  trains on a CPU;
* an optional **conditioning image** (``cond_channels > 0``) is concatenated to the input channels,
  the way SR3 (Saharia et al. 2021, Sec. 2.3) and Palette (Saharia et al. 2022, Sec. 3) condition a
  diffusion model on a source image.

The network knows nothing of noise schedules or samplers: those are in :mod:`course_lib.diffusion`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of (integer or real) timesteps.

    ``emb[:, i] = sin(t * w_i)`` for the first half of the features and ``cos(t * w_i)`` for the
    second, with frequencies ``w_i = max_period ** (-i / (dim / 2))``, ``i = 0 .. dim/2 - 1``
    (Vaswani et al. 2017, Sec. 3.5; used for the timestep by Ho et al. 2020, Appendix B).

    Args:
        t: ``N`` timesteps (any real dtype or int64), e.g. in ``[0, T)``.
        dim: embedding size, even and >= 2.

    Returns:
        float32 ``N x dim`` in [-1, 1].

    Raises:
        ValueError: for an odd ``dim`` or a ``t`` that is not one-dimensional.
    """
    if dim % 2 or dim < 2:
        raise ValueError(f"dim must be even and >= 2, got {dim}")
    if t.ndim != 1:
        raise ValueError(f"t must be a 1-D tensor of N timesteps, got shape {tuple(t.shape)}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, add the time projection, GroupNorm-SiLU-conv, plus a (1 x 1) shortcut.

    ``forward(x: N x in_channels x H x W, temb: N x time_dim) -> N x out_channels x H x W``.
    """

    def __init__(self, in_channels: int, out_channels: int, time_dim: int):
        super().__init__()
        self.norm1 = _norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Linear(time_dim, out_channels)
        self.norm2 = _norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class DiffusionUNet(nn.Module):
    """A U-Net that maps ``(x_t, t[, cond])`` to a tensor of ``x_t``'s shape (the predicted noise).

    Levels (``b = base_channels``, ``m = channel_mults``): a 3 x 3 stem, then per level one
    :class:`ResBlock` (``b * m[i]`` channels) and a stride-2 convolution (except after the last level),
    a middle of two ResBlocks, and a mirrored decoder (nearest-neighbour upsampling + 3 x 3 convolution)
    whose blocks read ``[decoder features, encoder skip]`` concatenated on the channels. The output
    convolution starts at zero, so an untrained network predicts 0.

    Args:
        in_channels: channels of ``x_t`` (1 for greyscale).
        out_channels: channels of the prediction (default ``in_channels``).
        cond_channels: channels of the conditioning image concatenated to ``x_t`` (0: unconditional).
        base_channels, channel_mults: width of the levels; with the defaults (32, (1, 2, 2)) the
            network has about 0.7 M parameters.
        time_dim: size of the time embedding.

    Input sizes: ``H`` and ``W`` divisible by ``2 ** (len(channel_mults) - 1)`` (4 by default: 28 and
    32 both work).
    """

    def __init__(self, in_channels: int = 1, out_channels: int | None = None, cond_channels: int = 0,
                 base_channels: int = 32, channel_mults: tuple[int, ...] = (1, 2, 2), time_dim: int = 128):
        super().__init__()
        self.in_channels, self.cond_channels = in_channels, cond_channels
        self.out_channels = out_channels or in_channels
        self.time_dim = time_dim
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        widths = [base_channels * m for m in channel_mults]
        self.stem = nn.Conv2d(in_channels + cond_channels, base_channels, 3, padding=1)
        self.down_blocks, self.downsamples = nn.ModuleList(), nn.ModuleList()
        ch = base_channels
        for i, w in enumerate(widths):
            self.down_blocks.append(ResBlock(ch, w, time_dim))
            ch = w
            self.downsamples.append(nn.Conv2d(w, w, 3, stride=2, padding=1) if i < len(widths) - 1 else nn.Identity())
        self.mid1, self.mid2 = ResBlock(ch, ch, time_dim), ResBlock(ch, ch, time_dim)
        self.up_blocks, self.upsamples = nn.ModuleList(), nn.ModuleList()
        for i, w in reversed(list(enumerate(widths))):
            self.up_blocks.append(ResBlock(ch + w, w, time_dim))
            ch = w
            self.upsamples.append(nn.Conv2d(w, widths[i - 1], 3, padding=1) if i > 0 else nn.Identity())
            if i > 0:
                ch = widths[i - 1]
        self.out_norm = _norm(ch)
        self.out = nn.Conv2d(ch, self.out_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Predict the noise in ``x``.

        Args:
            x: ``N x in_channels x H x W`` float (``x_t``, roughly in [-1, 1] plus noise).
            t: ``N`` timesteps (int64 in ``[0, T)``, or a scalar broadcast to the batch).
            cond: ``N x cond_channels x H x W`` (required iff ``cond_channels > 0``).

        Returns:
            ``N x out_channels x H x W`` float.

        Raises:
            ValueError: when ``cond`` is missing for a conditional network or given to an
                unconditional one, or when the sizes are not divisible by the downsampling factor.
        """
        if (cond is None) != (self.cond_channels == 0):
            raise ValueError(f"this network has cond_channels={self.cond_channels}: "
                             + ("pass cond" if cond is None else "do not pass cond"))
        factor = 2 ** (len(self.down_blocks) - 1)
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"H and W must be divisible by {factor}, got {tuple(x.shape[-2:])}")
        if t.ndim == 0:
            t = t.expand(len(x))
        temb = self.time_mlp(timestep_embedding(t.to(x.device), self.time_dim))
        h = self.stem(x if cond is None else torch.cat([x, cond], dim=1))
        skips = []
        for block, down in zip(self.down_blocks, self.downsamples):
            h = block(h, temb)
            skips.append(h)
            h = down(h)
        h = self.mid2(self.mid1(h, temb), temb)
        for block, up in zip(self.up_blocks, self.upsamples):
            h = block(torch.cat([h, skips.pop()], dim=1), temb)
            if not isinstance(up, nn.Identity):
                h = up(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out(F.silu(self.out_norm(h)))
