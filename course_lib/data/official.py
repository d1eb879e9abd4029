"""The official pix2pix and CycleGAN datasets: downloads for users with internet, and loaders.

Nothing here runs unless a user asks for a download: the course runs offline on its bundled data
(:mod:`course_lib.data.shoes`). With internet, :func:`download_official` fetches an archive from the
authors' host (the URLs their download scripts use), resumably, checks it and unpacks it:

* **resumable** -- the archive is written to ``<name>.<ext>.part`` (torchvision's ``download_url``
  for a fresh start); an interrupted download continues from where it stopped with an HTTP range
  request; an archive already present (e.g. downloaded by hand) is not fetched again;
* **verified** -- after unpacking, the number of images per split and the image size are compared
  with the expected ones (:data:`DATASETS`); then the archive's sha256 is recorded in
  ``<root>/CHECKSUMS.json`` and every later call checks the archive against it;
* **offline** -- a :class:`~course_lib.data.paths.DatasetError` names the URL and the path where a
  manually downloaded archive should be put.

Formats: the pix2pix sets are *aligned*: each file holds the pair side by side, ``A | B``
(:class:`AlignedDataset`; which half is the input is chosen explicitly, ``"AtoB"`` or ``"BtoA"``). The
CycleGAN sets are *unaligned*: folders ``trainA``, ``trainB``, ``testA``, ``testB``
(:class:`UnalignedDataset`).

Where the expected counts come from (this build has no internet, so none was counted from the archives
themselves; checked against public listings on 2026-12-02):

* CycleGAN sets: the TensorFlow Datasets catalog page ``cycle_gan`` (split sizes of trainA / trainB /
  testA / testB for horse2zebra, apple2orange, summer2winter_yosemite, monet2photo) agrees with every
  number below. The CycleGAN repository's ``docs/datasets.md`` quotes *other*, older counts (e.g. 939
  horses); we follow the archives as TFDS lists them.
* pix2pix sets: facades 400 / 100 / 106 (file names 1..N per split in a public listing of the archive;
  Hugging Face ``huggan/facades`` 606 in all), cityscapes 2,975 / 500 and maps 1,096 / 1,098 (TFDS
  ``cycle_gan/cityscapes`` and ``cycle_gan/maps`` use the same images), night2day 17,823 / 10 / 2,287
  (a public listing; ``huggan/night2day`` 20,120 in all), edges2shoes 49,825 training images (its total of
  50,025 on Hugging Face leaves 200 for val), edges2handbags 138,567 training images. **edges2handbags'
  val count (200) is not confirmed by any source we found**; image sizes are confirmed for facades
  (512 x 256) and maps (1200 x 600) only.

cityscapes and maps have no test split: their ``val`` is the test set (as in the pix2pix paper);
night2day's ``val`` holds only 10 images, its ``test`` split is the evaluation set. A mismatch error says
what was found and how to relax the check (``verify=False``) for a copy of one's own.

**A copy you already have** (downloaded by hand, unpacked elsewhere, or built yourself in the same
layout): pass the folder that holds it as ``root`` (``root/facades/train/1.jpg``; ``root`` may also be
the set's own folder, ``facades/``). Its files are used as they are: nothing is downloaded, unpacked over
them or recorded. The layout is always checked (a missing or empty split folder, no split folder at all,
or an A|B image of odd width is a :class:`~course_lib.data.paths.DatasetError` naming what is wrong);
the published counts and image sizes are required with ``verify=True`` and only warned about
(:class:`OfficialCountWarning`) with ``verify=False``, for a subset or a copy at another resolution.
Files are read in natural order (``1, 2, 10, 100``: the number in a name counts as a number).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .paths import DatasetError

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
ROOT_ENV_VAR = "COURSE_DOWNLOADS"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class OfficialDataset:
    """What is known about one official dataset before downloading it.

    Attributes:
        name: the name on the host (``"facades"``, ``"horse2zebra"``).
        kind: ``"aligned"`` (pix2pix, A|B side by side) or ``"unaligned"`` (CycleGAN, two folders).
        url: where the archive is.
        counts: expected number of images per split folder (``{"train": 400, ...}`` or
            ``{"trainA": 1067, ...}``).
        image_size: expected ``(width, height)`` of every file (the whole A|B pair for aligned sets).
        paper_direction: the direction of the paper's main results, e.g. ``"BtoA"`` for facades
            (labels -> photo); loaders still ask for the direction explicitly.
    """

    name: str
    kind: str
    url: str
    counts: dict = field(default_factory=dict)
    image_size: tuple[int, int] | None = None
    paper_direction: str | None = None

    @property
    def archive_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def _p2p(name, counts, size, direction):
    return OfficialDataset(name, "aligned", PIX2PIX_URL.format(name=name), counts, size, direction)


def _cyc(name, counts):
    keys = ("trainA", "trainB", "testA", "testB")
    return OfficialDataset(name, "unaligned", CYCLEGAN_URL.format(name=name), dict(zip(keys, counts)), (256, 256))


# Where each expected count comes from. None was counted from the archives (no internet when this was
# written). "listing (2026-12-02)": checked by an earlier session against the public listings named in the
# module docstring. "re-checked (2026-12-06)": found again with the course's search tool in public pages:
#   facades 400 / 100 / 106: re-checked only as a total -- Hugging Face huggan/facades has 606 rows
#       (= 400 + 100 + 106); the CycleGAN repository's docs/datasets.md: "facades: 400 images" (train).
#       Per-split val/test counts: listing (2026-12-02) only.
#   cityscapes 2,975 train: re-checked (docs/datasets.md, "2975 images from the Cityscapes training set");
#       val 500: listing (2026-12-02) only.
#   maps 1,096 train: re-checked (docs/datasets.md, "1096 training images"); val 1,098: listing only.
#   edges2shoes 49,825 / 200, edges2handbags 138,567 / 200, night2day 17,823 / 10 / 2,287: listing
#       (2026-12-02) only; not found again. edges2handbags' val count was never confirmed by any source.
#   horse2zebra 1,067 / 1,334 / 120 / 140: re-checked -- Hugging Face gigant/horse2zebra (built from the
#       official zip): horse train 1.07k rows, test 120; zebra 1.47k rows in all (1,334 + 140 = 1,474).
#   apple2orange 995 / 1,019 / 266 / 248: partly re-checked -- huggan/apple2orange's dataset_infos.json
#       lists train 1,019 and test 266 examples (the larger of A and B in each split: 1,019 = trainB,
#       266 = testA); trainA 995 and testB 248: listing (2026-12-02) only.
#   summer2winter_yosemite, monet2photo: listing (2026-12-02, TFDS cycle_gan) only; the CycleGAN
#       repository's docs/datasets.md quotes older, different counts (1,273 / 854; Monet 1,074).
# Image sizes: facades 512 x 256 and maps 1200 x 600 confirmed (listing); the others are assumed 2:1 at 256.
DATASETS: dict[str, OfficialDataset] = {d.name: d for d in [
    _p2p("facades", {"train": 400, "val": 100, "test": 106}, (512, 256), "BtoA"),
    _p2p("cityscapes", {"train": 2975, "val": 500}, (512, 256), "BtoA"),
    _p2p("maps", {"train": 1096, "val": 1098}, (1200, 600), "AtoB"),
    _p2p("edges2shoes", {"train": 49825, "val": 200}, (512, 256), "AtoB"),
    _p2p("edges2handbags", {"train": 138567, "val": 200}, (512, 256), "AtoB"),
    _p2p("night2day", {"train": 17823, "val": 10, "test": 2287}, (512, 256), "AtoB"),
    _cyc("horse2zebra", (1067, 1334, 120, 140)),
    _cyc("apple2orange", (995, 1019, 266, 248)),
    _cyc("summer2winter_yosemite", (1231, 962, 309, 238)),
    _cyc("monet2photo", (1072, 6287, 121, 751)),
]}
"""The official sets this module knows, by name (the source of every count: the comment above)."""


class OfficialCountWarning(UserWarning):
    """A copy of an official set whose image counts or sizes differ from the published ones, loaded with
    ``verify=False`` (a subset, or a copy of one's own at another resolution)."""


def default_root() -> Path:
    """Where downloads go: ``$COURSE_DOWNLOADS``, else ``~/.cache/course_lib/official``."""
    env = os.environ.get(ROOT_ENV_VAR)
    return Path(env) if env else Path.home() / ".cache" / "course_lib" / "official"


def _spec(name: str) -> OfficialDataset:
    if name not in DATASETS:
        raise ValueError(f"unknown official dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _offline_error(spec: OfficialDataset, archive: Path, err: Exception) -> DatasetError:
    return DatasetError(
        f"could not download {spec.name} from {spec.url} ({type(err).__name__}: {err}). Without internet, "
        f"download {spec.url} on another machine and put the file at {archive} (keep its name), then call "
        f"download_official({spec.name!r}) again: it will check and unpack it.")


def _fetch(spec: OfficialDataset, archive: Path) -> None:
    """Download to ``archive.part`` (resuming a partial one), then rename it to ``archive``."""
    from torchvision.datasets.utils import download_url

    part = archive.with_name(archive.name + ".part")
    try:
        if part.is_file() and part.stat().st_size > 0:
            done = part.stat().st_size
            request = urllib.request.Request(spec.url, headers={"Range": f"bytes={done}-"})
            with urllib.request.urlopen(request, timeout=60) as response:
                mode = "ab" if getattr(response, "status", 200) == 206 else "wb"  # 200: no range support
                with open(part, mode) as f:
                    shutil.copyfileobj(response, f, 1 << 20)
        else:
            download_url(spec.url, str(archive.parent), filename=part.name)
    except (urllib.error.URLError, OSError, RuntimeError) as err:
        raise _offline_error(spec, archive, err) from None
    part.replace(archive)


def natural_key(path: str | Path) -> tuple:
    """Sort key of a file name in natural order: runs of digits compare as numbers (``2.jpg`` before
    ``10.jpg`` before ``100.jpg``; text order would give 1, 10, 100, 2), other runs case-insensitively;
    the name itself breaks ties."""
    name = Path(path).name
    parts = tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", name) if t)
    return parts, name


def _image_files(folder: Path) -> list[Path]:
    """The images of a folder (:data:`IMAGE_SUFFIXES`) in natural order (:func:`natural_key`); ``[]`` if none."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)


def _odd_width_error(path: Path, width: int) -> DatasetError:
    return DatasetError(f"{path}: an A|B image must have an even width (two halves of equal width side by side), "
                        f"got {width} pixels. Crop or pad it to an even width, or remove it from the folder.")


def dataset_folder(name: str, root: str | Path | None = None) -> Path:
    """The folder of the set ``name`` under ``root`` (default :func:`default_root`): ``root/name``, or
    ``root`` itself when ``root/name`` does not exist and ``root`` holds the set's split folders (a user
    pointing at ``.../facades`` rather than at the folder above it). Checks nothing else.

    Raises:
        ValueError: unknown name.
    """
    spec = _spec(name)
    root = Path(root or default_root())
    if not (root / name).exists() and any((root / split).is_dir() for split in spec.counts):
        return root
    return root / name


def verify_official(name: str, root: str | Path | None = None, check_sizes: int = 5, *,
                    strict: bool = True) -> dict:
    """Check a copy of an official set: its layout, the image count of each split and the size of the
    first ``check_sizes`` images of each split (in natural order).

    Always checked (a :class:`DatasetError` names the folder or file): at least one of the set's split
    folders exists (``train/``, ``val/``, ``test/`` for the pix2pix sets; ``trainA/`` ... for CycleGAN's),
    none that exists is empty, and (aligned sets) the checked A|B images have an even width. Compared with
    the published counts and sizes (:data:`DATASETS`): missing splits, counts and sizes; with ``strict``
    a difference is a :class:`DatasetError`, otherwise one :class:`OfficialCountWarning` lists them all.

    Args:
        name: a key of :data:`DATASETS`.
        root: the folder holding the set's folder (or the set's folder itself, :func:`dataset_folder`).
        check_sizes: images per split whose size is read (the header only).
        strict: require the published counts and sizes.

    Returns:
        ``{split: count}`` of the split folders found (0 for a missing one).

    Raises:
        ValueError: unknown name.
        DatasetError: a layout error, or (``strict``) counts or sizes that differ.
    """
    from PIL import Image

    spec = _spec(name)
    folder = dataset_folder(name, root)
    splits = list(spec.counts)
    if not folder.is_dir():
        raise DatasetError(f"{folder} does not exist: the {name} set should be unpacked there, with the split "
                           f"folders {', '.join(s + '/' for s in splits)}")
    present = [s for s in splits if (folder / s).is_dir()]
    if not present:
        found = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())[:10]
        raise DatasetError(f"{folder} holds none of the {name} set's split folders "
                           f"{', '.join(s + '/' for s in splits)} (it holds: {found or 'nothing'}). Point root at "
                           f"the folder that holds {name}/ (or at {name}/ itself), in the official layout: "
                           + ("A|B images side by side in each split folder." if spec.kind == "aligned" else
                              "trainA/, trainB/, testA/, testB/ of single images."))
    counts, differences = {}, []
    for split in splits:
        files = _image_files(folder / split)
        counts[split] = len(files)
        if split in present and not files:
            raise DatasetError(f"{folder / split} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        if len(files) != spec.counts[split]:
            differences.append(f"{folder / split}: expected {spec.counts[split]} images, found {len(files)}")
        sized = False
        for path in files[:check_sizes]:
            with Image.open(path) as im:
                size = im.size
            if spec.kind == "aligned" and size[0] % 2:
                raise _odd_width_error(path, size[0])
            if spec.image_size and size != tuple(spec.image_size) and not sized:  # one line per split
                differences.append(f"{path}: expected {spec.image_size[0]}x{spec.image_size[1]} pixels, got "
                                   f"{size[0]}x{size[1]}")
                sized = True
    if differences and strict:
        raise DatasetError("; ".join(differences) + f". For a download: delete {folder} and the archive to download "
                           "again. For a copy of your own (a subset, another resolution): pass verify=False, which "
                           "warns instead.")
    if differences:
        warnings.warn(f"{name} at {folder} differs from the published set (used as it is): " + "; ".join(differences),
                      OfficialCountWarning, stacklevel=3)
    return counts


def _recorded(root: Path) -> dict:
    path = root / "CHECKSUMS.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def download_official(name: str, root: str | Path | None = None, verify: bool = True) -> Path:
    """The folder of an official pix2pix/CycleGAN dataset: a copy already there, else downloaded, checked
    and unpacked.

    **A copy already there** -- the set's folder under ``root`` (:func:`dataset_folder`: ``root/name``,
    or ``root`` itself if it holds the split folders) with at least one split folder, and no archive
    beside it: used as it is, whatever ``verify`` says -- never downloaded again, never unpacked over,
    nothing recorded. It is checked (:func:`verify_official`): the layout always, the published counts
    and image sizes strictly with ``verify=True``, as a warning (:class:`OfficialCountWarning`) with
    ``verify=False``. A set folder that exists without any split folder is an error, not a reason to
    download (it may be a user's folder in another layout).

    **Otherwise**, each step skipped when already done: fetch the archive (resumable; an archive put there
    by hand is used as is), check it against the sha256 recorded at the first good download, unpack it
    (torchvision's ``extract_archive``) unless the set's folder already exists, check it as above, record
    the sha256 in ``root/CHECKSUMS.json`` (only after a strict check).

    Args:
        name: a key of :data:`DATASETS`, e.g. ``"facades"`` or ``"horse2zebra"``.
        root: folder for archives and data (default :func:`default_root`, ``$COURSE_DOWNLOADS``).
        verify: require the published counts and image sizes (``True``), or only warn when they differ
            (``False``: a subset or a copy of one's own). The layout and, once recorded, the archive's
            checksum are always checked.

    Returns:
        The set's folder (holding ``train/``, ``test/``, ... or ``trainA/``, ...).

    Raises:
        ValueError: unknown name.
        DatasetError: offline (the message names the URL and where to put a manual download), a
            checksum that differs from the recorded one, a layout error, or (``verify``) counts/sizes
            that differ.
    """
    spec = _spec(name)
    root = Path(root or default_root())
    folder = dataset_folder(name, root)
    archive = root / spec.archive_name
    unpacked = folder.is_dir()
    if unpacked and not archive.is_file():  # a copy already there: used as it is, never fetched or overwritten
        verify_official(name, root, strict=verify)
        return folder
    root.mkdir(parents=True, exist_ok=True)
    recorded = _recorded(root)
    if not archive.is_file():
        _fetch(spec, archive)
    digest = sha256_file(archive)
    if name in recorded and recorded[name] != digest:
        raise DatasetError(f"{archive} has sha256 {digest}, but {recorded[name]} was recorded at its first good "
                           f"download: the file is corrupt or changed. Delete it to download again.")
    if not unpacked:
        from torchvision.datasets.utils import extract_archive

        extract_archive(str(archive), str(root))
    verify_official(name, root, strict=verify)
    if name not in recorded and verify:
        recorded[name] = digest
        (root / "CHECKSUMS.json").write_text(json.dumps(recorded, indent=2, sort_keys=True))
    return folder


def _load_rgb(path: Path, size: int | None):
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if size is not None and im.size != (size, size):
            im = im.resize((size, size), Image.BICUBIC)
        return torch.from_numpy(np.asarray(im, np.float32) / 127.5 - 1.0).permute(2, 0, 1).contiguous()


def split_aligned(pair: torch.Tensor, direction: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a side-by-side ``C x H x 2W`` image ``A | B`` into ``(input, target)``.

    ``direction="AtoB"`` returns ``(A, B)`` (left half is the input), ``"BtoA"`` returns ``(B, A)``.

    Raises:
        ValueError: for another direction or an odd width.
    """
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
    w = pair.shape[-1]
    if w % 2:
        raise ValueError(f"an A|B image has an even width, got {w}")
    a, b = pair[..., : w // 2], pair[..., w // 2:]
    return (a, b) if direction == "AtoB" else (b, a)


class AlignedDataset(Dataset):
    """A pix2pix set in the official side-by-side ``A | B`` format.

    ``dataset[i]`` is ``(input, target)``, each ``3 x size x size`` float32 in [-1, 1]; which half is
    the input is ``direction`` (required: facades' paper direction is ``"BtoA"``, labels -> photo).

    Files are taken in natural order (``1.jpg, 2.jpg, 10.jpg``; :func:`natural_key`), so that ``dataset[i]``
    is the same file on every machine and matches the numbering of the official archives.

    Args:
        folder: a split folder of ``A|B`` images (e.g. ``download_official("facades") / "train"``).
        direction: ``"AtoB"`` or ``"BtoA"``.
        size: side each half is resized to (``None`` keeps it).

    Raises:
        ValueError: another direction.
        DatasetError: no images in ``folder``; reading an image of odd width (it cannot be split into two
            equal halves: the message names the file).
    """

    def __init__(self, folder: str | Path, *, direction: str, size: int | None = 256):
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        self.folder, self.direction, self.size = Path(folder), direction, size
        self.files = _image_files(self.folder)
        if not self.files:
            what = "does not exist" if not self.folder.is_dir() else f"holds no images ({', '.join(IMAGE_SUFFIXES)})"
            raise DatasetError(f"{self.folder} {what}: an aligned split folder holds A|B images side by side")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        from PIL import Image

        with Image.open(self.files[i]) as im:
            im = im.convert("RGB")
            w, h = im.size
            if w % 2:
                raise _odd_width_error(self.files[i], w)
            halves = [im.crop((0, 0, w // 2, h)), im.crop((w // 2, 0, w, h))]
            if self.size is not None:
                halves = [x.resize((self.size, self.size), Image.BICUBIC) for x in halves]
            a, b = (torch.from_numpy(np.asarray(x, np.float32) / 127.5 - 1.0).permute(2, 0, 1).contiguous()
                    for x in halves)
        return (a, b) if self.direction == "AtoB" else (b, a)


class UnalignedDataset(Dataset):
    """A CycleGAN set: two folders of unpaired images (``trainA``/``trainB`` or ``testA``/``testB``).

    ``dataset[i]`` is ``(a, b)``: the ``i``-th image of A (cycling) and a random image of B drawn with
    a generator seeded by ``seed + i`` (reproducible, and no fixed pairing). Images ``3 x size x size``
    in [-1, 1]. ``len`` is the larger of the two folders.
    """

    def __init__(self, folder: str | Path, split: str = "train", size: int | None = 256, seed: int = 0):
        folder = Path(folder)
        self.files_a, self.files_b = _image_files(folder / f"{split}A"), _image_files(folder / f"{split}B")
        if not self.files_a or not self.files_b:
            raise DatasetError(f"{folder} needs non-empty {split}A/ and {split}B/ folders")
        self.size, self.seed = size, seed

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, i):
        j = int(torch.randint(len(self.files_b), (1,), generator=torch.Generator().manual_seed(self.seed + i)))
        return _load_rgb(self.files_a[i % len(self.files_a)], self.size), _load_rgb(self.files_b[j], self.size)


# --- loading batches -----------------------------------------------------------------------------------

def loader(dataset: Dataset, batch_size: int, *, seed: int = 0, shuffle: bool = True, drop_last: bool = True,
           device: torch.device | str | None = None, rank: int | None = None, world: int | None = None):
    """Endless batches of ``dataset`` (e.g. :class:`AlignedDataset`) for a training loop: a
    :class:`torch.utils.data.DataLoader` that keeps ``device`` busy, re-shuffled every epoch.

    Under torchrun (or with ``world`` > 1) a :class:`~torch.utils.data.distributed.DistributedSampler`
    gives each process its own ``1/world`` of every epoch (``batch_size`` is then per process: the
    global batch is ``world * batch_size``; its ``set_epoch`` is called every epoch, so the order
    changes). Loader options (workers, pinned memory, persistent workers, prefetching) come from
    :func:`course_lib.distributed.loader_options`: none on the CPU, several workers and pinned memory on
    CUDA, ``COURSE_NUM_WORKERS`` / ``COURSE_PIN_MEMORY`` to override.

    Args:
        dataset: a map-style dataset whose items are tensors or tuples of tensors.
        batch_size: examples per batch (per process under torchrun).
        seed: the shuffling's seed (epoch ``e`` uses ``seed + e`` with the distributed sampler).
        shuffle, drop_last: as for ``DataLoader``.
        device: where the batches will go (default :func:`course_lib.device.get_device`).
        rank, world: this process's rank and the number of processes (default: from
            :mod:`course_lib.distributed`).

    Yields:
        Batches as the ``DataLoader`` makes them (CPU tensors, pinned on CUDA), for ever.

    Raises:
        ValueError: ``batch_size < 1``, or fewer examples per process than one batch with ``drop_last``.
    """
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    from .. import distributed

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rank = distributed.rank() if rank is None else rank
    world = distributed.world_size() if world is None else world
    options = distributed.loader_options(device)
    if world > 1:
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                                     drop_last=drop_last)
        per_process = len(sampler)
        data = DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last, **options)
    else:
        sampler, per_process = None, len(dataset)
        data = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                          generator=torch.Generator().manual_seed(seed), **options)
    if drop_last and per_process < batch_size:
        raise ValueError(f"{per_process} examples per process make no batch of {batch_size}: use a smaller batch "
                         "size or fewer processes")
    epoch = 0
    while True:
        if sampler is not None:
            sampler.set_epoch(epoch)
        yield from data
        epoch += 1
