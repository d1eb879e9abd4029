"""Real colour photographs bundled with the course: Caltech-101 colour photos, edges -> motorbikes, Kodak24.

Three sets in ``datasets/`` (or ``$COURSE_DATA_DIR``), each with a README (source, licence, counts) and a
``SHA256SUMS`` that every loader checks before reading (once per process and file version):

* :func:`caltech_photos` -- 4,602 true colour photographs of 95 Caltech-101 classes (Fei-Fei, Fergus & Perona,
  CVPR Workshop 2004; CC BY 4.0), centre squares at 128 x 128, a fixed stratified 90/10 split (4,142 train /
  460 test). The training set of the colorization and restoration notebooks (issue 12).
* :func:`edges2motorbikes` -- the 798 Caltech-101 Motorbikes (and the 800 airplanes) padded to squares on white,
  at 128 x 128 (64 x 64 by area resize), with Canny edge maps, a fixed held-out split of 100 per class: a small
  edges2shoes in the manner of pix2pix (Isola et al., CVPR 2017, Sec. 4; they drew edges with HED, Xie & Tu 2015,
  and post-processed them; here ``skimage.feature.canny``). :func:`edges2motorbikes_unpaired` breaks the pairs for
  CycleGAN (Zhu et al., ICCV 2017).
* :func:`kodak24` -- the 24 Kodak PNGs (768 x 512 pixels, 6 of them portrait), the standard test set of
  denoising and super-resolution. Evaluation only: never train on it.

All three are built by ``tools/build_photo_sets.py`` (deterministic; see each README for the command).
"""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .paths import DatasetError, dataset_dir

CALTECH_PHOTOS, EDGES2MOTORBIKES, KODAK24 = "caltech_photos", "edges2motorbikes", "kodak24"
CALTECH_PHOTOS_FULL = "caltech_photos_full"
"""The uncapped colour-photo set of the full profile (:func:`caltech_photos_full`; built, never shipped)."""
PHOTO_SETS = (CALTECH_PHOTOS, CALTECH_PHOTOS_FULL)
"""The names :func:`photo_set` takes (an experiment's ``Config.photos``)."""
PHOTO_SIZE = 128
"""Side of the caltech_photos images (pixels)."""
E2M_DOMAINS = ("motorbikes", "airplanes")
"""The edges2motorbikes domains (Caltech-101 classes Motorbikes and airplanes)."""
KODAK_NAMES = tuple(f"kodim{i:02d}.png" for i in range(1, 25))

_SOURCES = {
    CALTECH_PHOTOS: "python tools/build_photo_sets.py CALTECH101 (the Caltech-101 archive "
                    "101_ObjectCategories.tar.gz, e.g. from torchvision.datasets.Caltech101(root, download=True) "
                    "or CaltechDATA doi:10.22002/D1.20086)",
    EDGES2MOTORBIKES: "python tools/build_photo_sets.py CALTECH101 (as for caltech_photos)",
    KODAK24: "python tools/build_photo_sets.py CALTECH101 --kodak FOLDER_WITH_kodim01-24.png "
             "(the Kodak suite from r0k.us/graphics/kodak/)",
}
_VERIFIED: set[tuple[str, int, int, str]] = set()
"""(path, size, mtime_ns, sha256) of the files already checked in this process."""


def _restore_hint(name: str, file: str, folder: Path | None = None) -> str:
    """How to mend a damaged file: the bundled copy (``folder`` None or ``datasets/<name>/``) comes back from git;
    a copy elsewhere (``root=``, the full profile's built set) is rebuilt where it lives."""
    if folder is not None and Path(folder).resolve() != dataset_dir(name).resolve():
        if Path(folder).name == CALTECH_PHOTOS_FULL:
            return (f" {folder} is the full profile's built set: delete that folder and call "
                    "course_lib.data.caltech.caltech_photos_full() again to rebuild it (about 40 s from the "
                    "Caltech-101 copy beside it).")
        return (f" {folder} is a copy outside the course repository: rebuild it with `{_SOURCES[name]}` "
                "(--out that folder) or copy it again from where it came from.")
    return (f" Restore it with `git checkout -- datasets/{name}/{file}` in the course repository, or rebuild the set "
            f"with `{_SOURCES[name]}`.")


