"""The full profile's training photos (issue 12): the uncapped Caltech-101 colour-photo set, built from a copy of
Caltech-101 (or downloaded by torchvision.datasets.Caltech101) by course_lib.data.build_photo_sets, and the four
experiments that train on it. Everything runs on a small fake Caltech-101 the tests write: a few classes of smooth
random colour pictures, one class over the cap of 60, a greyscale file, a small file and a dropped class."""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.data import DatasetError, caltech
from course_lib.data import build_photo_sets as build
from course_lib.experiments import colorization, denoising, inpainting, super_resolution

CLASSES = {"Motorbikes": 4, "airplanes": 4, "crab": 70, "ant": 6, "Faces_easy": 3}
"""Fake classes and their numbers of colour pictures (crab is over the cap of 60; Faces_easy is a dropped class)."""


def _picture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random colour picture (a 4 x 4 grid of bright colours, bilinearly enlarged): colourful, no dark
    corners, and far from every other one in the near-duplicate thumbnail distance."""
    grid = rng.integers(60, 256, (4, 4, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize((w, h), Image.BILINEAR))


def _write_fake_caltech(folder: Path) -> Path:
    """``folder/caltech101/101_ObjectCategories/...`` in the torchvision layout; returns ``folder``."""
    root = folder / "caltech101" / "101_ObjectCategories"
    rng = np.random.default_rng(0)
    for cls, n in CLASSES.items():
        (root / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(_picture(rng, 120 + i % 7, 150)).save(root / cls / f"image_{i + 1:04d}.jpg", quality=95)
    Image.fromarray(_picture(rng, 120, 150)[..., 0]).save(root / "ant" / "image_0101.jpg")  # greyscale (mode L)
    Image.fromarray(_picture(rng, 80, 150)).save(root / "ant" / "image_0102.jpg")          # short side 80 < 100
    return folder


def _index(folder: Path) -> list[dict[str, str]]:
    with open(folder / "index.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def fake_caltech(tmp_path_factory) -> Path:
    return _write_fake_caltech(tmp_path_factory.mktemp("downloads"))


@pytest.fixture(scope="module")
def both_builds(fake_caltech, tmp_path_factory):
    """The capped (shipped-style) and the uncapped build of the fake copy, by the script's entry point."""
    out = tmp_path_factory.mktemp("built")
    assert build.main([str(fake_caltech), "--sets", "caltech_photos,caltech_photos_full", "--out", str(out)]) == 0
    return out / "caltech_photos", out / "caltech_photos_full"


def test_the_full_set_keeps_the_capped_sets_test_split_file_for_file_and_adds_training_photos(both_builds):
    capped, full = both_builds
    rows = {name: _index(folder) for name, folder in (("capped", capped), ("full", full))}
    split = {name: {s: {r["file"]: r for r in rs if r["split"] == s} for s in ("train", "test")}
             for name, rs in rows.items()}
    assert split["full"]["test"] == split["capped"]["test"] and split["full"]["test"]
    with zipfile.ZipFile(capped / "images.zip") as a, zipfile.ZipFile(full / "images.zip") as b:
        assert all(a.read(f) == b.read(f) for f in split["capped"]["test"])
    assert set(split["capped"]["train"]) < set(split["full"]["train"])
    per_class = {name: {s: {c: sum(r["class"] == c for r in split[name][s].values()) for c in CLASSES}
                        for s in ("train", "test")} for name in split}
    # crab: 70 kept pictures; capped at 60 -> 6 test + 54 train; uncapped -> the same 6 test + 64 train
    assert per_class["capped"]["test"]["crab"] == per_class["full"]["test"]["crab"] == 6
    assert per_class["capped"]["train"]["crab"] == 54 and per_class["full"]["train"]["crab"] == 64
    # the filters are the same: a dropped class, a greyscale file and a small file are in neither
    for name in split:
        files = set(split[name]["train"]) | set(split[name]["test"])
        assert per_class[name]["train"]["Faces_easy"] + per_class[name]["test"]["Faces_easy"] == 0
        assert not {"ant/image_0101.jpg", "ant/image_0102.jpg"} & files
        assert sum(f.startswith("ant/") for f in files) == CLASSES["ant"]
    readme = (full / "README.md").read_text()
    assert "CC BY 4.0" in readme and f"{len(split['full']['train'])} training and {len(split['full']['test'])} test" \
        in readme
    train, labels, classes = caltech.caltech_photos("train", root=full)
    assert train.dtype == torch.uint8 and tuple(train.shape[1:]) == (3, 128, 128)
    assert len(train) == len(split["full"]["train"]) and set(classes) == set(CLASSES) - {"Faces_easy"}


def test_caltech_photos_full_builds_from_a_copy_once_and_reuses_it(fake_caltech, tmp_path):
    base = tmp_path / "downloads"
    (base / "caltech101").mkdir(parents=True)
    (base / "caltech101" / "101_ObjectCategories").symlink_to(fake_caltech / "caltech101" / "101_ObjectCategories")
    folder = caltech.caltech_photos_full(root=base, download=False)
    assert folder == base / "caltech_photos_full" and (folder / "SHA256SUMS").is_file()
    stamp = (folder / "images.zip").stat().st_mtime_ns
    assert caltech.caltech_photos_full(root=base, download=False) == folder
    assert (folder / "images.zip").stat().st_mtime_ns == stamp  # not rebuilt
    # a damaged built set says how to rebuild it where it lives, not how to restore the bundled copy from git
    data = bytearray((folder / "index.csv").read_bytes())
    data[-2] ^= 0x01
    (folder / "index.csv").write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"index\.csv is corrupt.*full profile's built set: delete that folder "
                                           r"and call course_lib\.data\.caltech\.caltech_photos_full\(\) again") as err:
        caltech.caltech_photos("train", root=folder)
    assert "git checkout" not in str(err.value)


