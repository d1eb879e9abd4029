"""Canvases of several Fashion-MNIST garments, labelled per pixel (notebook 02).

A real per-pixel labelling task built from real images: each canvas is a black
``size x size`` square on which a few 28 x 28 Fashion-MNIST items
(Xiao, Rasul & Vollgraf 2017, bundled in ``datasets/fashion-mnist/``) are
pasted at random positions. Every pixel gets one of :data:`NUM_CLASSES` labels:

* ``0`` -- background;
* ``1 + c`` -- garment class ``c`` of :data:`course_lib.data.FASHION_MNIST_CLASSES`
  (``1`` T-shirt/top, ..., ``10`` Ankle boot).

With ``classes=(c_1, ..., c_K)`` only items of those Fashion-MNIST classes are
drawn and labels are ``1 + k`` for the ``k``-th listed class, so there are
``K + 1`` labels (see :attr:`Canvases.class_names`).

How an item is pasted: its pixels brighter than ``threshold`` (intensity in
[0, 1], i.e. ``uint8 > threshold * 255``) are its *mask*; they overwrite the
canvas and its labels. Its darker pixels are transparent. Items are pasted in
order, so later items occlude earlier ones. Hence, on every canvas:

* ``labels > 0`` exactly where ``images > threshold``, and
* ``images == 0`` wherever ``labels == 0``.

Training canvases are drawn from the Fashion-MNIST *train* split; held-out
canvases must use the *test* split (``split="test"``), so that no garment seen
in training appears in evaluation.

Example::

    from course_lib.data.canvas import make_canvases
    train = make_canvases("train", n=2000, size=64, items=(2, 4), seed=0)
    test = make_canvases("test", n=200, size=64, items=(2, 4), seed=1)
    train.images.shape, train.labels.shape   # (2000, 1, 64, 64), (2000, 64, 64)

:class:`PatchSampler` cuts random patches out of canvases, labelled with their centre pixel: the
training data of notebook 02's sliding-window classifier.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from .fashion_mnist import CLASSES, load_fashion_mnist

ITEM_SIZE = 28
"""Side of one Fashion-MNIST item in pixels."""

BACKGROUND = 0
"""Label of background pixels."""

CANVAS_CLASSES = ("background",) + tuple(CLASSES)
"""Names of the canvas labels with all ten garment classes: index 0 is the background, ``1 + c``
the Fashion-MNIST class ``c``."""

NUM_CLASSES = len(CANVAS_CLASSES)
"""Number of per-pixel labels with all ten garment classes (11)."""

ALL_CLASSES = tuple(range(len(CLASSES)))
"""The ten Fashion-MNIST class indices."""

DEFAULT_THRESHOLD = 0.1
"""Intensity (in [0, 1]) above which an item's pixel belongs to the item."""