def _folder(name: str, root) -> Path:
    if root is None:
        return dataset_dir(name)
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{name} folder {folder} not found: pass root= the folder that holds its SHA256SUMS "
                           f"(or leave root=None for the bundled copy in datasets/{name}/).")
    return folder


def _verified(name: str, folder: Path, files) -> dict[str, str]:
    """Check ``files`` of ``folder`` against its SHA256SUMS (once per file version); return their digests."""
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        raise DatasetError(f"{sums_file} is missing, so the {name} files cannot be verified." +
                           _restore_hint(name, "SHA256SUMS", folder))
    sums = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, file = line.split()
            sums[file.lstrip("*")] = digest
    out = {}
    for file in files:
        path = folder / file
        if file not in sums:
            raise DatasetError(f"{file} is not listed in {sums_file}." + _restore_hint(name, "SHA256SUMS", folder))
        if not path.is_file():
            raise DatasetError(f"{name} file {path} is missing." + _restore_hint(name, file, folder))
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns, sums[file])
        if key not in _VERIFIED:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != sums[file]:
                raise DatasetError(f"{name} file {path} is corrupt: sha256 {digest[:16]}... does not match the "
                                   f"expected {sums[file][:16]}..." + _restore_hint(name, file, folder))
            _VERIFIED.add(key)
        out[file] = sums[file]
    return out


