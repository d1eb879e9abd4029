"""Colorization data (notebook 03): Lab crops of the training photos and the held-out photos, as tensors.

After Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016 (Sec. 2), in miniature. The photos
are the wheels' colour photos of :mod:`course_lib.data.photos`, split by :data:`PHOTO_SPLITS` (crops of
the *training* photos for training; the whole *held-out* photos, never seen in training, for scoring),
all downscaled so that their shorter side is ``image_side`` pixels. Input ``L`` in [0, 100], target
``ab`` (:mod:`course_lib.color`); training targets at half resolution, where the network predicts
(:class:`course_lib.models.colorization.ColorizationNet`), with their soft encoding (Sec. 2.1) and the
class-rebalancing weights of their bin distribution (Sec. 2.2).

Both functions are cached (the same arguments return the same object): treat what they return as
read-only.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import color
from .photos import PHOTO_SPLITS, load_photo


def resize_photo(image: np.ndarray, side: int) -> np.ndarray:
    """Resize (anti-aliased) so the shorter side is ``side``, then crop both sides down to multiples of 4.
    Returns ``uint8 H x W x 3``."""
    from skimage.transform import resize

    h, w = image.shape[:2]
    s = side / min(h, w)
    out = resize(image, (round(h * s), round(w * s)), anti_aliasing=True, preserve_range=True)
    out = np.clip(out, 0, 255).round().astype(np.uint8)
    return out[:out.shape[0] // 4 * 4, :out.shape[1] // 4 * 4]


def half_resolution(ab: torch.Tensor) -> torch.Tensor:
    """The ab target at the network's output resolution: 2 x 2 average pooling of ``N x 2 x H x W``."""
    return F.avg_pool2d(ab, 2)


@dataclass(frozen=True)
class TrainingCrops:
    """Training crops, as tensors.

    Attributes:
        L, ab: ``N x 1 x c x c`` (L in [0, 100]) and ``N x 2 x c/2 x c/2`` (ab at the output resolution).
        index, weight: soft-encoded ``ab``, ``int64`` / ``float32 N x 5 x c/2 x c/2`` -- the 5 nearest
            bins (the nearest first) and their Gaussian weights (:func:`course_lib.color.soft_encode_sparse`).
        prior: empirical bin distribution of the training targets, ``float64 Q``.
        weights: rebalancing weights of the bins, ``float32 Q`` (:func:`course_lib.color.rebalancing_weights`).
    """

    L: torch.Tensor
    ab: torch.Tensor
    index: torch.Tensor
    weight: torch.Tensor
    prior: torch.Tensor
    weights: torch.Tensor


@functools.lru_cache(maxsize=2)
def training_crops(image_side: int, crop: int, n_crops: int, seed: int = 0) -> TrainingCrops:
    """``n_crops`` random ``crop x crop`` crops of the training photos (each resized to a short side of
    ``image_side``), half of them mirrored, drawn with ``numpy.random.default_rng(seed)``.

    Raises:
        ValueError: ``crop`` not a multiple of 4 (the network halves the resolution twice).
    """
    if crop % 4:
        raise ValueError(f"crop must be a multiple of 4, got {crop}")
    bins = color.ab_bins()
    train = [resize_photo(load_photo(n), image_side) for n in PHOTO_SPLITS["train"]]
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(n_crops):
        im = train[rng.integers(len(train))]
        y = rng.integers(im.shape[0] - crop + 1)
        x = rng.integers(im.shape[1] - crop + 1)
        c = im[y:y + crop, x:x + crop]
        crops.append(c[:, ::-1] if rng.random() < 0.5 else c)
    L, ab_full = color.lab_tensors(np.stack(crops))
    ab = half_resolution(ab_full)
    index, weight = color.soft_encode_sparse(ab, bins)
    prior = color.bin_distribution(ab, bins)
    return TrainingCrops(L, ab, index, weight, prior, color.rebalancing_weights(prior, bins))


@dataclass(frozen=True)
class HeldOutPhotos:
    """The held-out photos, whole, one entry per photo.

    Attributes:
        names: photo names (:data:`PHOTO_SPLITS` ``["test"]``).
        rgb: ``uint8 H x W x 3`` each; L: ``1 x 1 x H x W`` each; ab: ``1 x 2 x H x W`` each (full resolution).
    """

    names: tuple[str, ...]
    rgb: tuple[np.ndarray, ...]
    L: tuple[torch.Tensor, ...]
    ab: tuple[torch.Tensor, ...]


@functools.lru_cache(maxsize=2)
def held_out_photos(image_side: int) -> HeldOutPhotos:
    """The held-out photos resized to a short side of ``image_side`` (sides cropped to multiples of 4)."""
    names = tuple(PHOTO_SPLITS["test"])
    rgb = tuple(resize_photo(load_photo(n), image_side) for n in names)
    labs = [color.lab_tensors(im[None]) for im in rgb]
    return HeldOutPhotos(names, rgb, tuple(t[0] for t in labs), tuple(t[1] for t in labs))
