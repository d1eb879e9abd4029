"""Build the course's real-photo sets from Caltech-101 and copy Kodak24: a recorded, deterministic script.

Writes (into ``--out``, by default the repository's ``datasets/``):

* ``caltech_photos/``: true colour photographs of Caltech-101 (Fei-Fei, Fergus & Perona 2004), centre-cropped to
  squares (:func:`square_crop`) and resized to 128 x 128 with PIL's Lanczos filter, JPEG quality 90 without chroma
  subsampling, in one uncompressed zip (``images.zip``) with ``index.csv`` (file, label, class, split, crop
  fraction, source file, its sha256) and ``SHA256SUMS``. The filter is :func:`colour_photo_reason` (it keeps an
  image when it returns ``None``).
* ``edges2motorbikes/``: every ``Motorbikes`` (798) and ``airplanes`` (800) photo, padded to a square on white
  (the whole object, nothing cropped), resized to 128 x 128 (Lanczos), JPEG quality 95 without chroma
  subsampling, in ``photos.zip``; their Canny edge maps at 128 x 128 and at 64 x 64 (of the 128 px photo reduced
  by 2 x 2 area averaging, which is what the loader does to the photo) as 1-bit PNGs in ``edges.zip``; a fixed
  held-out split of 100 images per class (698 / 100 motorbikes, 700 / 100 airplanes).
* ``kodak24/``: the 24 Kodak PNGs, copied byte for byte, with ``SHA256SUMS``.
* ``caltech_photos_full/`` (only when asked, ``--sets caltech_photos_full``; not shipped): the same photos without
  the cap of 60 per class, for the full profile's training; the same test split as ``caltech_photos``
  (:func:`build_caltech_photos`). :func:`course_lib.data.caltech.caltech_photos_full` builds it from a downloaded
  Caltech-101.

Every split is a pure function of the file names (sha256 of ``"<seed>:<class>/<file>"``), so it does not depend on
the NumPy version or on the order of the archive. The Motorbikes and airplanes images that ``caltech_photos``
keeps take their split from ``edges2motorbikes``, so no held-out edges2motorbikes photo is in caltech_photos' training
split (a recognizer trained on caltech_photos can judge pix2pix outputs on the edges2motorbikes test split).

Byte-for-byte reproducible: zip entries in sorted order with a fixed date and attributes, JPEGs written by Pillow
with fixed settings. JPEG decoding and encoding come from the libjpeg-turbo inside Pillow's wheel, so the shipped
bytes are reproduced by the Pillow version recorded in the READMEs (rebuild into another ``--out`` and compare the
``SHA256SUMS``). Another Pillow may change JPEG bytes; the splits depend on file names only, the selection on
decoded pixels (a decoder that differs could flip an image that sits at a threshold).

Usage (from the repository root)::

    python tools/build_photo_sets.py CALTECH [--kodak KODAK_DIR] [--out datasets] [--sets ...]
    python tools/build_photo_sets.py CALTECH --full-size 256 --out ~/course-data   # full profile, 256 x 256
    python tools/build_photo_sets.py CALTECH --sets caltech_photos_full --out ~/course-data   # uncapped photos

``CALTECH`` is ``101_ObjectCategories.tar.gz``, a folder holding it (e.g. ``/work/shared/datasets/caltech101``),
the extracted ``101_ObjectCategories/`` folder, or a ``torchvision.datasets.Caltech101`` root (``root/caltech101/``
with the archive or the extracted folder). With ``--full-size 256`` only edges2motorbikes is written, at 256 x 256
(edges at 256 and 128) into ``OUT/edges2motorbikes/``; the loader reads it with
``edges2motorbikes(..., size=256, root=OUT/edges2motorbikes)``.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import shutil
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

SEED = 0
"""The seed of every split and selection (mixed into the sha256 ranks)."""

PHOTO_SIZE = 128
"""Side of the caltech_photos images (pixels)."""
MAX_PER_CLASS = 60
"""At most this many caltech_photos images per class (chosen by rank), so no class dominates."""
TEST_FRACTION = 0.1
"""Held-out fraction of each caltech_photos class: ``max(1, round(0.1 * n))`` images."""
DROPPED_CLASSES = ("BACKGROUND_Google", "Faces_easy", "garfield", "snoopy", "dollar_bill", "yin_yang")
"""Not object photographs (the clutter class), near-duplicates of another class (Faces_easy are tighter crops of the
Faces photos) or mostly drawings, cartoons and prints."""
MIN_SHORT_SIDE = 100
"""Images whose short side is under this many pixels are dropped (too small for a 128 px crop)."""
CHROMA_P99_MIN = 10.0
"""An image is a colour photo when at least 1% of the pixels of its 128 px crop have CIELAB chroma
``sqrt(a^2 + b^2) >= 10``: this drops greyscale files, RGB files holding grey pictures and near-grey prints, and
keeps colour photos of neutral objects that have some colour (chosen by looking at contact sheets)."""
CORNER_DARK = 30
"""A corner patch (side ``max(4, short side // 20)``) is flat black when its maximum is under 30 and its
standard deviation under 4 (0-255); two or more such corners mark a rotated scan padded with black (whole classes
of Caltech-101 are such scans: accordion, cellphone, minaret, pagoda, trilobite) or a photo on a black ground."""
CROP_FRACTIONS = (1.0, 0.9, 0.8, 0.7, 0.6)
"""Centre squares tried in turn (fractions of the short side) for an image with flat-black corners, until no corner
pixel of the square is dark; an image whose 0.6 square still has one is dropped."""

DUP_RMS = 8.0
"""Two images are near duplicates when the RMS difference of their 16 x 16 grey thumbnails (means of 8 x 8 blocks of
the 128 px image's BT.601 luma, 0-255) is under 8: Caltech-101 holds the same photo twice, re-encoded or resized,
within a class and across classes (lotus and water_lilly). Chosen by looking at the pairs between 3.8 and 11.3:
under 8 the same photo or drawing (re-encoded, resized or recoloured), above it different photos."""

FULL_NAME = "caltech_photos_full"
"""Folder of the uncapped colour-photo set (the full profile's training photos; built, never shipped)."""
FULL_README = """# caltech_photos_full: every true colour photograph of Caltech-101 the course's filters keep

Built on this machine by `python tools/build_photo_sets.py CALTECH101 --sets caltech_photos_full` (or by
`course_lib.data.caltech.caltech_photos_full()`, the full profile) from a copy of Caltech-101; not shipped with the
course. Same filters, crops (128 x 128 centre squares, Lanczos, JPEG quality 90, 4:4:4) and test split as the
shipped `datasets/caltech_photos/`, without its cap of 60 photos per class: {train} training and {test} test photos
of {classes} classes. `index.csv` lists each file's source and its sha256; `SHA256SUMS` the files.

Source: Caltech-101, L. Fei-Fei, R. Fergus and P. Perona, "Learning generative visual models from few training
examples", CVPR Workshop on Generative-Model Based Vision, 2004; dataset: Li, Andreeto, Ranzato and Perona (2022),
Caltech 101 (1.0), CaltechDATA, doi:10.22002/D1.20086. Licence: Creative Commons Attribution 4.0 International
(CC BY 4.0); keep this attribution with any copy or derived file.
"""

E2M_SIZE = 128
"""Side of the shipped edges2motorbikes photos."""
E2M_DOMAINS = {"motorbikes": "Motorbikes", "airplanes": "airplanes"}
"""edges2motorbikes domain -> Caltech-101 class."""
E2M_TEST_PER_DOMAIN = 100
"""Held-out images per edges2motorbikes domain."""
CANNY = {256: 2.0, 128: 1.5, 64: 1.0}
"""Gaussian sigma (pixels) of ``skimage.feature.canny`` at each side; thresholds :data:`CANNY_LOW`,
:data:`CANNY_HIGH` on the gradient of luma in [0, 1] (scikit-image's defaults, written out). Chosen by looking at
sigma 1, 1.5, 2 and thresholds (0.05, 0.15), (0.1, 0.2), (0.1, 0.25) on motorbikes and airplanes at 128 px."""
CANNY_LOW, CANNY_HIGH = 0.1, 0.2

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
KODAK_NAMES = tuple(f"kodim{i:02d}.png" for i in range(1, 25))


# ----------------------------------------------------------------------------------------------------------- input

def find_source(path: Path) -> Path:
    """The tarball or the ``101_ObjectCategories`` folder at or under ``path``.

    Raises:
        FileNotFoundError: neither is there (the message says what to pass).
    """
    path = Path(path).expanduser()
    if path.is_file():
        return path
    for cand in (path, path / "101_ObjectCategories", path / "caltech101" / "101_ObjectCategories"):
        if cand.is_dir() and cand.name == "101_ObjectCategories":
            return cand
    for cand in (path / "101_ObjectCategories.tar.gz", path / "caltech101" / "101_ObjectCategories.tar.gz"):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"no 101_ObjectCategories.tar.gz or 101_ObjectCategories/ folder at or under {path}. "
                     "Pass the Caltech-101 archive, its folder, or a torchvision Caltech101 root "
                     "(torchvision.datasets.Caltech101(root, download=True) downloads it).")


def iter_caltech(path: Path) -> Iterator[tuple[str, bytes]]:
    """``("Class/file", bytes)`` of every image file of Caltech-101, sorted by name (extension-less files too,
    e.g. ``BACKGROUND_Google/tmp``)."""
    source = find_source(path)
    files: dict[str, bytes] = {}
    if source.is_dir():
        for f in source.rglob("*"):
            if f.is_file():
                files[f.relative_to(source).as_posix()] = f.read_bytes()
    else:
        with tarfile.open(source) as tar:
            for m in tar:
                if not m.isfile():
                    continue
                parts = m.name.split("/")
                if "101_ObjectCategories" not in parts:
                    continue
                rel = "/".join(parts[parts.index("101_ObjectCategories") + 1:])
                files[rel] = tar.extractfile(m).read()
    if not files:
        raise FileNotFoundError(f"no images found in {source}")
    for name in sorted(files):
        if name.count("/") == 1:
            yield name, files[name]


def rank(name: str, seed: int = SEED) -> str:
    """Deterministic pseudo-random rank of a file (sha256 hex of ``"<seed>:<name>"``); sort by it to shuffle."""
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------------- image steps

def decode_rgb(data: bytes) -> tuple[np.ndarray, str]:
    """``H x W x 3`` uint8 RGB array of an image file and the file's PIL mode (``"L"`` for greyscale files)."""
    with Image.open(io.BytesIO(data)) as im:
        mode = im.mode
        return np.asarray(im.convert("RGB")), mode


def centre_square(rgb: np.ndarray, size: int, fraction: float = 1.0) -> np.ndarray:
    """Centre crop to a square of side ``round(fraction * short side)``, then Lanczos resize to ``size x size``
    (uint8 ``size x size x 3``)."""
    h, w = rgb.shape[:2]
    s = int(round(fraction * min(h, w)))
    top, left = (h - s) // 2, (w - s) // 2
    return np.asarray(Image.fromarray(rgb[top:top + s, left:left + s]).resize((size, size), Image.LANCZOS))


def square_crop(rgb: np.ndarray, size: int) -> tuple[np.ndarray | None, float]:
    """The centre square resized to ``size``, and the fraction of the short side it spans.

    An image with two or more flat-black corners (:func:`black_corners`: a rotated scan padded with black, or a
    photo on a black ground) is cropped tighter, by the first of :data:`CROP_FRACTIONS` whose square has no dark
    corner pixel left (:func:`dark_corner_pixels`); ``(None, 0.0)`` if none has.
    """
    if black_corners(rgb) < 2:
        return centre_square(rgb, size, 1.0), 1.0
    h, w = rgb.shape[:2]
    for fraction in CROP_FRACTIONS:
        s = int(round(fraction * min(h, w)))
        top, left = (h - s) // 2, (w - s) // 2
        if dark_corner_pixels(rgb[top:top + s, left:left + s]) == 0:
            return centre_square(rgb, size, fraction), fraction
    return None, 0.0


def pad_square_white(rgb: np.ndarray, size: int) -> np.ndarray:
    """Pad to a square on white (255), the picture centred, then Lanczos resize to ``size x size``."""
    h, w = rgb.shape[:2]
    s = max(h, w)
    out = np.full((s, s, 3), 255, np.uint8)
    top, left = (s - h) // 2, (s - w) // 2
    out[top:top + h, left:left + w] = rgb
    return np.asarray(Image.fromarray(out).resize((size, size), Image.LANCZOS))


def area_half(rgb: np.ndarray) -> np.ndarray:
    """2 x 2 box average (area resize by 1/2) of ``H x W x C`` uint8, as float64 in [0, 255]."""
    h, w = rgb.shape[:2]
    return rgb.astype(np.float64).reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))


def chroma_p99(rgb: np.ndarray) -> float:
    """99th percentile of CIELAB chroma ``sqrt(a^2 + b^2)`` (D65) over the pixels of an RGB uint8 image."""
    from skimage.color import rgb2lab

    lab = rgb2lab(rgb)
    return float(np.percentile(np.hypot(lab[..., 1], lab[..., 2]), 99))


def black_corners(rgb: np.ndarray) -> int:
    """How many of the four corners are flat black (see :data:`CORNER_DARK`)."""
    h, w = rgb.shape[:2]
    k = max(4, min(h, w) // 20)
    patches = (rgb[:k, :k], rgb[:k, -k:], rgb[-k:, :k], rgb[-k:, -k:])
    return sum(int(p.max() < CORNER_DARK and p.std() < 4) for p in patches)


def dark_corner_pixels(rgb: np.ndarray) -> int:
    """How many of the four 3 x 3 corner patches are dark (maximum under :data:`CORNER_DARK`): what is left of a
    black padding triangle at the corner of a crop."""
    patches = (rgb[:3, :3], rgb[:3, -3:], rgb[-3:, :3], rgb[-3:, -3:])
    return sum(int(p.max() < CORNER_DARK) for p in patches)


def colour_photo_reason(name: str, rgb: np.ndarray, mode: str, crop: np.ndarray | None) -> str | None:
    """Why an image is not a true colour photograph for caltech_photos (``None`` if it is one); ``crop`` is
    :func:`square_crop`'s result (``None``: black corners even in the smallest square)."""
    if name.split("/")[0] in DROPPED_CLASSES:
        return "class dropped"
    if mode not in ("RGB", "YCbCr", "CMYK"):
        return f"mode {mode}"
    if min(rgb.shape[:2]) < MIN_SHORT_SIDE:
        return "small"
    if crop is None:
        return "black corners"
    if chroma_p99(crop) < CHROMA_P99_MIN:
        return "near grey"
    return None


def luma01(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` in [0, 1] of an RGB array in [0, 255]."""
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]) / 255.0


def canny_edges(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """``skimage.feature.canny`` of the luma of an RGB image (bool ``H x W``, True on an edge)."""
    from skimage.feature import canny

    return canny(luma01(rgb), sigma=sigma, low_threshold=CANNY_LOW, high_threshold=CANNY_HIGH)


def jpeg_bytes(rgb: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, subsampling=0, optimize=True)
    return buf.getvalue()


def edge_png(edges: np.ndarray) -> bytes:
    """1-bit PNG of an edge map: black (0) edges on white (1)."""
    buf = io.BytesIO()
    Image.fromarray(~edges).convert("1").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------------- writing

def write_zip(path: Path, entries: dict[str, bytes]) -> None:
    """An uncompressed zip of ``entries`` in sorted order with a fixed date and attributes (reproducible)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, entries[name])


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_sums(folder: Path, names: list[str]) -> None:
    lines = [f"{sha256((folder / n).read_bytes())}  {n}\n" for n in sorted(names)]
    (folder / "SHA256SUMS").write_text("".join(lines))


def thumbnail(rgb128: np.ndarray) -> np.ndarray:
    """16 x 16 grey thumbnail (float64, 0-255, flattened to 256) of a 128 x 128 RGB image, for :data:`DUP_RMS`."""
    return (luma01(rgb128) * 255.0).reshape(16, 8, 16, 8).mean(axis=(1, 3)).ravel()


def near_duplicate_pairs(thumbs: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of rows of ``thumbs`` (``N x 256``) closer than :data:`DUP_RMS` (RMS)."""
    sq = (thumbs ** 2).sum(1)
    pairs = []
    for start in range(0, len(thumbs), 1024):
        block = thumbs[start:start + 1024]
        d2 = sq[start:start + 1024, None] + sq[None, :] - 2.0 * block @ thumbs.T
        for i, j in zip(*np.nonzero(d2 < DUP_RMS ** 2 * thumbs.shape[1])):
            if start + i < j:
                pairs.append((int(start + i), int(j)))
    return pairs


def e2m_splits(images: dict[str, bytes], seed: int = SEED) -> dict[str, str]:
    """``{"Class/file": "train" | "test"}`` for the edges2motorbikes classes: near-duplicate photos
    (:data:`DUP_RMS`, on the 128 px squares) form groups that stay on one side; groups are taken in the order of
    their lowest rank into the test split until it holds :data:`E2M_TEST_PER_DOMAIN` images (a group that would
    overshoot is skipped)."""
    split: dict[str, str] = {}
    for cls in E2M_DOMAINS.values():
        files = sorted((n for n in images if n.startswith(cls + "/")), key=lambda n: rank(n, seed))
        thumbs = np.stack([thumbnail(pad_square_white(decode_rgb(images[n])[0], E2M_SIZE)) for n in files])
        group = list(range(len(files)))

        def find(i):
            while group[i] != i:
                i = group[i]
            return i
        for i, j in near_duplicate_pairs(thumbs):
            a, b = find(i), find(j)
            group[max(a, b)] = min(a, b)
        members: dict[int, list[int]] = {}
        for i in range(len(files)):  # files are in rank order, so groups come in the order of their lowest rank
            members.setdefault(find(i), []).append(i)
        n_test = 0
        for root in sorted(members):
            side = "test" if n_test + len(members[root]) <= E2M_TEST_PER_DOMAIN else "train"
            n_test += len(members[root]) if side == "test" else 0
            for i in members[root]:
                split[files[i]] = side
    return split


def build_edges2motorbikes(images: dict[str, bytes], out: Path, split: dict[str, str], size: int = E2M_SIZE) -> None:
    """Write ``out/edges2motorbikes/`` (photos at ``size``, edges at ``size`` and ``size // 2``) with ``split``."""
    folder = out / "edges2motorbikes"
    folder.mkdir(parents=True, exist_ok=True)
    photos, edges, rows = {}, {}, []
    for domain, cls in E2M_DOMAINS.items():
        files = sorted(n for n in images if n.startswith(cls + "/"))
        for name in files:
            rgb, mode = decode_rgb(images[name])
            photo = pad_square_white(rgb, size)
            stem = name.split("/")[1].rsplit(".", 1)[0]
            entry = f"{domain}/{stem}"
            photos[f"{size}/{entry}.jpg"] = jpeg_bytes(photo, 95)
            edges[f"{size}/{entry}.png"] = edge_png(canny_edges(photo, CANNY[size]))
            half = np.clip(np.round(area_half(photo)), 0, 255).astype(np.uint8)
            edges[f"{size // 2}/{entry}.png"] = edge_png(canny_edges(half, CANNY[size // 2]))
            rows.append([entry, domain, split[name], name, rgb.shape[1], rgb.shape[0], mode, sha256(images[name])])
    write_zip(folder / "photos.zip", photos)
    write_zip(folder / "edges.zip", edges)
    write_csv(folder / "index.csv", ["file", "domain", "split", "source", "source_width", "source_height",
                                     "source_mode", "source_sha256"], rows)
    write_sums(folder, ["photos.zip", "edges.zip", "index.csv"])


def build_caltech_photos(images: dict[str, bytes], out: Path, e2m: dict[str, str],
                         capped: bool = True) -> dict[str, int]:
    """Write ``out/caltech_photos/`` (``capped``: at most :data:`MAX_PER_CLASS` per class, the shipped set) or
    ``out/caltech_photos_full/`` (``capped=False``: every photo the filters keep, for the full profile); return how
    many images each filter dropped.

    Both have the same test split, image for image (the capped split's first ``max(1, round(0.1 n))`` images by
    rank, ``n`` the capped count); the full set's training split adds every other kept photo of the class (for
    Motorbikes and airplanes every photo of edges2motorbikes' training split), so scores on the test split of a net
    trained on either are comparable and no held-out photo of either set is trained on.
    """
    folder = out / ("caltech_photos" if capped else FULL_NAME)
    folder.mkdir(parents=True, exist_ok=True)
    kept: dict[str, list[str]] = {}
    crops: dict[str, np.ndarray] = {}
    fractions: dict[str, float] = {}
    dropped: dict[str, int] = {}
    for name, data in images.items():
        rgb, mode = decode_rgb(data)
        crop, fraction = square_crop(rgb, PHOTO_SIZE)
        reason = colour_photo_reason(name, rgb, mode, crop)
        if reason is None:
            kept.setdefault(name.split("/")[0], []).append(name)
            crops[name] = crop
            fractions[name] = fraction
        else:
            dropped[reason] = dropped.get(reason, 0) + 1
    order = sorted((n for names in kept.values() for n in names), key=rank)
    duplicate = set()
    for i, j in near_duplicate_pairs(np.stack([thumbnail(crops[n]) for n in order])):
        if order[i] not in duplicate:  # keep the lower-ranked image of a pair whose first one is kept
            duplicate.add(order[j])
    dropped["near duplicate"] = len(duplicate)
    kept = {cls: [n for n in names if n not in duplicate] for cls, names in kept.items()}
    classes = sorted(kept)
    entries, rows = {}, []
    for label, cls in enumerate(classes):
        names = sorted(kept[cls], key=rank)
        n = min(len(names), MAX_PER_CLASS)
        n_test = max(1, round(TEST_FRACTION * n))
        n_train = n - n_test if capped else len(names) - n_test
        if all(x in e2m for x in names):  # Motorbikes / airplanes: keep edges2motorbikes' split
            test = [x for x in names if e2m[x] == "test"][:n_test]
            train = [x for x in names if e2m[x] == "train"][:n_train]
        else:
            test, train = names[:n_test], names[n_test:n_test + n_train]
        if capped:
            dropped["over the per-class cap"] = dropped.get("over the per-class cap", 0) + len(names) - n
        for split, chosen in (("train", train), ("test", test)):
            for name in chosen:
                file = f"{cls}/{name.split('/')[1].rsplit('.', 1)[0]}.jpg"
                entries[file] = jpeg_bytes(crops[name], 90)
                rows.append([file, label, cls, split, fractions[name], name, sha256(images[name])])
    rows.sort()
    write_zip(folder / "images.zip", entries)
    write_csv(folder / "index.csv", ["file", "label", "class", "split", "crop", "source",
                                                 "source_sha256"], rows)
    write_sums(folder, ["images.zip", "index.csv"])
    if not capped:
        counts = {split: sum(r[3] == split for r in rows) for split in ("train", "test")}
        (folder / "README.md").write_text(FULL_README.format(train=counts["train"], test=counts["test"],
                                                             classes=len(classes)))
    return dropped


def copy_kodak(source: Path, out: Path) -> None:
    folder = out / "kodak24"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [n for n in KODAK_NAMES if not (source / n).is_file()]
    if missing:
        raise SystemExit(f"{source} lacks {', '.join(missing)} (expected kodim01.png ... kodim24.png)")
    for n in KODAK_NAMES:
        shutil.copyfile(source / n, folder / n)
    write_sums(folder, list(KODAK_NAMES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("caltech", type=Path, help="101_ObjectCategories.tar.gz, its folder, or a torchvision root")
    parser.add_argument("--kodak", type=Path, help="folder with kodim01.png ... kodim24.png (copied as they are)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "datasets")
    parser.add_argument("--sets", default="caltech_photos,edges2motorbikes",
                        help="comma-separated: caltech_photos, edges2motorbikes, caltech_photos_full (the uncapped "
                             "set of the full profile; not shipped); kodak24 is copied with --kodak")
    parser.add_argument("--full-size", type=int, choices=(256,),
                        help="write only edges2motorbikes at this side (full profile) into OUT/edges2motorbikes")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    import PIL
    import skimage
    from PIL import features

    print(f"Pillow {PIL.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, zlib "
          f"{features.version('zlib')}), scikit-image {skimage.__version__}, NumPy {np.__version__}")
    try:
        images = dict(iter_caltech(args.caltech))
    except FileNotFoundError as err:
        raise SystemExit(str(err)) from None
    print(f"read {len(images)} files from {find_source(args.caltech)}")
    if args.full_size:
        split = e2m_splits(images)
        build_edges2motorbikes(images, args.out, split, args.full_size)
        print(f"edges2motorbikes at {args.full_size} px: {len(split)} images in {args.out / 'edges2motorbikes'}")
        return 0
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = set(sets) - {"caltech_photos", "edges2motorbikes", FULL_NAME}
    if unknown:
        raise SystemExit(f"unknown set(s) {sorted(unknown)}")
    e2m = e2m_splits(images)
    if "edges2motorbikes" in sets:
        build_edges2motorbikes(images, args.out, e2m)
        print(f"edges2motorbikes: {len(e2m)} images ({time.perf_counter() - t0:.0f} s)")
    if "caltech_photos" in sets:
        dropped = build_caltech_photos(images, args.out, e2m)
        print(f"caltech_photos: dropped {dropped} ({time.perf_counter() - t0:.0f} s)")
    if FULL_NAME in sets:
        dropped = build_caltech_photos(images, args.out, e2m, capped=False)
        print(f"{FULL_NAME}: dropped {dropped} ({time.perf_counter() - t0:.0f} s)")
    if args.kodak:
        copy_kodak(args.kodak, args.out)
        print("kodak24 copied")
    for s in sets + (["kodak24"] if args.kodak else []):
        print((args.out / s / "SHA256SUMS").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
