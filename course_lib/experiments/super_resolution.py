"""Notebook 10, part 1: super-resolution with SRCNN against bicubic interpolation, at x2, x3, x4.

After C. Dong, C. C. Loy, K. He, X. Tang, "Image Super-Resolution Using Deep Convolutional Networks",
IEEE TPAMI 38(2), 2016: one :class:`~course_lib.models.srcnn.SRCNN` per scale (the members ``"x2"``,
``"x3"``, ``"x4"``), trained on luma patches of the training photos
(:func:`course_lib.data.restoration.sr_patches`), scored on the four held-out photos by PSNR and SSIM on
the luma channel with a border of ``scale`` pixels cropped (:func:`course_lib.metrics.psnr` and
:func:`~course_lib.metrics.ssim` with ``luma=True, border=scale``), next to bicubic interpolation.

The paper's Set5 numbers (:data:`PAPER_SET5`) are printed beside ours for orientation only: Set5 is a
different set of five images, and the paper's bicubic is MATLAB's ``imresize``.

Training (:func:`train_step`) differs from the paper, on purpose and visibly: Adam with a cosine schedule
instead of SGD with momentum 0, the residual form ``bicubic + net(bicubic)``, zero padding, L2 loss on
36 x 36 patches with random flips/rotations, and some thousand steps rather than ~10^8 back-propagations
(see :mod:`course_lib.models.srcnn`). The fast profile loads the committed weights ``srcnn_x2.pt``,
``srcnn_x3.pt``, ``srcnn_x4.pt``; ``python -m course_lib train super_resolution --member x2`` trains one again
(``course_lib/weights/README.md``).

On your own images (a folder, a list of arrays, a tensor batch; colour or grey, with the benchmarks'
conventions): ``rows, mean = evaluate_images("my_folder", 3)``; the stored net alone: ``load_srcnn(3)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.restoration import augmented_batches, sr_held_out, sr_patches
from ..device import get_device
from ..metrics import psnr, ssim
from ..models.srcnn import SRCNN, super_resolve
from . import common
from .common import fast_full

SCALES = {"x2": 2, "x3": 3, "x4": 4}
"""Member name -> upscaling factor."""

MEMBERS = tuple(SCALES)

PAPER_SET5 = {2: {"bicubic": 33.66, "SRCNN": 36.66}, 3: {"bicubic": 30.39, "SRCNN": 32.75},
              4: {"bicubic": 28.42, "SRCNN": 30.49}}
"""Set5 luma PSNR (dB) of Dong et al., TPAMI 2016, Table 2 (SRCNN 9-5-5 trained on ImageNet)."""

TABLE_COLUMNS = ("scale", "bicubic_psnr", "srcnn_psnr", "gain_db", "bicubic_ssim", "srcnn_ssim",
                 "paper_set5_bicubic", "paper_set5_srcnn")
PHOTO_COLUMNS = ("scale", "photo", "bicubic_psnr", "srcnn_psnr", "bicubic_ssim", "srcnn_ssim")


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Sizes of the super-resolution experiment (``Config.make(profile, **overrides)``).

    Attributes:
        f2: SRCNN mapping filter size (5: "9-5-5", 1: "9-1-5").
        residual: SRCNN's global skip (see :mod:`course_lib.models.srcnn`).
        n_patches, patch_size: training patches (HR luma side in pixels); at most ``steps * batch_size``
            patches are cut (at least 64).
        steps: Adam steps of the members x2, x3, x4 (in that order): the CPU budget goes mostly to x2.
        batch_size, lr: patches per step, initial learning rate (cosine decay to 0).
        eval_crop: side of the centred window of each held-out photo that is scored (None: whole photo).
    """

    f2: int = 5
    residual: bool = True
    n_patches: int = fast_full(8000, 100_000)
    patch_size: int = fast_full(36, 48)
    steps: tuple[int, int, int] = fast_full((6000, 300, 600), (100_000, 100_000, 100_000))
    batch_size: int = fast_full(16, 64)
    lr: float = 1e-3
    eval_crop: int | None = None


