"""Images between NumPy and PyTorch, value ranges, sample grids and loss plots.

Conventions used across the course:

* NumPy images are ``H x W`` (grey) or ``H x W x C`` (colour), either ``uint8``
  in [0, 255] or floating point in [0, 1] -- what scikit-image and matplotlib use.
* Tensors are ``C x H x W`` or ``N x C x H x W``, ``float32``. Generators that end
  in ``tanh`` work in [-1, 1]; everything else in [0, 1]. The range is always
  stated, never guessed: functions here take a ``value_range`` argument.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from torchvision.utils import make_grid

RANGES = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0)}


def _range(value_range) -> tuple[float, float]:
    if isinstance(value_range, str):
        if value_range not in RANGES:
            raise ValueError(f"value_range {value_range!r} unknown: use '0,1', '-1,1' or a (low, high) pair")
        return RANGES[value_range]
    low, high = value_range
    if not high > low:
        raise ValueError(f"value_range must have high > low, got {value_range!r}")
    return float(low), float(high)


def image_to_tensor(image: np.ndarray, value_range="0,1") -> torch.Tensor:
    """Convert a NumPy image to a ``float32`` tensor ``C x H x W``.

    Args:
        image: ``H x W`` or ``H x W x C`` array; ``uint8`` in [0, 255], or float
            in [0, 1]. ``bool`` arrays are taken as 0/1.
        value_range: range of the returned tensor, ``"0,1"`` or ``"-1,1"``.

    Raises:
        ValueError: for other shapes, or a float image outside [0, 1].
    """
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"expected an H x W or H x W x C image, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        x = arr.astype(np.float32) / 255.0
    elif arr.dtype == bool:
        x = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.floating):
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ValueError(
                f"float image values span [{lo:.3g}, {hi:.3g}], expected [0, 1]; "
                "divide uint8 data by 255 or pass the uint8 array itself"
            )
        x = arr.astype(np.float32)
    else:
        raise ValueError(f"unsupported image dtype {arr.dtype}: use uint8 or float in [0, 1]")
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
    low, high = _range(value_range)
    return t * (high - low) + low


def tensor_to_image(tensor: torch.Tensor, value_range="0,1") -> np.ndarray:
    """Convert a tensor ``C x H x W`` (or ``1 x C x H x W``) to a float NumPy image in [0, 1].

    Values outside ``value_range`` are clipped. One-channel tensors give an
    ``H x W`` array, others ``H x W x C``.

    Raises:
        ValueError: for a batch of more than one image or a wrong rank.
    """
    t = tensor.detach()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError(f"got a batch of {t.shape[0]} images; index one, or use show_grid for many")
        t = t[0]
    if t.ndim == 2:
        t = t[None]
    if t.ndim != 3:
        raise ValueError(f"expected C x H x W, got shape {tuple(tensor.shape)}")
    low, high = _range(value_range)
    x = ((t.float().cpu() - low) / (high - low)).clamp(0, 1).numpy().transpose(1, 2, 0)
    return x[:, :, 0] if x.shape[2] == 1 else x


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """Map a tensor from [-1, 1] to [0, 1] (no clipping)."""
    return (x + 1) / 2


def to_symmetric_range(x: torch.Tensor) -> torch.Tensor:
    """Map a tensor from [0, 1] to [-1, 1] (no clipping)."""
    return x * 2 - 1


def image_grid(images: torch.Tensor, nrow: int = 8, value_range="0,1", padding: int = 2) -> np.ndarray:
    """Tile a batch ``N x C x H x W`` into one NumPy image with ``torchvision.utils.make_grid``.

    Returns a float ``H' x W' x 3`` array in [0, 1] (grey batches are repeated to RGB).
    """
    if images.ndim != 4:
        raise ValueError(f"expected a batch N x C x H x W, got shape {tuple(images.shape)}")
    low, high = _range(value_range)
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, padding=padding,
                     normalize=True, value_range=(low, high), pad_value=1.0)
    return grid.numpy().transpose(1, 2, 0).clip(0, 1)


def show_grid(images: torch.Tensor, nrow: int = 8, value_range="0,1", title: str | None = None, ax=None,
              figsize=None):
    """Show a batch ``N x C x H x W`` as a grid with matplotlib; returns the axes."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, nrow=nrow, value_range=value_range)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize or (min(12, 1.2 * nrow + 1), 4))
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_losses(history: Mapping[str, Sequence[float]], ax=None, smooth: int = 1, logy: bool = False,
                title: str | None = None):
    """Plot loss curves, one line per key of ``history`` (e.g. from :func:`course_lib.train.train_loop`).

    Args:
        history: name -> list of values, one per step (keys starting with ``_`` are skipped).
        smooth: width of a moving average (1 = raw).
        logy: logarithmic y axis.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    if smooth < 1:
        raise ValueError("smooth must be >= 1")
    for name, values in history.items():
        if name.startswith("_") or len(values) == 0:
            continue
        v = np.asarray(values, dtype=float)
        if smooth > 1 and len(v) >= smooth:
            v = np.convolve(v, np.ones(smooth) / smooth, mode="valid")
            ax.plot(np.arange(len(v)) + smooth - 1, v, label=name)
        else:
            ax.plot(v, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
