"""Classical restoration methods: the baselines that notebook 10's networks are compared with.

Nothing here is learned; each function wraps scikit-image with the settings the notebook states.

* :func:`inpaint_biharmonic` -- fills a hole with the smoothest surface (biharmonic equation) that matches
  its border (``skimage.restoration.inpaint_biharmonic``); the inpainting baseline.
* :func:`nl_means` -- non-local means (Buades, Coll & Morel, CVPR 2005), ``skimage.restoration.denoise_nl_means``
  with scikit-image's own example settings: ``h = 0.8 sigma``, ``sigma = sigma``, 5 x 5 patches searched
  within 6 pixels, ``fast_mode``.
* :func:`total_variation` -- total-variation denoising (Rudin, Osher & Fatemi 1992) by Chambolle's algorithm,
  ``skimage.restoration.denoise_tv_chambolle``; :func:`tv_weight` chooses its weight on a *training* photo.

Bicubic interpolation, the super-resolution baseline, is :func:`course_lib.data.restoration.bicubic_degrade`.
"""
from __future__ import annotations

import numpy as np
import torch


def inpaint_biharmonic(masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Biharmonic inpainting of each image of a batch.

    Args:
        masked: ``N x 3 x H x W`` float in [0, 1] (the hole's values are ignored).
        mask: ``N x 1 x H x W``, 1 on the hole.

    Returns:
        ``float32 N x 3 x H x W`` in [0, 1], the hole filled.
    """
    from skimage.restoration import inpaint_biharmonic as biharmonic

    out = []
    for img, m in zip(masked, mask):
        filled = biharmonic(img.numpy().transpose(1, 2, 0), m[0].numpy().astype(bool), channel_axis=-1)
        out.append(torch.from_numpy(np.clip(filled, 0, 1).transpose(2, 0, 1).astype(np.float32)))
    return torch.stack(out)


def nl_means(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """Non-local means with scikit-image's example settings (module docstring), told the true ``sigma``
    (0-255 scale). ``noisy``: ``H x W`` float; returns ``float64 H x W`` clipped to [0, 1]."""
    from skimage.restoration import denoise_nl_means

    s = sigma / 255
    return np.clip(denoise_nl_means(noisy, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True),
                   0, 1)


def total_variation(noisy: np.ndarray, weight: float) -> np.ndarray:
    """Chambolle's TV denoising of an ``H x W`` float image with ``weight`` (on the [0, 1] scale),
    clipped to [0, 1]."""
    from skimage.restoration import denoise_tv_chambolle

    return np.clip(denoise_tv_chambolle(noisy, weight=weight), 0, 1)


def tv_weight(sigma: float, photo: str = "camera", crop: int = 160, seed: int = 0) -> float:
    """The TV weight, among ``(0.5, 1, 1.5, 2, 3) * sigma / 255``, that gives the best PSNR on a centred crop
    of a *training* photo at this noise level (so the held-out photos never tune the baseline)."""
    from skimage.restoration import denoise_tv_chambolle

    from ..data.restoration import photo_grey
    from ..metrics import psnr

    im = photo_grey(photo)
    y, x = (im.shape[0] - crop) // 2, (im.shape[1] - crop) // 2
    clean = im[y:y + crop, x:x + crop].astype(np.float64)
    noisy = clean + np.random.default_rng(seed).normal(0, sigma / 255, clean.shape)
    grid = [f * sigma / 255 for f in (0.5, 1.0, 1.5, 2.0, 3.0)]
    scores = [psnr(np.clip(denoise_tv_chambolle(noisy, weight=w), 0, 1), clean, data_range=1.0) for w in grid]
    return float(grid[int(np.argmax(scores))])
