"""Colorization data (notebook 03): Lab tensors of the Caltech-101 colour photos and of Kodak24.

After Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016 (Sec. 2), in miniature (issue 12). Training:
random windows of the 4,142 *training* photos of ``datasets/caltech_photos`` (:func:`caltech_training_lab`,
:func:`random_crop_batches`); the bin distribution of their pixels and its class-rebalancing weights
(:func:`caltech_training_prior`, Sec. 2.2). Scoring: the 460 *test* photos with their classes
(:func:`caltech_held_out`) and the 24 Kodak photographs (:func:`kodak_held_out`), never trained on. Input ``L`` in
[0, 100], target ``ab`` (:mod:`course_lib.color`, scikit-image's conversion); training targets at half resolution,
where the network predicts (:class:`course_lib.models.colorization.ColorizationNet`).

The loaders are cached (the same arguments return the same object): treat what they return as read-only.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import color


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
class HeldOutPhotos:
    """The held-out photos, whole, one entry per photo.

    Attributes:
        names: photo names (``"<class>/<index>"`` for the Caltech photos, the file names for Kodak24).
        rgb: ``uint8 H x W x 3`` each; L: ``1 x 1 x H x W`` each; ab: ``1 x 2 x H x W`` each (full resolution).
        labels, classes: ``int64 N`` class indices into ``classes`` where the photos have a known class
            (:func:`caltech_held_out`), else None.
    """

    names: tuple[str, ...]
    rgb: tuple[np.ndarray, ...]
    L: tuple[torch.Tensor, ...]
    ab: tuple[torch.Tensor, ...]
    labels: torch.Tensor | None = None
    classes: tuple[str, ...] | None = None


# ----------------------------------------------------------------------------- Caltech colour photos (issue 12)

def caltech_training_lab(photos: str = "caltech_photos") -> tuple[torch.Tensor, torch.Tensor]:
    """The Caltech colour-photo *training* split (:func:`course_lib.data.caltech.caltech_photos`, 4,142 photos
    128 x 128) in Lab: ``(L, ab)``, ``float32 N x 1 x 128 x 128`` in [0, 100] and ``N x 2 x 128 x 128`` in Lab
    units (:func:`course_lib.color.lab_tensors`, scikit-image). Cached (about 10 s and 0.8 GB the first time):
    treat as read-only. ``photos="caltech_photos_full"``: the full profile's uncapped set (6,476 photos,
    :func:`course_lib.data.caltech.photo_set`)."""
    return _training_lab(photos)


@functools.lru_cache(maxsize=2)
def _training_lab(photos: str) -> tuple[torch.Tensor, torch.Tensor]:
    from .caltech import photo_set

    images = photo_set("train", photos)[0].permute(0, 2, 3, 1).numpy()
    parts = [color.lab_tensors(images[i:i + 512]) for i in range(0, len(images), 512)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def caltech_training_prior(photos: str = "caltech_photos") -> tuple[torch.Tensor, torch.Tensor]:
    """``(prior, weights)`` of the training targets: the empirical distribution of the nearest ab bins of every
    pixel of the training split at the network's output resolution (64 x 64; ``float64 Q``,
    :func:`course_lib.color.bin_distribution`) and its class-rebalancing weights (``float32 Q``, Zhang et al.
    2016, Sec. 2.2, Eq. 4; :func:`course_lib.color.rebalancing_weights`). Cached; ``photos`` as for
    :func:`caltech_training_lab`."""
    return _training_prior(photos)


@functools.lru_cache(maxsize=2)
def _training_prior(photos: str) -> tuple[torch.Tensor, torch.Tensor]:
    bins = color.ab_bins()
    _, ab = caltech_training_lab(photos)
    counts = torch.zeros(len(bins), dtype=torch.float64)
    for i in range(0, len(ab), 64):
        counts += torch.bincount(color.quantize_ab(half_resolution(ab[i:i + 64]), bins).flatten(),
                                 minlength=len(bins)).double()
    prior = counts / counts.sum()
    return prior, color.rebalancing_weights(prior, bins)


def random_crop_batches(L: torch.Tensor, ab: torch.Tensor, crop: int, batch_size: int, seed: int = 0
                        ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless training batches: ``batch_size`` photos drawn at random (with replacement), a random
    ``crop x crop`` window of each, mirrored with probability 1/2, all from a generator seeded with ``seed``.

    Args:
        L, ab: ``N x 1 x H x W`` and ``N x 2 x H x W`` photos in Lab (e.g. :func:`caltech_training_lab`).
        crop: window side (pixels), a multiple of 4 and at most ``min(H, W)``.

    Yields:
        ``(L, ab)``: ``float32 B x 1 x crop x crop`` and ``B x 2 x crop/2 x crop/2`` (the target at the network's
        output resolution, :func:`half_resolution`).

    Raises:
        ValueError: ``crop`` not a multiple of 4 or larger than the photos; ``L`` and ``ab`` not aligned.
    """
    if crop % 4 or crop > min(L.shape[-2:]) or crop < 4:
        raise ValueError(f"crop must be a multiple of 4 between 4 and {min(L.shape[-2:])}, got {crop}")
    if L.ndim != 4 or L.shape[1] != 1 or ab.shape != (len(L), 2, *L.shape[-2:]):
        raise ValueError(f"expected L N x 1 x H x W and ab N x 2 x H x W, got {tuple(L.shape)} and {tuple(ab.shape)}")
    g = torch.Generator().manual_seed(seed)
    h, w = L.shape[-2:]
    while True:
        idx = torch.randint(len(L), (batch_size,), generator=g)
        ys = torch.randint(h - crop + 1, (batch_size,), generator=g)
        xs = torch.randint(w - crop + 1, (batch_size,), generator=g)
        flips = torch.rand(batch_size, generator=g) < 0.5
        Ls, abs_ = [], []
        for i, y, x, f in zip(idx.tolist(), ys.tolist(), xs.tolist(), flips.tolist()):
            l, c = L[i, :, y:y + crop, x:x + crop], ab[i, :, y:y + crop, x:x + crop]
            Ls.append(l.flip(-1) if f else l)
            abs_.append(c.flip(-1) if f else c)
        yield torch.stack(Ls), half_resolution(torch.stack(abs_))