def test_without_a_copy_it_says_where_to_put_one_or_downloads_with_torchvision(fake_caltech, tmp_path, monkeypatch):
    import torchvision

    with pytest.raises(DatasetError, match=r"no copy of Caltech-101 .*101_ObjectCategories\.tar\.gz.*download=True"):
        caltech.caltech_photos_full(root=tmp_path / "empty", download=False)
    assert not (tmp_path / "empty" / "caltech_photos_full").exists()

    def offline(root, download=False):
        raise RuntimeError("no network")
    monkeypatch.setattr(torchvision.datasets, "Caltech101", offline)
    with pytest.raises(DatasetError, match=r"could not download Caltech-101 .*no network.*101_ObjectCategories"):
        caltech.caltech_photos_full(root=tmp_path / "offline")

    calls = []

    def fake_download(root, download=False):  # what torchvision leaves behind: root/caltech101/101_ObjectCategories
        calls.append((root, download))
        target = Path(root) / "caltech101"
        target.mkdir(parents=True)
        (target / "101_ObjectCategories").symlink_to(fake_caltech / "caltech101" / "101_ObjectCategories")
    monkeypatch.setattr(torchvision.datasets, "Caltech101", fake_download)
    folder = caltech.caltech_photos_full(root=tmp_path / "online")
    assert calls == [(str(tmp_path / "online"), True)] and (folder / "SHA256SUMS").is_file()


def test_photo_set_names_the_two_sets_and_rejects_others(fake_caltech, monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown photo set 'caltech_photos_256'"):
        caltech.photo_set("train", "caltech_photos_256")
    with pytest.raises(ValueError, match="split"):
        caltech.photo_set("val", "caltech_photos_full")
    bundled = caltech.photo_set("test")
    assert torch.equal(bundled[0], caltech.caltech_photos("test")[0])


@pytest.fixture
def full_downloads(fake_caltech, tmp_path, monkeypatch):
    """``$COURSE_DOWNLOADS`` holding the fake Caltech-101; the data caches that key on the set's name are
    cleared before and after, so no other test sees the fake set."""
    from course_lib.data import colorization as colour_data
    from course_lib.data import restoration

    caches = (colour_data._training_lab, colour_data._training_prior, restoration._caltech_luma_cached,
              restoration._caltech_sr_cached, restoration._caltech_small_cached, denoising._caltech_grey_cached)
    for c in caches:
        c.cache_clear()
    (tmp_path / "caltech101").mkdir()
    (tmp_path / "caltech101" / "101_ObjectCategories").symlink_to(fake_caltech / "caltech101" / "101_ObjectCategories")
    monkeypatch.setenv("COURSE_DOWNLOADS", str(tmp_path))
    yield tmp_path
    for c in caches:
        c.cache_clear()


FULL_OVERRIDES = {
    colorization: ("rebalanced", dict(batch_size=2)),
    super_resolution: ("x3", dict(batch_size=2)),
    inpainting: ("L2+adv", dict(batch_size=2)),
    denoising: ("dncnn", dict(batch_size=2)),
}


@pytest.mark.parametrize("module", list(FULL_OVERRIDES), ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_the_full_profile_trains_on_the_uncapped_set(module, full_downloads, monkeypatch):
    """Config.make("full") names the uncapped set; build() reads its training photos (and only those: the
    bundled set is never asked for training photos), and one full-profile training step runs on them."""
    asked = []
    real = caltech.photo_set

    def spy(split="train", photos=caltech.CALTECH_PHOTOS):
        asked.append((split, photos))
        return real(split, photos)
    monkeypatch.setattr(caltech, "photo_set", spy)
    member, overrides = FULL_OVERRIDES[module]
    cfg = module.Config.make("full", **overrides)
    assert cfg.photos == "caltech_photos_full" and module.Config.make("fast").photos == "caltech_photos"
    torch.manual_seed(0)
    run = module.build(cfg, member, seed=0)
    batch = next(iter(run.batches()))
    for m in run.models.values():
        m.train()
    before = {k: v.detach().clone() for k, v in next(iter(run.models.values())).state_dict().items()}
    logs = module.train_step(run, batch)
    assert asked and all(a == ("train", "caltech_photos_full") for a in asked), asked
    assert (full_downloads / "caltech_photos_full" / "SHA256SUMS").is_file()
    assert all(np.isfinite(v) for v in logs.values())
    after = next(iter(run.models.values())).state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())


def test_the_full_profile_announces_the_caltech_download():
    """What `info --full` and the full profile's announcement print for the four experiments (and nothing else
    claims that download)."""
    from course_lib import profile_steps

    says = {r["experiment"]: r["download"] for r in profile_steps.FULL_PLAN}
    caltech_rows = {e for e, d in says.items() if d.startswith("Caltech-101")}
    assert caltech_rows == {"colorization", "super_resolution", "inpainting", "denoising"}
    assert all("torchvision.datasets.Caltech101" in says[e] for e in caltech_rows)
