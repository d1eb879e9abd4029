"""Paired data for image restoration (notebook 10), made from the real photos that ship in the wheels.

Three degradations, each a pair ``(degraded, clean)``:

* super-resolution -- ``HR`` luma, shrunk by bicubic interpolation by ``scale`` and enlarged back
  by bicubic interpolation to the original size (the SRCNN input, Dong et al., TPAMI 2016, Sec. 3.1);
* denoising -- a grey image plus white Gaussian noise of standard deviation ``sigma`` on the 0-255
  scale (15, 25, 50 as in Zhang et al., IEEE TIP 2017), not clipped, as in that paper;
* inpainting -- an RGB image with a square hole in its centre (Pathak et al., CVPR 2016, Sec. 3.3
  "central region") and the full image.

**Split by photo.** Training patches come only from the photos of :data:`RESTORATION_SPLITS` ``"train"``
(the colour training photos of :data:`course_lib.data.photos.PHOTO_SPLITS` plus the greyscale
photos, for luma tasks); every score is measured on the four held-out colour photos (coffee, chelsea,
flower, grace_hopper), of which no pixel is ever trained on.

**Training batches** are endless, seeded iterators: :func:`augmented_batches` (random rows with replacement,
one random flip/rotation per batch) and, for blind denoising, :func:`noisy_batches` (a noise level per patch).
The test sets are :func:`sr_held_out` (super-resolution pairs), :func:`held_out_crops` (whole photos or centre
crops) and :func:`held_out_patches` (inpainting crops).

Bicubic resizing is PyTorch's ``F.interpolate(mode="bicubic", antialias=True)``: Keys' cubic with
a = -0.5 (the antialiased path follows Pillow; without ``antialias`` PyTorch uses a = -0.75) and, when
shrinking, a kernel widened by the scale -- the kernel of Pillow's bicubic and of MATLAB's ``imresize``.
Results are clipped to [0, 1]. Measured (December 2026): equal to Pillow's bicubic to 0.003/255 on average,
and on Set5 the bicubic PSNRs are within 0.03 dB of the SRCNN paper's; what remains is MATLAB rounding luma
and outputs to 8 bits (:func:`course_lib.experiments.super_resolution.evaluate_images` can do the same).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .photos import PHOTO_SPLITS, load_photo

GREY_PHOTOS = ("camera", "coins", "brick", "grass", "gravel")
"""Greyscale photos of scikit-image, used for training the luma/grey tasks (never evaluated on)."""

RESTORATION_SPLITS = {
    "train": tuple(PHOTO_SPLITS["train"]) + GREY_PHOTOS,
    "test": tuple(PHOTO_SPLITS["test"]),
}
"""Photos for training patches and held-out photos for evaluation (disjoint)."""

SIGMAS = (15, 25, 50)
"""Noise levels of the denoising experiment, standard deviation on the 0-255 scale."""


# ----------------------------------------------------------------------------- conversions

@lru_cache(maxsize=None)
def _luma_cached(name: str) -> np.ndarray:
    from ..metrics import rgb_to_y

    image = load_photo(name)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return (rgb_to_y(image) / 255.0).astype(np.float32)


def photo_luma(name: str) -> np.ndarray:
    """BT.601 luma of one photo (:func:`course_lib.metrics.rgb_to_y` / 255): ``float32 H x W`` in
    [16/255, 235/255]. Greyscale photos are taken as R = G = B. Cached."""
    return _luma_cached(name).copy()


@lru_cache(maxsize=None)
def _grey_cached(name: str) -> np.ndarray:
    from skimage.color import rgb2gray

    image = load_photo(name)
    grey = image.astype(np.float64) / 255.0 if image.ndim == 2 else rgb2gray(image)
    return grey.astype(np.float32)


def photo_grey(name: str) -> np.ndarray:
    """Full-range grey version of a photo (``skimage.color.rgb2gray``): ``float32 H x W`` in [0, 1]. Cached."""
    return _grey_cached(name).copy()


def modcrop(image, scale: int):
    """Crop the bottom and right edges so that height and width are multiples of ``scale``
    (works on ``H x W [x C]`` arrays and ``... x H x W`` tensors, by the last two axes for tensors)."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if isinstance(image, torch.Tensor):
        h, w = image.shape[-2:]
        return image[..., : h - h % scale, : w - w % scale]
    h, w = image.shape[:2]
    return image[: h - h % scale, : w - w % scale]