def _read_index(name: str, folder: Path, header: list[str]) -> list[dict[str, str]]:
    with open(folder / "index.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or list(rows[0]) != header:
        raise DatasetError(f"{folder / 'index.csv'} does not have the columns {header}." +
                           _restore_hint(name, "index.csv", folder))
    return rows


def _decode_zip(name: str, path: Path, files: list[str], mode: str, size: int) -> np.ndarray:
    """Decode ``files`` of the zip at ``path``: uint8 ``N x size x size x C`` (C = 3 for "RGB", 1 for "1")."""
    from PIL import Image

    channels = 3 if mode == "RGB" else 1
    out = np.empty((len(files), size, size, channels), np.uint8)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for i, file in enumerate(files):
            if file not in names:
                raise DatasetError(f"{path} has no entry {file}, which index.csv lists." +
                                   _restore_hint(name, path.name, path.parent))
            with Image.open(io.BytesIO(zf.read(file))) as im:
                if im.size != (size, size) or im.mode != mode:
                    raise DatasetError(f"{path}:{file} is {im.mode} {im.size[0]} x {im.size[1]}, expected {mode} "
                                       f"{size} x {size}." + _restore_hint(name, path.name, path.parent))
                arr = np.asarray(im.convert("L") if mode == "1" else im)
            out[i] = arr.reshape(size, size, channels)
    return out


# ---------------------------------------------------------------------------------------------------- caltech_photos

@lru_cache(maxsize=2)
def _caltech_all(folder: str, digests: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    folder_p = Path(folder)
    rows = _read_index(CALTECH_PHOTOS, folder_p, ["file", "label", "class", "split", "crop", "source",
                                                  "source_sha256"])
    classes: dict[int, str] = {}
    for r in rows:
        label = int(r["label"])
        if classes.setdefault(label, r["class"]) != r["class"] or r["split"] not in ("train", "test"):
            raise DatasetError(f"{folder_p / 'index.csv'} is inconsistent (label {label}: {r['class']!r}, split "
                               f"{r['split']!r})." + _restore_hint(CALTECH_PHOTOS, "index.csv", folder_p))
    if sorted(classes) != list(range(len(classes))):
        raise DatasetError(f"{folder_p / 'index.csv'}: labels are not 0 .. {len(classes) - 1}." +
                           _restore_hint(CALTECH_PHOTOS, "index.csv", folder_p))
    images = _decode_zip(CALTECH_PHOTOS, folder_p / "images.zip", [r["file"] for r in rows], "RGB", PHOTO_SIZE)
    images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    labels = np.array([int(r["label"]) for r in rows], np.int64)
    splits = np.array([r["split"] for r in rows])
    for a in (images, labels, splits):
        a.setflags(write=False)
    return images, labels, splits, tuple(classes[i] for i in range(len(classes)))


def caltech_photos(split: str = "train", root=None) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """The Caltech-101 colour-photo set (``datasets/caltech_photos/``; CC BY 4.0, see its README).

    True colour photographs only (greyscale files, near-grey pictures, drawing and cartoon classes, the clutter
    class, near duplicates and rotated scans whose black corners cannot be cropped away are filtered out; at most
    60 per class),
    centre squares resized to 128 x 128 with Lanczos, JPEG quality 90 (4:4:4). The split is fixed and stratified
    by class: 90% train, 10% test (at least one per class).

    Args:
        split: ``"train"`` (4,142 photos) or ``"test"`` (460).
        root: a folder holding ``images.zip``, ``index.csv`` and ``SHA256SUMS``; default the bundled copy.

    Returns:
        ``(images, labels, classes)``: ``uint8`` tensor ``N x 3 x 128 x 128`` (RGB, sRGB values 0-255), ``int64``
        tensor ``N`` of class indices into ``classes`` (95 Caltech-101 class names, sorted). Rows are ordered by
        class, then file name (shuffle them yourself). The tensors are fresh copies of a cached decode (the first
        call takes a few seconds).

    Raises:
        ValueError: for an unknown split.
        DatasetError: if a file is missing, fails its sha256 check or does not hold what ``index.csv`` says.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = _folder(CALTECH_PHOTOS, root)
    digests = _verified(CALTECH_PHOTOS, folder, ["images.zip", "index.csv"])
    images, labels, splits, classes = _caltech_all(str(folder.resolve()), tuple(digests.values()))
    idx = np.flatnonzero(splits == split)
    return torch.from_numpy(images[idx]), torch.from_numpy(labels[idx]), classes


def caltech_photos_full(root=None, download: bool = True) -> Path:
    """The folder of the full profile's training photos: every true colour photograph of Caltech-101 that the
    shipped set's filters keep, without its cap of 60 per class (6,476 training photos against 4,142; the same 460
    test photos, file for file), built on first use from a copy of Caltech-101 by
    :func:`course_lib.data.build_photo_sets.build_caltech_photos` (about 40 s, 52 MB) and reused afterwards.

    Args:
        root: the folder for the Caltech-101 copy and the built set (default
            :func:`course_lib.data.official.default_root`: ``$COURSE_DOWNLOADS``, else
            ``~/.cache/course_lib/official``). A copy already there is used as it is: ``101_ObjectCategories.tar.gz``
            or the extracted ``101_ObjectCategories/``, directly in ``root`` or in ``root/caltech101/`` (the
            ``torchvision.datasets.Caltech101`` layout).
        download: without a copy, download one with ``torchvision.datasets.Caltech101(root, download=True)``
            (CaltechDATA's zip, the images with their annotations; the image archive alone is 131 MB). The only
            download the full profile of notebooks 03 and 10 makes.

    Returns:
        ``root/caltech_photos_full``, holding ``images.zip``, ``index.csv``, ``SHA256SUMS`` and a README (source and
        licence, CC BY 4.0); read it with ``caltech_photos(split, root=...)`` or :func:`photo_set`.

    Raises:
        DatasetError: no copy and ``download=False``, or the download failed (the message says where to put a copy).
    """
    from . import build_photo_sets as builder
    from .official import default_root

    base = Path(root).expanduser() if root is not None else default_root()
    folder = base / CALTECH_PHOTOS_FULL
    if (folder / "SHA256SUMS").is_file():
        return folder
    where = (f"put 101_ObjectCategories.tar.gz (or the extracted 101_ObjectCategories/) in {base} or "
             f"{base / 'caltech101'}")
    try:
        builder.find_source(base)
    except FileNotFoundError:
        if not download:
            raise DatasetError(f"no copy of Caltech-101 in {base}: {where}, or call with download=True "
                               "(torchvision.datasets.Caltech101 downloads it from CaltechDATA).") from None
        import torchvision

        try:
            torchvision.datasets.Caltech101(str(base), download=True)
        except Exception as err:  # network, server, disk: say where a copy goes instead
            raise DatasetError(f"could not download Caltech-101 into {base} ({type(err).__name__}: {err}); "
                               f"{where} and call again.") from err
    images = dict(builder.iter_caltech(base))
    builder.build_caltech_photos(images, base, builder.e2m_splits(images), capped=False)
    return folder


def photo_set(split: str = "train", photos: str = CALTECH_PHOTOS) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """:func:`caltech_photos` of the set an experiment's ``Config.photos`` names: ``"caltech_photos"`` (the
    bundled set, the fast profile) or ``"caltech_photos_full"`` (:func:`caltech_photos_full`, built on first use;
    the full profile). Both have the same test split.

    Raises:
        ValueError: an unknown set name or split.
    """
    if photos == CALTECH_PHOTOS:
        return caltech_photos(split)
    if photos == CALTECH_PHOTOS_FULL:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return caltech_photos(split, root=caltech_photos_full())
    raise ValueError(f"unknown photo set {photos!r}; choose one of {PHOTO_SETS}")


# ----------------------------------------------------------------------------------------------------------- kodak24

@lru_cache(maxsize=2)
def _kodak_all(folder: str, digests: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    from PIL import Image

    out = []
    for file in KODAK_NAMES:
        with Image.open(Path(folder) / file) as im:
            if im.mode != "RGB" or sorted(im.size) != [512, 768]:
                raise DatasetError(f"{Path(folder) / file} is {im.mode} {im.size}, expected RGB 768 x 512 or "
                                   "512 x 768." + _restore_hint(KODAK24, file, Path(folder)))
            arr = np.asarray(im).copy()
        arr.setflags(write=False)
        out.append(arr)
    return tuple(out)


def bt601_luma(rgb: np.ndarray) -> np.ndarray:
    """Grey image of an RGB one by ITU-R BT.601 luma on the full scale, ``Y = 0.299 R + 0.587 G + 0.114 B``.

    Computed with ``skimage.color.rgb2ycbcr`` (BT.601, studio range 16-235) and rescaled to 0-255
    (``(Y - 16) * 255 / 219``), then rounded: the grey images of the denoising benchmarks (MATLAB's ``rgb2gray``,
    weights 0.2989 / 0.5870 / 0.1140, differs by at most one grey level on a few pixels). Not the BT.709 weights
    of ``skimage.color.rgb2gray``.

    Args:
        rgb: ``H x W x 3`` uint8 array (0-255).

    Returns:
        ``H x W`` uint8 array.

    Raises:
        ValueError: if ``rgb`` is not ``H x W x 3`` uint8.
    """
    from skimage.color import rgb2ycbcr

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 RGB array, got {rgb.dtype} {rgb.shape}")
    y = (rgb2ycbcr(rgb)[..., 0] - 16.0) * (255.0 / 219.0)
    return np.clip(np.round(y), 0, 255).astype(np.uint8)


def kodak24(grey: bool = False, root=None) -> list[np.ndarray]:
    """The Kodak Lossless True Color Image Suite (``datasets/kodak24/``): 24 photographs for evaluation only.

    Never train on these: they are the test set the restoration notebooks report on (and the papers' tables use
    them too). Licence: "released by the Eastman Kodak Company for unrestricted usage" (see the README).

    Args:
        grey: if True, each image as BT.601 luma (:func:`bt601_luma`), the grey Kodak24 of denoising papers.
        root: a folder holding ``kodim01.png`` ... ``kodim24.png`` and ``SHA256SUMS``; default the bundled copy.

    Returns:
        24 ``uint8`` arrays in the order ``kodim01`` ... ``kodim24``: ``H x W x 3`` RGB (0-255), or ``H x W`` if
        ``grey``; orientation as stored (18 landscape ``512 x 768``, 6 portrait ``768 x 512``, H x W). Fresh copies.

    Raises:
        DatasetError: if a file is missing, fails its sha256 check or is not a 768 x 512 RGB image.
    """
    folder = _folder(KODAK24, root)
    digests = _verified(KODAK24, folder, KODAK_NAMES)
    images = _kodak_all(str(folder.resolve()), tuple(digests.values()))
    return [bt601_luma(im) if grey else im.copy() for im in images]


# -------------------------------------------------------------------------------------------------- edges2motorbikes

@lru_cache(maxsize=2)
def _e2m_index(folder: str, digests: tuple[str, ...]) -> tuple[list[dict[str, str]], tuple[int, ...], int]:
    """Rows of index.csv, the sides of the edge maps in edges.zip and the side of the photos."""
    rows = _read_index(EDGES2MOTORBIKES, Path(folder), ["file", "domain", "split", "source", "source_width",
                                                         "source_height", "source_mode", "source_sha256"])
    with zipfile.ZipFile(Path(folder) / "edges.zip") as zf:
        edge_sizes = sorted({int(n.split("/")[0]) for n in zf.namelist()})
    with zipfile.ZipFile(Path(folder) / "photos.zip") as zf:
        photo_sizes = sorted({int(n.split("/")[0]) for n in zf.namelist()})
    if len(photo_sizes) != 1:
        raise DatasetError(f"{Path(folder) / 'photos.zip'} should hold one size of photos, has {photo_sizes}." +
                           _restore_hint(EDGES2MOTORBIKES, "photos.zip", Path(folder)))
    return rows, tuple(edge_sizes), photo_sizes[0]


@lru_cache(maxsize=6)
def _e2m_arrays(folder: str, digests: tuple[str, ...], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Decoded edges (bool, True on an edge) and photos (uint8, N x 3 x size x size) of every row."""
    rows, edge_sizes, photo_size = _e2m_index(folder, digests)
    files = [r["file"] for r in rows]
    white = _decode_zip(EDGES2MOTORBIKES, Path(folder) / "edges.zip", [f"{size}/{f}.png" for f in files], "1", size)
    edges = white[..., 0] == 0
    if size == photo_size:
        photos = _decode_zip(EDGES2MOTORBIKES, Path(folder) / "photos.zip", [f"{size}/{f}.jpg" for f in files], "RGB",
                             size).transpose(0, 3, 1, 2)
    else:  # area resize by 1/2 of the stored photos, rounded to uint8
        _, big = _e2m_arrays(folder, digests, photo_size)
        n = len(files)
        photos = np.round(big.reshape(n, 3, size, 2, size, 2).astype(np.float32).mean(axis=(3, 5))).astype(np.uint8)
    photos = np.ascontiguousarray(photos)
    for a in (edges, photos):
        a.setflags(write=False)
    return edges, photos


def _e2m_select(split: str, size: int, domain: str, root) -> tuple[np.ndarray, np.ndarray, list[dict[str, str]]]:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    domains = E2M_DOMAINS if domain == "all" else (domain,)
    if any(d not in E2M_DOMAINS for d in domains):
        raise ValueError(f"domain must be one of {E2M_DOMAINS} or 'all', got {domain!r}")
    folder = _folder(EDGES2MOTORBIKES, root)
    digests = tuple(_verified(EDGES2MOTORBIKES, folder, ["photos.zip", "edges.zip", "index.csv"]).values())
    key = str(folder.resolve())
    rows, edge_sizes, photo_size = _e2m_index(key, digests)
    if size not in edge_sizes or size not in (photo_size, photo_size // 2):
        sizes = sorted(s for s in edge_sizes if s in (photo_size, photo_size // 2))
        raise ValueError(f"size must be one of {sizes} for {folder}, got {size!r}" +
                         (" (the 256 x 256 set is built by `python tools/build_photo_sets.py CALTECH101 "
                          "--full-size 256 --out DIR` and read with root=DIR/edges2motorbikes)" if size == 256 else ""))
    edges, photos = _e2m_arrays(key, digests, size)
    idx = np.array([i for i, r in enumerate(rows) if r["split"] == split and r["domain"] in domains], np.int64)
    return edges[idx], photos[idx], [rows[i] for i in idx]


def _to_pm1(edges: np.ndarray, photos: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    e = torch.from_numpy(np.where(edges, -1.0, 1.0).astype(np.float32))[:, None].expand(-1, 3, -1, -1).contiguous()
    p = torch.from_numpy(photos.astype(np.float32) / 127.5 - 1.0)
    return e, p


def edges2motorbikes(split: str = "train", size: int = 64, domain: str = "motorbikes",
                     root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired edges -> photos from Caltech-101 (``datasets/edges2motorbikes/``; CC BY 4.0, see its README).

    The whole object, padded to a square on white and resized to 128 x 128 (Lanczos); the 64 x 64 photos are the
    128 px ones area-resized (2 x 2 means). Edges: ``skimage.feature.canny`` of the photo's BT.601 luma at the
    target side (sigma 1.5 at 128, 1.0 at 64, 2.0 at 256; thresholds 0.1 / 0.2), computed by the build script from
    the lossless resized photo and shipped as 1-bit PNGs. pix2pix drew its edges with HED and post-processed them
    (Isola et al. 2017, Sec. 4); Canny lines are thinner and break more often.

    Args:
        split: ``"train"`` or ``"test"`` (motorbikes 698 / 100, airplanes 700 / 100; fixed).
        size: 64 or 128 for the bundled set (256 or 128 for a folder built with ``--full-size 256``).
        domain: ``"motorbikes"``, ``"airplanes"`` or ``"all"`` (motorbikes first, then airplanes).
        root: a folder holding ``photos.zip``, ``edges.zip``, ``index.csv``, ``SHA256SUMS``; default the bundled
            copy.

    Returns:
        ``(edges, photos)``: float32 tensors ``N x 3 x size x size`` in [-1, 1]. ``edges`` is the pix2pix input
        (A): black (-1) lines on white (+1), the three channels equal; ``photos`` the target (B), RGB. Row ``i`` of
        one is the pair of row ``i`` of the other. Rows in file-name order.

    Raises:
        ValueError: for an unknown split, domain or size.
        DatasetError: if a file is missing, fails its sha256 check or does not hold what ``index.csv`` says.
    """
    edges, photos, _ = _e2m_select(split, size, domain, root)
    return _to_pm1(edges, photos)


def edges2motorbikes_unpaired(size: int = 64, domain: str = "motorbikes", seed: int = 0,
                              root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Unpaired training domains for CycleGAN: edges of one half of the training photos, photos of the other half.

    The training split is shuffled with ``seed`` and cut in two: domain A gets the edge maps of the first half,
    domain B the photos of the second, so no photo's own edges are in A (the pairs are broken). Score CycleGAN on
    the paired test split, ``edges2motorbikes("test", size)``, with pix2pix trained on the pairs as its upper
    bound (Zhu et al. 2017, Sec. 5.1).

    Returns:
        ``(edges_A, photos_B)``: float32 ``N_A x 3 x size x size`` and ``N_B x 3 x size x size`` in [-1, 1]
        (349 and 349 for the motorbikes).

    Raises:
        ValueError, DatasetError: as :func:`edges2motorbikes`.
    """
    edges, photos, _ = _e2m_select("train", size, domain, root)
    order = torch.randperm(len(edges), generator=torch.Generator().manual_seed(seed)).numpy()
    half = len(order) // 2
    a, _ = _to_pm1(edges[order[:half]], photos[order[:half]])
    _, b = _to_pm1(edges[order[half:]], photos[order[half:]])
    return a, b