@dataclass(frozen=True)
class Canvases:
    """A set of labelled canvases and a record of how each was made.

    Attributes:
        images: ``float32`` tensor ``N x 1 x size x size`` in [0, 1] (0 = black background).
        labels: ``int64`` tensor ``N x size x size`` in ``[0, num_classes)``.
        source_index: ``int64`` tensor ``N x K`` (``K`` = most items per canvas): index into the
            Fashion-MNIST ``split`` of each pasted item, in paste order; ``-1`` pads canvases with
            fewer items.
        source_class: ``int64`` tensor ``N x K``: Fashion-MNIST class (0-9) of each item; ``-1`` pads.
        positions: ``int64`` tensor ``N x K x 2``: ``(top, left)`` corner of each item; ``-1`` pads.
        split: Fashion-MNIST split the items come from, ``"train"`` or ``"test"``.
        threshold: the mask threshold used, in [0, 1].
        seed: the seed that made the set.
        classes: the Fashion-MNIST classes drawn from; label ``1 + k`` is ``classes[k]``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    source_index: torch.Tensor
    source_class: torch.Tensor
    positions: torch.Tensor
    split: str
    threshold: float
    seed: int
    classes: tuple[int, ...] = ALL_CLASSES

    @property
    def num_classes(self) -> int:
        """Number of labels, background included: ``1 + len(classes)``."""
        return 1 + len(self.classes)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Name of each label: ``"background"``, then the names of :attr:`classes`."""
        return ("background",) + tuple(CLASSES[c] for c in self.classes)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        """Side of the canvases in pixels."""
        return int(self.images.shape[-1])

    def dataset(self) -> TensorDataset:
        """A ``TensorDataset`` of ``(image 1 x S x S float32, labels S x S int64)`` pairs."""
        return TensorDataset(self.images, self.labels)

    def subset(self, n: int) -> "Canvases":
        """The first ``n`` canvases (a view, same split, threshold and seed)."""
        if not 0 < n <= len(self):
            raise ValueError(f"n must be in [1, {len(self)}], got {n}")
        return Canvases(self.images[:n], self.labels[:n], self.source_index[:n], self.source_class[:n],
                        self.positions[:n], self.split, self.threshold, self.seed, self.classes)

    def class_pixel_counts(self) -> torch.Tensor:
        """Pixels per label, ``int64`` tensor ``num_classes`` (background first)."""
        return torch.bincount(self.labels.flatten(), minlength=self.num_classes)


