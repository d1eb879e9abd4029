"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), bundled in ``datasets/fashion-mnist/``.

60,000 training and 10,000 test greyscale images, 28 x 28, ten garment classes.
Licence: MIT (Expat), (c) 2017 Zalando SE -- see ``datasets/fashion-mnist/COPYRIGHT``.
Every file is checked against ``SHA256SUMS`` before it is read.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .paths import DatasetError, dataset_dir

CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
"""Class names, indexed by label (0-9), as in the dataset's README."""

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SOURCE_URL = "https://github.com/zalandoresearch/fashion-mnist/tree/master/data/fashion"


def _folder() -> Path:
    return dataset_dir("fashion-mnist")


def _expected_sums(folder: Path) -> dict[str, str]:
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        raise DatasetError(
            f"{sums_file} is missing, so the Fashion-MNIST files cannot be verified. Restore it with "
            f"`git checkout -- datasets/fashion-mnist/SHA256SUMS` from the course repository."
        )
    sums = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name.lstrip("*")] = digest
    return sums


def _restore_hint(name: str, folder: Path) -> str:
    return (
        f"Restore it with `git checkout -- datasets/fashion-mnist/{name}` in the course repository, "
        f"or download {name} from {SOURCE_URL} and save it as {folder / name}."
    )


def verify_file(name: str) -> Path:
    """Check one bundled file against its sha256 and return its path.

    Raises:
        DatasetError: if the file is missing or its sha256 differs; the message
            names the file and says how to restore it.
    """
    folder = _folder()
    path = folder / name
    expected = _expected_sums(folder).get(name)
    if expected is None:
        raise DatasetError(f"{name} is not listed in {folder / 'SHA256SUMS'}")
    if not path.is_file():
        raise DatasetError(f"Fashion-MNIST file {path} is missing. " + _restore_hint(name, folder))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise DatasetError(
            f"Fashion-MNIST file {path} is corrupt: sha256 {digest[:16]}... does not match the expected "
            f"{expected[:16]}... " + _restore_hint(name, folder)
        )
    return path


def _read_idx(path: Path, magic: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    got = int.from_bytes(data[:4], "big")
    if got != magic:
        raise DatasetError(f"{path} is not an IDX file of the expected kind (magic {got}, expected {magic})")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@lru_cache(maxsize=2)
def _load(split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lbl_name = FILES[split]
    images = _read_idx(verify_file(img_name), 2051)
    labels = _read_idx(verify_file(lbl_name), 2049).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetError(f"{img_name} has {len(images)} images but {lbl_name} has {len(labels)} labels")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_fashion_mnist(split: str = "train", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST as NumPy arrays.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        limit: keep only the first ``limit`` examples (the order is the dataset's own).

    Returns:
        ``(images, labels)``: ``uint8`` array ``N x 28 x 28`` in [0, 255] (0 is the
        black background) and ``int64`` array ``N`` of class indices 0-9 (see
        :data:`CLASSES`). The arrays are read-only views of a cached copy.

    Raises:
        ValueError: for an unknown split.
        DatasetError: if a file is missing or fails its sha256 check.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images, labels = _load(split)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def fashion_mnist_tensors(split: str = "train", limit: int | None = None, value_range="0,1",
                          pad_to: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as tensors: images ``N x 1 x H x W`` float32 and labels ``N`` int64.

    Args:
        value_range: ``"0,1"`` or ``"-1,1"`` (background is the low end).
        pad_to: pad the 28 x 28 images symmetrically with background to this size (e.g. 32).
    """
    images, labels = load_fashion_mnist(split, limit)
    x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    if pad_to is not None:
        if pad_to < 28:
            raise ValueError(f"pad_to must be >= 28, got {pad_to}")
        extra = pad_to - 28
        x = torch.nn.functional.pad(x, (extra // 2, extra - extra // 2, extra // 2, extra - extra // 2))
    if value_range == "-1,1":
        x = x * 2 - 1
    elif value_range != "0,1":
        raise ValueError(f"value_range must be '0,1' or '-1,1', got {value_range!r}")
    return x, torch.from_numpy(labels.copy())