def bicubic_resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic resize of ``N x C x H x W`` float images in [0, 1] to ``size = (H', W')``, antialiased
    when shrinking, clipped to [0, 1]."""
    if images.ndim != 4:
        raise ValueError(f"expected N x C x H x W, got shape {tuple(images.shape)}")
    out = F.interpolate(images, size=tuple(size), mode="bicubic", align_corners=False, antialias=True)
    return out.clamp(0, 1)


def bicubic_degrade(hr: torch.Tensor, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The super-resolution pair's input: shrink ``hr`` by ``scale`` and enlarge it back, both bicubic.

    Args:
        hr: ``N x C x H x W`` float in [0, 1], ``H`` and ``W`` multiples of ``scale`` (see :func:`modcrop`).
        scale: 2, 3, 4, ...

    Returns:
        ``(lr, lr_up)``: ``N x C x H/scale x W/scale`` and ``N x C x H x W``, float in [0, 1].

    Raises:
        ValueError: if the size is not a multiple of ``scale``.
    """
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"image size {h} x {w} is not a multiple of the scale {scale}: modcrop it first")
    lr = bicubic_resize(hr, (h // scale, w // scale))
    return lr, bicubic_resize(lr, (h, w))


def add_noise(clean: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``clean + N(0, (sigma/255)^2)`` per pixel, not clipped (Zhang et al. 2017 add unclipped noise).

    Args:
        clean: float tensor in [0, 1], any shape.
        sigma: standard deviation on the 0-255 scale (e.g. 15, 25, 50).
        generator: for reproducible noise.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype)
    return clean + noise.to(clean.device) * (sigma / 255.0)


def center_mask(size: int, hole: int, batch: int = 1) -> torch.Tensor:
    """``float32 batch x 1 x size x size`` mask, 1 on the central ``hole x hole`` square (the pixels to
    fill), 0 elsewhere (Pathak et al. 2016, "central region" masks).

    Raises:
        ValueError: unless ``0 < hole < size``.
    """
    if not 0 < hole < size:
        raise ValueError(f"need 0 < hole < size, got hole={hole}, size={size}")
    m = torch.zeros(batch, 1, size, size)
    a = (size - hole) // 2
    m[:, :, a:a + hole, a:a + hole] = 1
    return m


def apply_mask(image: torch.Tensor, mask: torch.Tensor, fill: float = 0.5) -> torch.Tensor:
    """The Context Encoder's input: ``image`` with the masked pixels replaced by ``fill`` (mid-grey)."""
    return image * (1 - mask) + fill * mask


# ----------------------------------------------------------------------------- patches

def _random_patches(images: list[np.ndarray], size: int, n: int, rng: np.random.Generator, min_std: float,
                    weights: np.ndarray) -> list[tuple[int, int, int]]:
    """Positions ``(image, y, x)`` of ``n`` patches whose std is >= ``min_std`` (flat sky and black
    space teach nothing about edges; the rejection follows common SR practice, it is not SRCNN's)."""
    out, tries = [], 0
    while len(out) < n:
        tries += 1
        if tries > 200 * n:
            raise RuntimeError("could not find enough textured patches: lower min_std")
        i = int(rng.choice(len(images), p=weights))
        im = images[i]
        y = int(rng.integers(im.shape[0] - size + 1))
        x = int(rng.integers(im.shape[1] - size + 1))
        if min_std <= 0 or im[y:y + size, x:x + size].std() >= min_std:
            out.append((i, y, x))
    return out


def _area_weights(images: list[np.ndarray]) -> np.ndarray:
    a = np.array([np.sqrt(im.shape[0] * im.shape[1]) for im in images], dtype=np.float64)
    return a / a.sum()


def sr_patches(scale: int, n: int, size: int = 36, seed: int = 0, min_std: float = 0.03,
               photos: tuple[str, ...] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned super-resolution training patches ``(lr_up, hr)`` from the training photos' luma.

    Each whole photo is degraded once (:func:`bicubic_degrade` after :func:`modcrop`), then the same
    random windows are cut from the degraded and the original photo, so no patch has an artificial
    border. Photos are drawn with probability proportional to the square root of their area.

    Args:
        scale: upscaling factor.
        n: number of patches.
        size: patch side in HR pixels (the paper uses 33).
        seed: seeds the positions.
        min_std: patches of the HR luma with a smaller standard deviation are redrawn.
        photos: names of photos to use (default :data:`RESTORATION_SPLITS` ``"train"``).

    Returns:
        Two ``float32 n x 1 x size x size`` tensors in [0, 1]: bicubic input and ground truth.
    """
    photos = photos or RESTORATION_SPLITS["train"]
    hrs, ups = [], []
    for name in photos:
        hr = torch.from_numpy(modcrop(photo_luma(name), scale))[None, None]
        hrs.append(hr[0, 0].numpy())
        ups.append(bicubic_degrade(hr, scale)[1][0, 0].numpy())
    rng = np.random.default_rng(seed)
    pos = _random_patches(hrs, size, n, rng, min_std, _area_weights(hrs))
    x = np.stack([ups[i][y:y + size, x0:x0 + size] for i, y, x0 in pos])[:, None]
    t = np.stack([hrs[i][y:y + size, x0:x0 + size] for i, y, x0 in pos])[:, None]
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(t))


def grey_patches(n: int, size: int = 40, seed: int = 0, min_std: float = 0.02,
                 photos: tuple[str, ...] | None = None) -> torch.Tensor:
    """Clean grey training patches for denoising: ``float32 n x 1 x size x size`` in [0, 1]
    (:func:`photo_grey` of the training photos; noise is added at each training step)."""
    photos = photos or RESTORATION_SPLITS["train"]
    ims = [photo_grey(p) for p in photos]
    rng = np.random.default_rng(seed)
    pos = _random_patches(ims, size, n, rng, min_std, _area_weights(ims))
    return torch.from_numpy(np.stack([ims[i][y:y + size, x:x + size] for i, y, x in pos])[:, None].copy())


def colour_patches(n: int, size: int = 64, seed: int = 0, min_std: float = 0.03,
                   photos: tuple[str, ...] | None = None) -> torch.Tensor:
    """RGB training patches for inpainting: ``float32 n x 3 x size x size`` in [0, 1], from the colour
    training photos (:data:`course_lib.data.photos.PHOTO_SPLITS` ``"train"``)."""
    photos = photos or PHOTO_SPLITS["train"]
    ims = [load_photo(p).astype(np.float32) / 255.0 for p in photos]
    rng = np.random.default_rng(seed)
    pos = _random_patches(ims, size, n, rng, min_std, _area_weights(ims))
    arr = np.stack([ims[i][y:y + size, x:x + size] for i, y, x in pos]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(arr))


def augment(batch: torch.Tensor, *others: torch.Tensor, generator: torch.Generator | None = None):
    """The same random flip and 90-degree rotation (one of 8) applied to each tensor ``N x C x H x W``
    of a batch (whole batch at once). Returns a tuple of tensors (one per input)."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    flip = bool(torch.randint(0, 2, (1,), generator=generator))
    out = []
    for t in (batch, *others):
        t = torch.rot90(t, k, dims=(-2, -1))
        out.append(t.flip(-1) if flip else t)
    return tuple(out)


def augmented_batches(*tensors: torch.Tensor, batch_size: int, seed: int = 0,
                      generator: torch.Generator | None = None):
    """Endless training batches of aligned patches: ``batch_size`` rows drawn at random *with replacement*,
    then one random flip/rotation for the whole batch (:func:`augment`).

    Args:
        tensors: patches with the same first dimension, ``N x C x H x W`` (e.g. ``lr_up`` and ``hr``).
        batch_size: rows per batch.
        seed: seeds the draws (a ``torch.Generator``), unless ``generator`` is given.
        generator: a generator to draw from (shared with the caller, e.g. :func:`noisy_batches`).

    Yields:
        Tuples of ``len(tensors)`` tensors ``batch_size x C x H x W``.
    """
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(0, len(tensors[0]), (batch_size,), generator=g)
        yield augment(*(t[idx] for t in tensors), generator=g)


def noisy_batches(clean: torch.Tensor, batch_size: int, sigma_range: tuple[float, float], seed: int = 0):
    """Endless blind-denoising batches (the DnCNN-B setting of Zhang et al. 2017, Sec. IV-A): random
    augmented clean patches (:func:`augmented_batches`), each with its own noise level drawn uniformly from
    ``sigma_range`` (0-255 scale) and fresh white Gaussian noise, not clipped.

    Args:
        clean: ``N x 1 x H x W`` clean patches in [0, 1] (:func:`grey_patches`).
        batch_size: patches per batch.
        sigma_range: ``(low, high)`` noise standard deviations on the 0-255 scale.
        seed: seeds every draw (one ``torch.Generator`` for patches, levels and noise).

    Yields:
        ``(noisy, noise)``: two ``float32 batch_size x 1 x H x W`` tensors, ``noisy = clean + noise``.
    """
    g = torch.Generator().manual_seed(seed)
    lo, hi = sigma_range
    for (x,) in augmented_batches(clean, batch_size=batch_size, generator=g):
        sigma = lo + (hi - lo) * torch.rand(batch_size, 1, 1, 1, generator=g)
        noise = torch.randn(x.shape, generator=g) * sigma / 255.0
        yield x + noise, noise


# ----------------------------------------------------------------------------- held-out images

def held_out_crops(kind: str = "luma", crop: int | None = None) -> dict[str, np.ndarray]:
    """The held-out photos, whole or as a centred ``crop x crop`` window, by name.

    Args:
        kind: ``"luma"`` (:func:`photo_luma`), ``"grey"`` (:func:`photo_grey`), both ``float32 H x W``
            in [0, 1], or ``"rgb"`` (``float32 H x W x 3`` in [0, 1]).
        crop: side of the centred window (``None``: the whole photo).
    """
    out = {}
    for name in RESTORATION_SPLITS["test"]:
        if kind == "luma":
            im = photo_luma(name)
        elif kind == "grey":
            im = photo_grey(name)
        elif kind == "rgb":
            im = load_photo(name).astype(np.float32) / 255.0
        else:
            raise ValueError(f"kind must be 'luma', 'grey' or 'rgb', got {kind!r}")
        if crop is not None:
            h, w = im.shape[:2]
            if crop > min(h, w):
                raise ValueError(f"crop {crop} is larger than {name} ({h} x {w})")
            y, x = (h - crop) // 2, (w - crop) // 2
            im = im[y:y + crop, x:x + crop]
        out[name] = np.ascontiguousarray(im)
    return out


def sr_held_out(scale: int, crop: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The super-resolution test pairs: ``name -> (bicubic input, HR)`` luma of the held-out photos, each
    ``float32 H x W`` in [0, 1], ``H`` and ``W`` multiples of ``scale`` (:func:`modcrop`, then
    :func:`bicubic_degrade`); ``crop`` as in :func:`held_out_crops`."""
    out = {}
    for name, im in held_out_crops("luma", crop).items():
        hr = modcrop(im, scale)
        up = bicubic_degrade(torch.from_numpy(hr)[None, None], scale)[1][0, 0].numpy()
        out[name] = (up, hr)
    return out


def held_out_patches(size: int, n_per_photo: int, seed: int = 0, min_std: float = 0.03) -> torch.Tensor:
    """RGB test crops for inpainting: ``float32 N x 3 x size x size`` in [0, 1], ``n_per_photo`` from each
    held-out photo in turn, at random textured positions (the rule of :func:`colour_patches`; photo ``k``
    is drawn with ``numpy.random.default_rng(seed + 100 + k)``)."""
    out = []
    for k, name in enumerate(RESTORATION_SPLITS["test"]):
        im = load_photo(name).astype(np.float32) / 255.0
        pos = _random_patches([im], size, n_per_photo, np.random.default_rng(seed + 100 + k), min_std, np.ones(1))
        out += [im[y:y + size, x:x + size] for _, y, x in pos]
    return torch.from_numpy(np.stack(out).transpose(0, 3, 1, 2).copy())