def make_canvases(split: str = "train", n: int = 1000, size: int = 64, items: tuple[int, int] = (2, 4),
                  seed: int = 0, threshold: float = DEFAULT_THRESHOLD, limit: int | None = None,
                  classes: Sequence[int] | None = None) -> Canvases:
    """Make ``n`` canvases of Fashion-MNIST garments with per-pixel labels.

    For each canvas, draws a number of items uniformly in ``[items[0], items[1]]``, each a
    uniformly random image of the split (among those of ``classes``), pasted with its top-left corner uniform in
    ``[0, size - 28]`` (items lie wholly inside the canvas and may overlap). Pasting rules and
    labels are described in the module docstring. Randomness comes only from
    ``numpy.random.default_rng(seed)``, so the same arguments always give the same canvases,
    whatever the global seeds.

    Args:
        split: ``"train"`` for training canvases, ``"test"`` for held-out ones.
        n: number of canvases (>= 1).
        size: canvas side in pixels (>= 28). The course's networks need a multiple of 8.
        items: ``(min, max)`` items per canvas, ``0 <= min <= max``.
        seed: non-negative integer.
        threshold: mask threshold on item intensities, in [0, 1).
        limit: draw items only from the split's first ``limit`` images (``None``: all of them).
        classes: distinct Fashion-MNIST class indices (0-9) to draw items from, in label order;
            ``None`` for all ten.

    Returns:
        :class:`Canvases` -- ``images`` ``float32 N x 1 x size x size`` in [0, 1], ``labels``
        ``int64 N x size x size`` in ``[0, 1 + len(classes))``, plus the record of what was
        pasted where.

    Raises:
        ValueError: for an unknown split or an out-of-range argument.
        DatasetError: if the bundled Fashion-MNIST files are missing or corrupt.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if int(size) != size or size < ITEM_SIZE:
        raise ValueError(f"size must be an integer >= {ITEM_SIZE} (one item must fit), got {size!r}")
    lo, hi = items
    if not (0 <= lo <= hi):
        raise ValueError(f"items must be (min, max) with 0 <= min <= max, got {items!r}")
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    classes = ALL_CLASSES if classes is None else tuple(int(c) for c in classes)
    if not classes or len(set(classes)) != len(classes) or not set(classes) <= set(ALL_CLASSES):
        raise ValueError(f"classes must be distinct Fashion-MNIST class indices in 0-9, got {classes!r}")
    n, size = int(n), int(size)

    all_images, all_labels = load_fashion_mnist(split, limit)
    pool = np.flatnonzero(np.isin(all_labels, classes))  # indices into the split that may be drawn
    if len(pool) == 0:
        raise ValueError("limit leaves no image of the chosen classes to draw items from")
    label_of = np.zeros(len(CLASSES), dtype=np.int64)
    label_of[list(classes)] = 1 + np.arange(len(classes))
    rng = np.random.default_rng(seed)
    counts = rng.integers(lo, hi + 1, size=n)
    k = max(int(hi), 1)
    source_index = np.full((n, k), -1, dtype=np.int64)
    positions = np.full((n, k, 2), -1, dtype=np.int64)
    for i, c in enumerate(counts):
        source_index[i, :c] = pool[rng.integers(0, len(pool), size=c)]
        positions[i, :c] = rng.integers(0, size - ITEM_SIZE + 1, size=(c, 2))

    images = np.zeros((n, size, size), dtype=np.uint8)
    labels = np.zeros((n, size, size), dtype=np.int64)
    cut = threshold * 255.0
    for i, c in enumerate(counts):
        for j in range(c):
            item = all_images[source_index[i, j]]
            top, left = positions[i, j]
            mask = item > cut
            win = (slice(top, top + ITEM_SIZE), slice(left, left + ITEM_SIZE))
            images[i][win][mask] = item[mask]
            labels[i][win][mask] = label_of[all_labels[source_index[i, j]]]
    source_class = np.where(source_index >= 0, all_labels[np.clip(source_index, 0, None)], -1)

    return Canvases(
        images=torch.from_numpy(images.astype(np.float32) / 255.0)[:, None],
        labels=torch.from_numpy(labels),
        source_index=torch.from_numpy(source_index),
        source_class=torch.from_numpy(source_class.astype(np.int64)),
        positions=torch.from_numpy(positions),
        split=split,
        threshold=float(threshold),
        seed=int(seed),
        classes=classes,
    )


class PatchSampler:
    """An endless stream of random ``(patches, centre labels)`` batches from a set of canvases.

    Each batch draws ``batch_size`` pixels uniformly over all canvases and positions (so classes
    appear as often as in the per-pixel loss of the dense models) and cuts the
    ``patch_size x patch_size`` patch centred on each, with zero padding at the border -- the
    same patches :meth:`course_lib.models.dense.SlidingWindowClassifier.segment` classifies.
    Patchwise training is "loss sampling" (Long, Shelhamer & Darrell, CVPR 2015, sec. 3.4).

    Args:
        canvases: the canvases to cut from.
        patch_size: odd side of the patches.
        batch_size: patches per batch.
        seed: seeds the sampler's own generator (the global seeds play no part).

    Yields:
        ``patches`` ``float32 B x 1 x p x p`` in [0, 1] and ``labels`` ``int64 B`` in
        ``[0, canvases.num_classes)``.

    Raises:
        ValueError: for an even ``patch_size``.
    """

    def __init__(self, canvases: Canvases, patch_size: int, batch_size: int, seed: int = 0):
        if patch_size % 2 != 1:
            raise ValueError(f"patch_size must be odd, got {patch_size}")
        r = patch_size // 2
        self.padded = F.pad(canvases.images, (r, r, r, r))
        self.labels = canvases.labels
        self.patch_size, self.batch_size = patch_size, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch (see the class docstring)."""
        n, h, w = self.labels.shape
        g, b, p = self.generator, self.batch_size, self.patch_size
        idx = torch.randint(0, n, (b,), generator=g)
        ys = torch.randint(0, h, (b,), generator=g)
        xs = torch.randint(0, w, (b,), generator=g)
        offs = torch.arange(p)
        rows = (ys[:, None] + offs)[:, :, None]          # B x p x 1 (padded coordinates)
        cols = (xs[:, None] + offs)[:, None, :]          # B x 1 x p
        patches = self.padded[idx[:, None, None], 0, rows, cols][:, None]
        return patches, self.labels[idx, ys, xs]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield self.sample()