@functools.lru_cache(maxsize=1)
def caltech_held_out() -> HeldOutPhotos:
    """The Caltech colour-photo *test* split (460 photos 128 x 128, never trained on) as :class:`HeldOutPhotos`,
    with their class labels (``labels``: ``int64 N``; ``classes``: the 95 class names) for the semantic test."""
    from .caltech import caltech_photos

    images, labels, classes = caltech_photos("test")
    rgb = images.permute(0, 2, 3, 1).numpy()
    L, ab = color.lab_tensors(rgb)
    names = tuple(f"{classes[k]}/{i}" for i, k in enumerate(labels.tolist()))
    return HeldOutPhotos(names, tuple(rgb), tuple(L[i:i + 1] for i in range(len(L))),
                         tuple(ab[i:i + 1] for i in range(len(ab))), labels, classes)


@functools.lru_cache(maxsize=2)
def kodak_held_out(image_side: int = 128) -> HeldOutPhotos:
    """The 24 Kodak photographs (:func:`course_lib.data.caltech.kodak24`; never trained on) resized so that the
    shorter side has ``image_side`` pixels (192 x 128 or 128 x 192 at the default), as :class:`HeldOutPhotos`."""
    from .caltech import KODAK_NAMES, kodak24

    rgb = tuple(resize_photo(im, image_side) for im in kodak24())
    labs = [color.lab_tensors(im[None]) for im in rgb]
    return HeldOutPhotos(tuple(KODAK_NAMES), rgb, tuple(t[0] for t in labs), tuple(t[1] for t in labs))


def held_out_from_images(source, image_side: int | None = 128) -> HeldOutPhotos:
    """Any colour photos as :class:`HeldOutPhotos`, for :func:`course_lib.experiments.colorization.evaluate_images`.

    Args:
        source: a folder, a list or dict of arrays / tensors, or a tensor batch ``N x 3 x H x W``
            (:func:`course_lib.data.images.read_images`; ``uint8`` or float in [0, 1]).
        image_side: resize so that the shorter side has this many pixels (:func:`resize_photo`; the stored
            networks saw 64-pixel windows of 128-pixel photos); ``None``: keep the size, cropped to multiples of 4.

    Raises:
        ValueError: a grey image (it has no colour to score), an image under 8 pixels on a side, or what
            :func:`~course_lib.data.images.read_images` raises.
    """
    from .images import read_images

    names, rgbs = [], []
    for name, im in read_images(source).items():
        if im.ndim != 3:
            raise ValueError(f"image {name!r} is grey: colorization is scored against the true colours of colour "
                             "photos")
        if min(im.shape[:2]) < 8:
            raise ValueError(f"image {name!r} ({im.shape[0]} x {im.shape[1]}) is too small: at least 8 pixels a side")
        im = np.clip(np.round(im * 255.0), 0, 255).astype(np.uint8)
        im = resize_photo(im, image_side) if image_side else im[:im.shape[0] // 4 * 4, :im.shape[1] // 4 * 4]
        names.append(name)
        rgbs.append(np.ascontiguousarray(im))
    labs = [color.lab_tensors(im[None]) for im in rgbs]
    return HeldOutPhotos(tuple(names), tuple(rgbs), tuple(t[0] for t in labs), tuple(t[1] for t in labs))
