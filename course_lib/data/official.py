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
what was found and how to skip the check (``verify=False``) if the host's files changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
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
"""The official sets this module knows, by name."""


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


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def verify_official(name: str, root: str | Path | None = None, check_sizes: int = 5) -> dict:
    """Check an unpacked dataset: image counts per split and the size of ``check_sizes`` images per split.

    Returns ``{split: count}``. Raises :class:`DatasetError` naming what differs.
    """
    from PIL import Image

    spec = _spec(name)
    folder = Path(root or default_root()) / name
    found = {}
    for split, expected in spec.counts.items():
        files = _image_files(folder / split)
        found[split] = len(files)
        if len(files) != expected:
            raise DatasetError(f"{folder / split}: expected {expected} images, found {len(files)}. Delete {folder} "
                               f"and the archive to download again, or pass verify=False if the host's files changed.")
        for path in files[:check_sizes]:
            with Image.open(path) as im:
                if spec.image_size and im.size != tuple(spec.image_size):
                    raise DatasetError(f"{path}: expected {spec.image_size[0]}x{spec.image_size[1]} pixels, got "
                                       f"{im.size[0]}x{im.size[1]}")
    return found


def _recorded(root: Path) -> dict:
    path = root / "CHECKSUMS.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def download_official(name: str, root: str | Path | None = None, verify: bool = True) -> Path:
    """Download, check and unpack an official pix2pix/CycleGAN dataset; return its folder.

    Steps, each skipped when already done: fetch the archive (resumable; an archive put there by hand
    is used as is), check it against the sha256 recorded at the first good download, unpack it
    (torchvision's ``extract_archive``), check image counts and sizes, record the sha256.

    Args:
        name: a key of :data:`DATASETS`, e.g. ``"facades"`` or ``"horse2zebra"``.
        root: folder for archives and data (default :func:`default_root`).
        verify: check counts and image sizes (the checksum is always checked once recorded).

    Raises:
        ValueError: unknown name.
        DatasetError: offline (the message names the URL and where to put a manual download), a
            checksum that differs from the recorded one, or counts/sizes that differ.
    """
    spec = _spec(name)
    root = Path(root or default_root())
    root.mkdir(parents=True, exist_ok=True)
    archive = root / spec.archive_name
    folder = root / name
    recorded = _recorded(root)
    if not archive.is_file():
        if name in recorded and folder.is_dir():  # checked before; the archive was deleted to save space
            if verify:
                verify_official(name, root)
            return folder
        _fetch(spec, archive)
    digest = sha256_file(archive)
    if name in recorded and recorded[name] != digest:
        raise DatasetError(f"{archive} has sha256 {digest}, but {recorded[name]} was recorded at its first good "
                           f"download: the file is corrupt or changed. Delete it to download again.")
    if not all((folder / split).is_dir() for split in spec.counts) or not spec.counts:
        from torchvision.datasets.utils import extract_archive

        extract_archive(str(archive), str(root))
    if verify:
        verify_official(name, root)
    if name not in recorded:
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

    Args:
        folder: a split folder of ``A|B`` images (e.g. ``download_official("facades") / "train"``).
        direction: ``"AtoB"`` or ``"BtoA"``.
        size: side each half is resized to (``None`` keeps it).
    """

    def __init__(self, folder: str | Path, *, direction: str, size: int | None = 256):
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        self.folder, self.direction, self.size = Path(folder), direction, size
        self.files = _image_files(self.folder)
        if not self.files:
            raise DatasetError(f"no images in {self.folder}")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        from PIL import Image

        with Image.open(self.files[i]) as im:
            im = im.convert("RGB")
            w, h = im.size
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
