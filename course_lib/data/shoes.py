"""Edges -> shoes, offline: the course's small edges2shoes, made from real Fashion-MNIST photos.

The pix2pix edges2shoes set pairs shoe photos with edge maps drawn from them by an edge detector
(Isola et al. 2017, Sec. 4; edges by HED, Xie & Tu 2015). Here the photos are the three Fashion-MNIST
shoe classes -- sandal, sneaker, ankle boot -- and the edges come from ``skimage.feature.canny``:

* :func:`make_edges2shoes` -- the **paired** set (notebooks 06, 07): ``edges`` (input, A) and
  ``shoes`` (target, B), both ``N x 1 x 32 x 32`` in [-1, 1] (background -1; an edge pixel is +1),
  plus the shoe type (0 sandal, 1 sneaker, 2 ankle boot) that the recognizer score checks.
* :func:`make_unpaired_edges_shoes` -- the **unpaired** domains for CycleGAN (notebook 08): edges of
  one half of the training photos and the photos of the *other* half, so no edge map has its photo
  on the other side; the paired test split is kept as the held-out set on which CycleGAN is scored
  against pix2pix, its paired upper bound (Zhu et al. 2017, Sec. 5.1).

Training sets come from the Fashion-MNIST *train* split and held-out sets from its *test* split.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import Dataset

from .fashion_mnist import CLASSES, load_fashion_mnist

SHOE_CLASSES = (5, 7, 9)
"""Fashion-MNIST labels of the shoes: Sandal, Sneaker, Ankle boot."""
SHOE_NAMES = tuple(CLASSES[c] for c in SHOE_CLASSES)
SIZE = 32
"""Side of the images: the 28 x 28 photos padded with background by 2 pixels a side (a U-Net with 5
levels needs a multiple of 32)."""


def canny_edges(images: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Canny edge maps (Canny 1986) of greyscale images, by ``skimage.feature.canny``.

    Args:
        images: ``N x H x W`` uint8 in [0, 255] or float in [0, 1].
        sigma: width of the Gaussian smoothing in pixels (1.0 suits 28 x 28 photos).

    Returns:
        ``bool`` array ``N x H x W``, True on edge pixels.
    """
    from skimage.feature import canny

    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"expected N x H x W images, got shape {images.shape}")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    return np.stack([canny(im.astype(np.float64) / scale, sigma=sigma) for im in images]) if len(images) else \
        np.zeros(images.shape, bool)


@dataclass
class PairedShoes(Dataset):
    """Paired edges -> shoes. ``dataset[i]`` is ``(edges, shoe, shoe_type)``.

    Attributes:
        edges: ``N x 1 x 32 x 32`` float32, +1 on edges and -1 elsewhere (the input, domain A).
        shoes: ``N x 1 x 32 x 32`` float32 in [-1, 1] (the target, domain B).
        types: ``N`` int64 shoe type, 0 sandal / 1 sneaker / 2 ankle boot.
        labels: ``N`` int64 Fashion-MNIST label (5, 7 or 9).
    """

    edges: torch.Tensor
    shoes: torch.Tensor
    types: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.shoes)

    def __getitem__(self, i):
        return self.edges[i], self.shoes[i], self.types[i]


@lru_cache(maxsize=8)
def _paired_arrays(split: str, n: int | None, sigma: float):
    x, y = load_fashion_mnist(split)
    keep = np.flatnonzero(np.isin(y, SHOE_CLASSES))
    if n is not None:
        if n > len(keep):
            raise ValueError(f"the {split} split has only {len(keep)} shoes, asked for {n}")
        keep = keep[:n]
    photos, labels = x[keep], y[keep]
    edges = canny_edges(photos, sigma)
    return photos, edges, labels


def _to_tensor(a: np.ndarray, is_edge: bool) -> torch.Tensor:
    t = torch.from_numpy(a.astype(np.float32) if is_edge else a.astype(np.float32) / 255.0)[:, None]
    t = torch.nn.functional.pad(t, (2, 2, 2, 2))
    return t * 2 - 1


def make_edges2shoes(split: str = "train", n: int | None = None, sigma: float = 1.0) -> PairedShoes:
    """The paired edges -> shoes set of one split (shoes in the split's order).

    Args:
        split: ``"train"`` (18,000 shoes) or ``"test"`` (3,000).
        n: keep the first ``n`` shoes (all when None).
        sigma: Canny's smoothing (see :func:`canny_edges`).

    Raises:
        ValueError: for an unknown split or ``n`` larger than the split.
    """
    photos, edges, labels = _paired_arrays(split, n, float(sigma))
    labels_t = torch.from_numpy(labels.astype(np.int64))
    types = torch.tensor([SHOE_CLASSES.index(int(c)) for c in labels], dtype=torch.int64)
    return PairedShoes(_to_tensor(edges, True), _to_tensor(photos, False), types, labels_t)


@dataclass
class UnpairedShoes:
    """Two unpaired training domains and a paired held-out set.

    Attributes:
        a: ``N_a x 1 x 32 x 32`` edge maps (domain A) of training photos ``0 .. N_a-1`` (shuffled).
        b: ``N_b x 1 x 32 x 32`` shoe photos (domain B) of *other* training photos.
        b_types: shoe types of ``b``.
        test: the paired test split (:class:`PairedShoes`): CycleGAN and pix2pix are scored on it.
    """

    a: torch.Tensor
    b: torch.Tensor
    b_types: torch.Tensor
    test: PairedShoes


def make_unpaired_edges_shoes(n_train: int = 4000, n_test: int = 500, seed: int = 0, sigma: float = 1.0) -> UnpairedShoes:
    """Unpaired edges and shoes: the first ``n_train`` training shoes are shuffled and split in two
    halves; domain A gets the edge maps of the first half, domain B the photos of the second, so the
    pairs are broken (no photo's own edges are in A). ``n_test`` paired test shoes are held out.

    Raises:
        ValueError: for ``n_train < 2`` or sizes beyond the splits.
    """
    if n_train < 2:
        raise ValueError(f"n_train must be >= 2, got {n_train}")
    train = make_edges2shoes("train", n_train, sigma)
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(seed))
    half = n_train // 2
    ia, ib = order[:half], order[half:]
    return UnpairedShoes(train.edges[ia], train.shoes[ib], train.types[ib], make_edges2shoes("test", n_test, sigma))
