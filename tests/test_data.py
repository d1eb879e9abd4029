"""Bundled and wheel-shipped data: checksums, clear errors, licences, splits."""
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from course_lib.data import (PHOTO_SPLITS, DatasetError, fashion_mnist_tensors, list_photos, load_fashion_mnist,
                             load_photo, random_crops)
from course_lib.data import fashion_mnist
from course_lib.data.paths import repo_root

FMNIST = repo_root() / "datasets" / "fashion-mnist"


def test_fashion_mnist_shapes_and_labels():
    x, y = load_fashion_mnist("test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))
    assert np.bincount(y).tolist() == [1000] * 10  # the test split is balanced
    xt, yt = fashion_mnist_tensors("test", limit=5, value_range="-1,1", pad_to=32)
    assert xt.shape == (5, 1, 32, 32) and xt.min() >= -1 and xt.max() <= 1
    assert float(xt[0, 0, 0, 0]) == -1.0  # padding is background


def test_shipped_checksums_match_the_files():
    for line in (FMNIST / "SHA256SUMS").read_text().split("\n"):
        if line.strip():
            digest, name = line.split()
            assert hashlib.sha256((FMNIST / name).read_bytes()).hexdigest() == digest


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    target = tmp_path / "fashion-mnist"
    target.mkdir()
    for name in ("SHA256SUMS", "COPYRIGHT", "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        shutil.copy(FMNIST / name, target / name)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    fashion_mnist._load.cache_clear()
    yield target
    fashion_mnist._load.cache_clear()


def test_missing_file_names_it_and_the_fix(data_copy):
    (data_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz is missing.*git checkout"):
        load_fashion_mnist("test")


def test_corrupt_file_is_detected_by_sha256(data_copy):
    path = data_copy / "t10k-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz is corrupt.*sha256"):
        load_fashion_mnist("test")


def test_missing_data_folder_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    fashion_mnist._load.cache_clear()
    with pytest.raises(DatasetError, match="COURSE_DATA_DIR"):
        load_fashion_mnist("train")
    fashion_mnist._load.cache_clear()


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_fashion_mnist("validation")


def test_photos_load_with_licences_and_disjoint_splits():
    infos = {p.name: p for p in list_photos()}
    assert all(p.licence for p in infos.values())
    assert not set(PHOTO_SPLITS["train"]) & set(PHOTO_SPLITS["test"])
    for name in PHOTO_SPLITS["train"] + PHOTO_SPLITS["test"]:
        assert infos[name].colour
        im = load_photo(name)
        assert im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 and min(im.shape[:2]) >= 256, name
    assert load_photo("camera").ndim == 2
    with pytest.raises(KeyError, match="available"):
        load_photo("lena")


def test_random_crops_are_seeded_and_in_bounds():
    ims = [np.arange(40 * 50).reshape(40, 50), np.zeros((32, 32))]
    a, b = random_crops(ims, 16, 10, seed=3), random_crops(ims, 16, 10, seed=3)
    assert a.shape == (10, 16, 16) and np.array_equal(a, b)
    with pytest.raises(ValueError, match="smaller than the crop"):
        random_crops(ims, 33, 1)


def test_datasets_readme_lists_every_bundled_file():
    readme = (repo_root() / "datasets" / "README.md").read_text()
    for line in (FMNIST / "SHA256SUMS").read_text().split("\n"):
        if line.strip():
            digest, name = line.split()
            assert name in readme and digest in readme