def build(cfg: Config, member: str, seed: int = 0) -> common.Run:
    """A fresh SRCNN for one scale (seeded with ``seed``), Adam with a cosine decay over the member's steps,
    and lazy batches of augmented ``(bicubic input, HR)`` patches (:func:`augmented_batches`).

    Returns:
        A :class:`~course_lib.experiments.common.Run` with ``run.net`` (stored as ``srcnn_<member>``),
        ``run.opt``, ``run.sched``, ``run.device`` and ``run.scale``.

    Raises:
        ValueError: an unknown member.
    """
    if member not in SCALES:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    scale, steps, device = SCALES[member], int(cfg.steps[MEMBERS.index(member)]), get_device()
    torch.manual_seed(seed)
    net = SRCNN(f2=cfg.f2, residual=cfg.residual).to(device)
    opt, sched = common.adam(net.parameters(), cfg.lr, schedule="cosine", steps=steps)

    def batches():
        n = min(cfg.n_patches, max(64, steps * cfg.batch_size))
        x, y = sr_patches(scale, n, cfg.patch_size, seed=seed)
        return augmented_batches(x, y, batch_size=cfg.batch_size, seed=seed)

    return common.Run(models={"net": net}, stored={"net": f"srcnn_{member}"}, steps=steps, batches=batches,
                      state={"opt": opt, "sched": sched, "device": device, "scale": scale})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One Adam step on the per-pixel L2 loss, the MSE of Dong et al. 2016 (Eq. 4).

    Args:
        batch: ``(x, y)``, bicubic-upsampled input and HR luma patches, ``float32 N x 1 x H x W`` in [0, 1].

    Returns:
        ``{"loss": L2 of this batch before the update}``.
    """
    x, y = (t.to(run.device) for t in batch)
    loss = torch.mean((run.net(x) - y) ** 2)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    run.sched.step()
    return {"loss": loss.item()}


@torch.no_grad()
def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each member's SRCNN and bicubic interpolation on the held-out photos (luma, border = scale).

    Returns:
        ``(table, extras)``: one row per scale (:data:`TABLE_COLUMNS`, means over the photos, with the
        paper's Set5 numbers); ``extras["per_photo"]`` the per-photo rows (:data:`PHOTO_COLUMNS`),
        ``extras["examples"][member][photo] = (bicubic, srcnn, hr)`` (``float32 H x W`` in [0, 1]) and
        ``extras["train"][member]`` what each weight file records.
    """
    table, per_photo, examples = [], [], {}
    for member in [m for m in MEMBERS if m in runs]:
        scale, rows = SCALES[member], []
        for photo, (up, hr) in sr_held_out(scale, cfg.eval_crop).items():
            sr = super_resolve(runs[member].net, up)
            rows.append({"scale": scale, "photo": photo,
                         "bicubic_psnr": psnr(up, hr, data_range=1.0, luma=True, border=scale),
                         "srcnn_psnr": psnr(sr, hr, data_range=1.0, luma=True, border=scale),
                         "bicubic_ssim": ssim(up, hr, data_range=1.0, luma=True, border=scale),
                         "srcnn_ssim": ssim(sr, hr, data_range=1.0, luma=True, border=scale)})
            examples.setdefault(member, {})[photo] = (up, sr, hr)
        mean = {k: float(np.mean([r[k] for r in rows])) for k in PHOTO_COLUMNS[2:]}
        table.append({"scale": member, "bicubic_psnr": mean["bicubic_psnr"], "srcnn_psnr": mean["srcnn_psnr"],
                      "gain_db": mean["srcnn_psnr"] - mean["bicubic_psnr"], "bicubic_ssim": mean["bicubic_ssim"],
                      "srcnn_ssim": mean["srcnn_ssim"], "paper_set5_bicubic": PAPER_SET5[scale]["bicubic"],
                      "paper_set5_srcnn": PAPER_SET5[scale]["SRCNN"]})
        per_photo += rows
    train = {m: {k: v for k, v in r.meta.items() if k not in ("loss", "config", "history")} for m, r in runs.items()}
    return table, {"per_photo": per_photo, "examples": examples, "train": train}


# --- your own images ------------------------------------------------------------------------------

IMAGE_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg")
"""File types :func:`read_images` reads from a folder (lossless formats are what benchmarks use)."""


