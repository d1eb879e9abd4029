"""Paired data for image restoration (notebook 10), made from the Caltech-101 colour photographs that ship in
``datasets/caltech_photos`` (:func:`course_lib.data.caltech.caltech_photos`: 4,142 training and 460 test photos,
128 x 128); the scores of notebook 10 are measured on their test split and on Kodak24, never trained on.

Three degradations, each a pair ``(degraded, clean)``:

* super-resolution -- ``HR`` luma, shrunk by bicubic interpolation by ``scale`` and enlarged back
  by bicubic interpolation to the original size (the SRCNN input, Dong et al., TPAMI 2016, Sec. 3.1):
  :func:`caltech_sr_pairs`, cut into training windows by :func:`sr_crop_batches`;
* denoising -- a grey image plus white Gaussian noise of standard deviation ``sigma`` on the 0-255
  scale (15, 25, 50 as in Zhang et al., IEEE TIP 2017), not clipped, as in that paper (:func:`add_noise`;
  the training batches are :func:`course_lib.experiments.denoising.crop_batches`);
* inpainting -- an RGB image with a square hole in its centre (Pathak et al., CVPR 2016, Sec. 3.3
  "central region") and the full image: :func:`caltech_small`, :func:`inpainting_crop_batches`,
  :func:`inpainting_held_out`, :func:`center_mask`, :func:`apply_mask`.

The wheel photos (:func:`photo_luma`, :func:`photo_grey`) remain for quick examples, not for training.

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

from .photos import load_photo

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


# ----------------------------------------------------------------------------- the Caltech colour-photo set

@lru_cache(maxsize=3)  # train and test of the bundled set, train of the full one
def _caltech_luma_cached(split: str, photos: str) -> torch.Tensor:
    from ..metrics import rgb_to_y
    from .caltech import photo_set

    rgb = photo_set(split, photos)[0].permute(0, 2, 3, 1).numpy()           # N x 128 x 128 x 3 uint8
    n, h, w, _ = rgb.shape
    # MATLAB's rgb2ycbcr on uint8, 64 photos per call (stacked as one tall image)
    y = np.concatenate([np.round(rgb_to_y(rgb[i:i + 64].reshape(-1, w, 3))) for i in range(0, n, 64)])
    return torch.from_numpy(y.astype(np.uint8).reshape(n, 1, h, w))


def caltech_luma(split: str = "train", photos: str = "caltech_photos") -> torch.Tensor:
    """BT.601 studio-scale luma (:func:`course_lib.metrics.rgb_to_y`, rounded to 8 bits as MATLAB's
    ``rgb2ycbcr`` does on ``uint8`` images) of the Caltech-101 colour-photo set's ``split``
    (:func:`course_lib.data.caltech.caltech_photos`; ``photos="caltech_photos_full"``: the full profile's uncapped
    set, :func:`course_lib.data.caltech.photo_set`): ``uint8 N x 1 x 128 x 128`` in [16, 235]. Cached.

    Raises:
        ValueError: a split other than ``"train"`` / ``"test"``; DatasetError: a missing or corrupt set.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return _caltech_luma_cached(split, photos).clone()


@lru_cache(maxsize=3)
def _caltech_sr_cached(split: str, scale: int, photos: str) -> tuple[torch.Tensor, torch.Tensor]:
    hr = modcrop(_caltech_luma_cached(split, photos), scale).to(torch.float32) / 255.0
    up = torch.cat([bicubic_degrade(hr[i:i + 512], scale)[1] for i in range(0, len(hr), 512)])
    return torch.round(up * 255.0).to(torch.uint8), torch.round(hr * 255.0).to(torch.uint8)


