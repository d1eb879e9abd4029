"""Reading the images a user wants scored: a folder, a list or dict of arrays, a tensor batch.

Shared by the restoration experiments (:func:`course_lib.experiments.super_resolution.evaluate_images`,
:func:`course_lib.experiments.denoising.denoise_table`), which then take the channel their benchmarks score.
Files are read with Pillow as stored: greyscale files stay grey (benchmarks mix grey and colour images, and
converting a grey file to R = G = B changes its luma score by about 1.3 dB).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

IMAGE_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")
"""File types :func:`read_images` reads from a folder (lossless formats are what benchmarks use)."""


def as_image(image, name: str = "image", keep_uint8: bool = False) -> np.ndarray:
    """One image as ``float64 H x W`` (grey) or ``H x W x 3`` (RGB) in [0, 1] (``uint8`` kept as it is with
    ``keep_uint8``).

    Args:
        image: a NumPy array or tensor ``H x W``, ``H x W x 1``, ``H x W x 3`` or ``C x H x W`` (C = 1 or 3);
            ``uint8`` (0-255), ``uint16`` (0-65535) or float in [0, 1].
        name: how error messages call it.

    Raises:
        ValueError: another shape (an alpha channel included), another dtype, float values outside [0, 1] or NaN.
    """
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
            image = image.permute(1, 2, 0)  # C x H x W -> H x W x C
        image = image.numpy()
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        raise ValueError(f"{name} has an alpha channel (H x W x 4): drop it first (image[..., :3])")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"{name} must be H x W (grey) or H x W x 3 / 3 x H x W (RGB), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.copy() if keep_uint8 else arr.astype(np.float64) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float64) / 65535.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} has dtype {arr.dtype}: pass uint8 (0-255), uint16 or float in [0, 1]")
    if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 1 or np.isnan(arr).any()):
        raise ValueError(f"{name} is float with values outside [0, 1] (min {np.nanmin(arr):.3g}, max "
                         f"{np.nanmax(arr):.3g}): divide 0-255 images by 255")
    return arr.astype(np.float64)


def read_images(source, *, keep_uint8: bool = False) -> dict[str, np.ndarray]:
    """Images by name, from whatever a user has.

    Args:
        source: a folder (every :data:`IMAGE_SUFFIXES` file in it, sorted by name, read with Pillow as stored:
            greyscale files stay grey), a list or dict of arrays / tensors (``H x W``, ``H x W x 3``,
            ``C x H x W``; uint8 0-255, uint16 or float in [0, 1]), or a tensor batch ``N x C x H x W`` (C = 1 or 3).
        keep_uint8: return ``uint8`` images as they are (for conversions that round to 8 bits, e.g. MATLAB's
            ``rgb2gray``), not as floats.

    Returns:
        ``{name: float64 H x W or H x W x 3 in [0, 1]}`` (names: file stems, dict keys, or ``"0"``, ``"1"``, ...).

    Raises:
        FileNotFoundError: a folder that does not exist.
        ValueError: an empty source, a folder without images, an image of an unusable shape, dtype or range.
    """
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise FileNotFoundError(f"no folder {folder}: pass a folder of images, a tensor batch or a list of arrays")
        from PIL import Image

        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        out = {}
        for p in files:
            with Image.open(p) as im:
                if im.mode in ("1", "LA"):
                    im = im.convert("L")  # grey stays grey (alpha dropped)
                elif im.mode not in ("L", "RGB") and not im.mode.startswith("I;16"):
                    im = im.convert("RGB")  # palette, RGBA (alpha dropped), CMYK, ...
                arr = np.asarray(im)
                out[p.stem] = as_image(arr.astype(np.uint16) if im.mode.startswith("I;16") else arr, str(p),
                                       keep_uint8)
        return out
    if isinstance(source, torch.Tensor):
        if source.ndim != 4 or source.shape[1] not in (1, 3):
            raise ValueError(f"a tensor batch must be N x C x H x W with C = 1 or 3, got {tuple(source.shape)}")
        source = list(source)
    if isinstance(source, dict):
        items = [(str(k), v) for k, v in source.items()]
    elif isinstance(source, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(source)]
    else:
        raise ValueError(f"read_images takes a folder, a list or dict of images, or an N x C x H x W tensor, "
                         f"got {type(source).__name__}")
    if not items:
        raise ValueError("no images given")
    return {name: as_image(v, f"image {name!r}", keep_uint8) for name, v in items}
