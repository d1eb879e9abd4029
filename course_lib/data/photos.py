"""Real photographs that ship inside the installed wheels (no download, no bundling).

=====================  ==========================  ============================================
name                   package                     licence (from the package's documentation)
=====================  ==========================  ============================================
astronaut              scikit-image ``data``       public domain (NASA)
coffee                 scikit-image ``data``       CC0 (Rachel Michetti)
chelsea                scikit-image ``data``       CC0 (Stefan van der Walt)
rocket                 scikit-image ``data``       public domain (SpaceX)
immunohistochemistry   scikit-image ``data``       no known copyright restrictions
retina                 scikit-image ``data``       CC0 1.0
hubble_deep_field      scikit-image ``data``       public domain (NASA)
camera (grey)          scikit-image ``data``       CC0 (Lav Varshney)
coins (grey)           scikit-image ``data``       no known copyright restrictions
brick, grass, gravel   scikit-image ``data``       CC0 (CC0Textures), greyscale textures
china                  scikit-learn sample images  CC BY 2.0, danielbuechele on Flickr
flower                 scikit-learn sample images  CC BY 2.0, vultilion on Flickr
grace_hopper           matplotlib sample data      public domain (U.S. Navy)
=====================  ==========================  ============================================

``PHOTO_SPLITS`` fixes which colour photos are for training (crops) and which
are held out for evaluation, so that no notebook evaluates on a photo it trained on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class PhotoInfo:
    name: str
    package: str
    licence: str
    colour: bool


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load():
        import skimage.data

        return getattr(skimage.data, name)()
    return load


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def load():
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)
    return load


def _grace_hopper() -> np.ndarray:
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(matplotlib.image.imread(f, format="jpg"))


_SK = "scikit-image (skimage.data)"
_PHOTOS: dict[str, tuple[PhotoInfo, Callable[[], np.ndarray]]] = {
    info.name: (info, loader) for info, loader in [
        (PhotoInfo("astronaut", _SK, "public domain (NASA)", True), _skimage("astronaut")),
        (PhotoInfo("coffee", _SK, "CC0 (Rachel Michetti)", True), _skimage("coffee")),
        (PhotoInfo("chelsea", _SK, "CC0 (Stefan van der Walt)", True), _skimage("chelsea")),
        (PhotoInfo("rocket", _SK, "public domain (SpaceX)", True), _skimage("rocket")),
        (PhotoInfo("immunohistochemistry", _SK, "no known copyright restrictions", True),
         _skimage("immunohistochemistry")),
        (PhotoInfo("retina", _SK, "CC0 1.0", True), _skimage("retina")),
        (PhotoInfo("hubble_deep_field", _SK, "public domain (NASA)", True), _skimage("hubble_deep_field")),
        (PhotoInfo("camera", _SK, "CC0 (Lav Varshney)", False), _skimage("camera")),
        (PhotoInfo("coins", _SK, "no known copyright restrictions", False), _skimage("coins")),
        (PhotoInfo("brick", _SK, "CC0 (CC0Textures)", False), _skimage("brick")),
        (PhotoInfo("grass", _SK, "CC0 (CC0Textures)", False), _skimage("grass")),
        (PhotoInfo("gravel", _SK, "CC0 (CC0Textures)", False), _skimage("gravel")),
        (PhotoInfo("china", "scikit-learn (load_sample_image)", "CC BY 2.0, danielbuechele on Flickr", True),
         _sklearn("china.jpg")),
        (PhotoInfo("flower", "scikit-learn (load_sample_image)", "CC BY 2.0, vultilion on Flickr", True),
         _sklearn("flower.jpg")),
        (PhotoInfo("grace_hopper", "matplotlib (sample data)", "public domain (U.S. Navy)", True), _grace_hopper),
    ]
}

PHOTO_SPLITS = {
    "train": ("astronaut", "rocket", "immunohistochemistry", "retina", "hubble_deep_field", "china"),
    "test": ("coffee", "chelsea", "flower", "grace_hopper"),
}
"""Colour photos for training (random crops) and held out for evaluation; disjoint."""


def list_photos(colour_only: bool = False) -> list[PhotoInfo]:
    """Every available photo with its source package and licence."""
    return [info for info, _ in _PHOTOS.values() if info.colour or not colour_only]


def load_photo(name: str) -> np.ndarray:
    """Load one photo as a ``uint8`` array in [0, 255]: ``H x W x 3`` (colour) or ``H x W`` (grey).

    Raises:
        KeyError: for an unknown name; the message lists the known ones.
    """
    if name not in _PHOTOS:
        raise KeyError(f"unknown photo {name!r}; available: {', '.join(sorted(_PHOTOS))}")
    image = np.asarray(_PHOTOS[name][1]())
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8) if image.dtype.kind == "f" else image.astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    return image


def load_photos(split: str) -> dict[str, np.ndarray]:
    """The colour photos of one split of :data:`PHOTO_SPLITS` (``"train"`` or ``"test"``), by name."""
    if split not in PHOTO_SPLITS:
        raise ValueError(f"split must be one of {tuple(PHOTO_SPLITS)}, got {split!r}")
    return {name: load_photo(name) for name in PHOTO_SPLITS[split]}


def random_crops(images, size: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` random ``size x size`` crops drawn uniformly from a list of images.

    Args:
        images: sequence of ``H x W [x C]`` arrays, each at least ``size`` on both sides.
        size: crop side in pixels.
        n: number of crops.
        seed: seed of NumPy's generator (same seed, same crops).

    Returns:
        Array ``n x size x size [x C]`` of the images' dtype.
    """
    images = list(images.values()) if isinstance(images, dict) else list(images)
    for i, im in enumerate(images):
        if im.shape[0] < size or im.shape[1] < size:
            raise ValueError(f"image {i} of shape {im.shape} is smaller than the crop size {size}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        im = images[rng.integers(len(images))]
        y = rng.integers(im.shape[0] - size + 1)
        x = rng.integers(im.shape[1] - size + 1)
        out.append(im[y:y + size, x:x + size])
    return np.stack(out)