def caltech_sr_pairs(scale: int, split: str = "train", photos: str = "caltech_photos"
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole-photo super-resolution pairs of the Caltech colour-photo set: ``(bicubic input, HR)``, both
    ``uint8 N x 1 x S x S`` luma (``S`` = 128 cropped to a multiple of ``scale``: 128, 126, 128 for x2, x3, x4).

    Each photo's luma (:func:`caltech_luma`) is shrunk by ``scale`` and enlarged back, bicubic both ways
    (:func:`bicubic_degrade`), and rounded to 8 bits, as the benchmarks' MATLAB code does with ``uint8`` images.
    Degrading whole photos, then cutting windows (:func:`sr_crop_batches`), gives patches without artificial
    borders (Dong et al. 2016, Sec. 4.1 cut their 33 x 33 sub-images the same way). Cached per split and scale.
    ``photos``: the set (:func:`course_lib.data.caltech.photo_set`; the full profile's is ``"caltech_photos_full"``).

    Raises:
        ValueError: a scale < 2 or a split other than ``"train"`` / ``"test"``.
    """
    if int(scale) != scale or scale < 2:
        raise ValueError(f"scale must be an integer >= 2, got {scale!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    up, hr = _caltech_sr_cached(split, int(scale), photos)
    return up.clone(), hr.clone()


def sr_crop_batches(up: torch.Tensor, hr: torch.Tensor, batch_size: int, patch_size: int, seed: int = 0,
                    min_std: float = 0.03):
    """Endless super-resolution training batches cut from whole aligned photos.

    Each patch: a random photo, a random ``patch_size`` window (redrawn, up to 10 times, while the HR window's
    standard deviation is below ``min_std``: plain white backgrounds teach nothing about edges -- common SR
    practice, not SRCNN's), and one of the 8 flips / 90-degree rotations, the same for input and target.

    Args:
        up, hr: ``uint8 N x 1 x H x W`` (or float in [0, 1]) bicubic inputs and HR photos (:func:`caltech_sr_pairs`).
        batch_size, patch_size: patches per batch and their side in HR pixels (<= H, W).
        seed: seeds every draw (one ``torch.Generator``).
        min_std: on the [0, 1] scale.

    Yields:
        ``(x, y)``: ``float32 batch_size x 1 x patch_size x patch_size`` in [0, 1], bicubic input and target.

    Raises:
        ValueError: tensors of different shapes, a patch larger than the photos, or an empty set.
    """
    if up.shape != hr.shape:
        raise ValueError(f"inputs and targets differ in shape: {tuple(up.shape)} vs {tuple(hr.shape)}")
    n, _, h, w = hr.shape
    if n == 0 or patch_size > min(h, w):
        raise ValueError(f"need photos of at least {patch_size} x {patch_size}, got {tuple(hr.shape)}")
    scale = 255.0 if hr.dtype == torch.uint8 else 1.0
    g = torch.Generator().manual_seed(seed)
    while True:
        xs, ys = [], []
        for _ in range(batch_size):
            for _ in range(10):
                i = int(torch.randint(0, n, (1,), generator=g))
                r = int(torch.randint(0, h - patch_size + 1, (1,), generator=g))
                c = int(torch.randint(0, w - patch_size + 1, (1,), generator=g))
                t = hr[i, :, r:r + patch_size, c:c + patch_size].to(torch.float32) / scale
                if float(t.std()) >= min_std:
                    break
            m = int(torch.randint(0, 8, (1,), generator=g))
            pair = [torch.rot90(a, m % 4, dims=(-2, -1)) for a in (up[i, :, r:r + patch_size, c:c + patch_size], t)]
            if m >= 4:
                pair = [a.flip(-1) for a in pair]
            xs.append(pair[0].to(torch.float32) / scale)
            ys.append(pair[1])
        yield torch.stack(xs), torch.stack(ys)


@lru_cache(maxsize=3)
def _caltech_small_cached(split: str, side: int, photos: str) -> torch.Tensor:
    from .caltech import photo_set

    images = photo_set(split, photos)[0]
    out = [bicubic_resize(images[i:i + 512].to(torch.float32) / 255.0, (side, side)) for i in range(0, len(images), 512)]
    return torch.round(torch.cat(out) * 255.0).to(torch.uint8)


def caltech_small(split: str = "train", side: int = 80, photos: str = "caltech_photos") -> torch.Tensor:
    """The Caltech-101 colour-photo set's ``split`` shrunk from 128 to ``side`` pixels (:func:`bicubic_resize`,
    antialiased, rounded to 8 bits): ``uint8 N x 3 x side x side``. The inpainting images are ``size``-pixel
    windows of these (:func:`inpainting_crop_batches` for training, :func:`inpainting_held_out` for testing):
    most of the object in view, as in the Context Encoder's central-region setting. Cached.

    Raises:
        ValueError: a split other than ``"train"`` / ``"test"`` or a side outside [8, 128].
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not 8 <= int(side) <= 128:
        raise ValueError(f"side must be in [8, 128] pixels, got {side}")
    return _caltech_small_cached(split, int(side), photos).clone()


def inpainting_crop_batches(photos: torch.Tensor, batch_size: int, size: int, seed: int = 0):
    """Endless inpainting training batches: random ``size x size`` windows of random photos, each mirrored
    left-right half the time (no rotations: skies stay up, as in the test photos).

    Args:
        photos: ``uint8 N x 3 x H x W`` (:func:`caltech_small`) or float in [0, 1], ``H, W >= size``.
        batch_size, size: windows per batch and their side (pixels).
        seed: seeds every draw (one ``torch.Generator``).

    Yields:
        ``float32 batch_size x 3 x size x size`` in [0, 1].

    Raises:
        ValueError: windows larger than the photos, or an empty set.
    """
    n, _, h, w = photos.shape
    if n == 0 or size > min(h, w):
        raise ValueError(f"need photos of at least {size} x {size}, got {tuple(photos.shape)}")
    scale = 255.0 if photos.dtype == torch.uint8 else 1.0
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(0, n, (batch_size,), generator=g)
        ys = torch.randint(0, h - size + 1, (batch_size,), generator=g)
        xs = torch.randint(0, w - size + 1, (batch_size,), generator=g)
        flips = torch.rand(batch_size, generator=g) < 0.5
        out = []
        for i, y, x, f in zip(idx.tolist(), ys.tolist(), xs.tolist(), flips.tolist()):
            p = photos[i, :, y:y + size, x:x + size]
            out.append(p.flip(-1) if f else p)
        yield torch.stack(out).to(torch.float32) / scale


def inpainting_held_out(size: int = 64, side: int = 80, every: int = 1) -> torch.Tensor:
    """The inpainting test images: the centred ``size x size`` window of every ``every``-th Caltech *test* photo
    shrunk to ``side`` (:func:`caltech_small`), ``float32 N x 3 x size x size`` in [0, 1] (460 at ``every=1``).

    Raises:
        ValueError: ``size > side`` or ``every < 1``.
    """
    if size > side or every < 1:
        raise ValueError(f"need size <= side and every >= 1, got size={size}, side={side}, every={every}")
    photos = caltech_small("test", side)[::every]
    a = (side - size) // 2
    return photos[:, :, a:a + size, a:a + size].to(torch.float32) / 255.0