def load_srcnn(scale: int | str, profile: str = "fast", seed: int = 0, device: torch.device | str | None = None):
    """The stored SRCNN of one scale, ready to use, in one call (never trains).

    Args:
        scale: 2, 3, 4 or a member name ``"x2"``, ``"x3"``, ``"x4"``.
        profile, seed: which weight file (:func:`course_lib.experiments.common.weights_path`): the committed
            ``srcnn_x<scale>.pt`` for the fast profile at seed 0, else the user's weights folder.
        device: where to put it (default: :func:`course_lib.device.get_device`).

    Returns:
        The :class:`~course_lib.models.srcnn.SRCNN` in eval mode, its weight file's record as ``net.meta``
        (command, steps, ...).

    Raises:
        ValueError: an unknown scale; FileNotFoundError: no weight file (the message gives the command that
        makes it).
    """
    member = scale if isinstance(scale, str) else f"x{scale}"
    if member not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; the stored SRCNNs are for {sorted(SCALES.values())} "
                         f"(or {list(MEMBERS)})")
    cfg = Config.make(profile)
    net = SRCNN(f2=cfg.f2, residual=cfg.residual)
    path = common.weights_path(f"srcnn_{member}", profile, seed)
    if not path.is_file():
        raise FileNotFoundError(f"no stored SRCNN for {member} at {path}: make it with "
                                f"`{common.train_command('super_resolution', profile, seed, member)}`")
    from ..checkpoints import load_weights

    net.meta = load_weights(net, path)
    return net.to(device if device is not None else get_device()).eval()


def _as_image(image, name: str) -> np.ndarray:
    """One image as ``float64 H x W`` (grey) or ``H x W x 3`` (RGB) in [0, 1]."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
            image = image.permute(1, 2, 0)  # C x H x W -> H x W x C
        image = image.numpy()
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        raise ValueError(f"{name} has an alpha channel (H x W x 4): drop it first (image[..., :3])")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"{name} must be H x W (grey) or H x W x 3 / 3 x H x W (RGB), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float64) / 65535.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} has dtype {arr.dtype}: pass uint8 (0-255), uint16 or float in [0, 1]")
    if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 1 or np.isnan(arr).any()):
        raise ValueError(f"{name} is float with values outside [0, 1] (min {np.nanmin(arr):.3g}, max "
                         f"{np.nanmax(arr):.3g}): divide 0-255 images by 255")
    return arr.astype(np.float64)


def read_images(source) -> dict[str, np.ndarray]:
    """Images to score, by name, from whatever a user has.

    Args:
        source: a folder (every :data:`IMAGE_SUFFIXES` file in it, sorted by name, read with Pillow as stored:
            greyscale files stay grey), a list or dict of arrays / tensors (``H x W``, ``H x W x 3``,
            ``C x H x W``; uint8 0-255 or float in [0, 1]), or a tensor batch ``N x C x H x W`` (C = 1 or 3,
            float in [0, 1] or uint8).

    Returns:
        ``{name: float64 H x W or H x W x 3 in [0, 1]}`` (names: file stems, dict keys, or ``"0"``, ``"1"``, ...).

    Raises:
        ValueError: an empty source, a folder without images, an image of an unusable shape, dtype or range.
        FileNotFoundError: a folder that does not exist.
    """
    from pathlib import Path

    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise FileNotFoundError(f"no folder {folder}")
        from PIL import Image

        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        out = {}
        for p in files:
            with Image.open(p) as im:
                if im.mode in ("1", "LA"):
                    im = im.convert("L")  # grey stays grey (alpha dropped)
                elif im.mode not in ("L", "RGB") and not im.mode.startswith("I;16"):
                    im = im.convert("RGB")  # palette, RGBA (alpha dropped), CMYK, ...
                arr = np.asarray(im)
                out[p.stem] = _as_image(arr.astype(np.uint16) if im.mode.startswith("I;16") else arr, str(p))
        return out
    if isinstance(source, torch.Tensor):
        if source.ndim != 4 or source.shape[1] not in (1, 3):
            raise ValueError(f"a tensor batch must be N x C x H x W with C = 1 or 3, got {tuple(source.shape)}")
        source = list(source)
    if isinstance(source, dict):
        items = [(str(k), v) for k, v in source.items()]
    elif isinstance(source, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(source)]
    else:
        raise ValueError(f"read_images takes a folder, a list or dict of images, or an N x C x H x W tensor, "
                         f"got {type(source).__name__}")
    if not items:
        raise ValueError("no images given")
    return {name: _as_image(v, f"image {name!r}") for name, v in items}


def benchmark_luma(image: np.ndarray, round_8bit: bool = True) -> np.ndarray:
    """The channel the super-resolution benchmarks score, as ``float64 H x W`` in [0, 1]: for an RGB image the
    BT.601 luma on the studio scale (:func:`course_lib.metrics.rgb_to_y`, MATLAB's ``rgb2ycbcr``) / 255; for a
    greyscale image (one channel, as some benchmark files are, e.g. Set14's "bridge") its grey values as they
    are -- the benchmarks' code converts only 3-channel files. Converting a grey file to R = G = B first
    would put it on the studio scale and score it about 1.3 dB higher (measured, ``../NOTES``: Set14).

    ``round_8bit``: round the luma to whole 0-255 steps, as MATLAB's ``rgb2ycbcr`` on ``uint8`` images does.
    """
    from ..metrics import rgb_to_y

    y = rgb_to_y(image) / 255.0 if image.ndim == 3 else np.asarray(image, dtype=np.float64)
    return np.round(y * 255.0) / 255.0 if round_8bit else y


def evaluate_images(source, scale: int, net=None, *, round_8bit: bool = True) -> tuple[list[dict], dict]:
    """SRCNN against bicubic on any images, with the papers' conventions (Dong et al. 2016, Sec. 4).

    Each image is cropped to a multiple of ``scale`` (:func:`~course_lib.data.restoration.modcrop`), its
    benchmark channel taken (:func:`benchmark_luma`), shrunk by ``scale`` and enlarged back with bicubic
    interpolation (:func:`~course_lib.data.restoration.bicubic_degrade`: PyTorch's antialiased bicubic, a =
    -0.5, as MATLAB's ``imresize``), super-resolved, and scored by PSNR and SSIM on that channel with a border
    of ``scale`` pixels cropped. With ``round_8bit`` (the papers' MATLAB code) the outputs are rounded to 8
    bits before scoring, as the luma is.

    Args:
        source: anything :func:`read_images` takes (a folder, a list/dict of arrays, a tensor batch).
        scale: 2, 3 or 4 (another integer >= 2 works with a net of your own).
        net: a super-resolution net on one channel (bicubic input -> HR, both ``N x 1 x H x W`` in [0, 1]);
            default: :func:`load_srcnn` of ``scale``.

    Returns:
        ``(rows, mean)``: per image ``{"image", "height", "width", "bicubic_psnr", "srcnn_psnr", "gain_db",
        "bicubic_ssim", "srcnn_ssim"}`` (PSNR in dB; sizes after the crop), and the means of the numeric
        columns over the images.

    Raises:
        ValueError: a scale < 2, an image smaller than ``4 * scale`` pixels on a side, or what
            :func:`read_images` raises.
    """
    from ..data.restoration import bicubic_degrade, modcrop

    if int(scale) != scale or scale < 2:
        raise ValueError(f"scale must be an integer >= 2, got {scale!r}")
    scale = int(scale)
    images = read_images(source)
    net = load_srcnn(scale) if net is None else net
    q = (lambda a: np.round(np.asarray(a, dtype=np.float64) * 255.0) / 255.0) if round_8bit else (lambda a: a)
    rows = []
    for name, image in images.items():
        if min(image.shape[:2]) < 4 * scale:
            raise ValueError(f"image {name!r} ({image.shape[0]} x {image.shape[1]}) is too small for x{scale}: "
                             f"at least {4 * scale} pixels on a side")
        hr = modcrop(benchmark_luma(image, round_8bit), scale)
        up = bicubic_degrade(torch.from_numpy(hr).float()[None, None], scale)[1][0, 0].numpy().astype(np.float64)
        sr = super_resolve(net, up).astype(np.float64)
        up, sr = q(up), q(sr)
        row = {"image": name, "height": hr.shape[0], "width": hr.shape[1],
               "bicubic_psnr": psnr(up, hr, data_range=1.0, luma=True, border=scale),
               "srcnn_psnr": psnr(sr, hr, data_range=1.0, luma=True, border=scale),
               "bicubic_ssim": ssim(up, hr, data_range=1.0, luma=True, border=scale),
               "srcnn_ssim": ssim(sr, hr, data_range=1.0, luma=True, border=scale)}
        row["gain_db"] = row["srcnn_psnr"] - row["bicubic_psnr"]
        rows.append(row)
    keys = ("bicubic_psnr", "srcnn_psnr", "gain_db", "bicubic_ssim", "srcnn_ssim")
    return rows, {k: float(np.mean([r[k] for r in rows])) for k in keys}
