"""Notebook 10, part 3: denoising with DnCNN against non-local means and total variation, on real photographs.

After K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
CNN for Image Denoising", IEEE TIP 26(7), 2017. Grey images with additive white Gaussian noise of standard
deviation 15, 25 and 50 on the 0-255 scale, not clipped (the paper's Sec. IV-A).

**Model.** :class:`course_lib.models.dncnn.DnCNN` with the paper's grey-image size: depth 17, 64 channels
(DnCNN-S, receptive field 35 x 35, 556 k parameters), trained **blind** like DnCNN-B: every training patch gets
its own noise level drawn uniformly from ``cfg.train_sigma = (0, 55)``, so one net serves every sigma. (DnCNN-B
itself has depth 20 and 50 x 50 patches; the full profile uses that; the stored fast-profile weights keep depth
17 and 40 x 40 patches: on one thread of this course's reference CPU (AMX) a step of 32 such patches takes 1.6 s in
fp32, 0.56 s in bf16 autocast and 0.42 s in bf16 with channels_last, which is how they were trained: 77 patches/s,
against 30 patches/s of 50 x 50 for depth 20.)

**Data.** Training patches are random 40 x 40 crops (with one of the 8 flips/rotations each) of the Caltech-101
colour-photo set's *training* split (:func:`course_lib.data.caltech.caltech_photos`), converted to grey
(:func:`to_grey`: BT.601 luma, full range, rounded to 8 bits -- MATLAB's ``rgb2gray``, the convention of the
grey benchmarks BSD68 and Set12). Sizes and steps are chosen on that set's *test* split (the score-vs-steps
curve, :func:`held_out_psnr`); Kodak24 (:func:`course_lib.data.caltech.kodak24`) is never trained or tuned on.

**Scoring** (:func:`denoise_table`, any images: a folder, a tensor batch, a list of arrays): PSNR in dB
(``data_range = 1``, whole image, outputs clipped to [0, 1]) of the noisy input, TV, NL-means and DnCNN;
:func:`evaluate` runs it on Kodak24 grey. Classical baselines (:mod:`course_lib.models.classical`), told the
true noise level:

* non-local means (Buades, Coll & Morel, CVPR 2005) with scikit-image's example settings;
* total variation (Rudin, Osher & Fatemi 1992; Chambolle's algorithm), with its weight chosen per noise level
  on a *training* photo (:func:`~course_lib.models.classical.tv_weight`), never on the test images.

:func:`findings` computes what notebook 10 states from the table (DnCNN's margin over NL-means at every sigma).
The fast profile loads ``course_lib/weights/dncnn.pt`` (:func:`load_pretrained` is the one call for users);
``python -m course_lib train denoising`` trains it again, ``python -m course_lib reproduce denoising`` prints
the Kodak24 table.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ..checkpoints import record_in_weights  # noqa: F401 -- it lived here; the colorization curves use it too
from ..data.images import read_images as _read
from ..data.restoration import SIGMAS
from ..device import get_device
from ..metrics import psnr
from ..models.classical import nl_means, total_variation, tv_weight
from ..models.dncnn import DnCNN
from ..progress import progress_bar
from . import common
from .common import fast_full

MEMBERS = ("dncnn",)
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)

TABLE_COLUMNS = ("sigma", "noisy_psnr", "tv_psnr", "nl_means_psnr", "dncnn_psnr")

BT601 = (0.299, 0.587, 0.114)
"""Luma weights of ITU-R BT.601 (full range), as MATLAB's ``rgb2gray``: how colour images become grey here."""

PAPER_BSD68 = {"DnCNN-S": {15: 31.73, 25: 29.23, 50: 26.23}, "DnCNN-B": {15: 31.61, 25: 29.16, 50: 26.23},
               "BM3D": {15: 31.07, 25: 28.57, 50: 25.62}}
"""PSNR (dB) on BSD68 grey reported by Zhang et al. 2017, Table II, for orientation (another image set)."""

MIN_MARGIN_DB = 0.5
"""The finding notebook 10 states: DnCNN beats non-local means by at least this many dB at every sigma."""


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Sizes of the denoising experiment (``Config.make(profile, **overrides)``).

    Attributes:
        sigmas: noise levels scored (0-255 scale).
        train_sigma: ``(low, high)`` range of the training noise levels (DnCNN-B: [0, 55]).
        depth, features: DnCNN size (convolution layers, channels).
        patch_size: side of the random training crops (pixels).
        steps, batch_size, lr: Adam steps, patches per step, initial learning rate (cosine decay to 0).
        eval_images: score the first this many Kodak24 images (``None``: all 24).
        eval_crop: side of the centred window of each image that is scored (``None``: whole image).
        curve_sigma, curve_images: the held-out score of :func:`held_out_psnr`: that noise level on this
            many photos of the Caltech test split (evenly spaced through it).
        photos: the training photos: ``"caltech_photos"`` (the bundled set) or ``"caltech_photos_full"`` (the
            full profile: every colour photo the filters keep, built from a downloaded Caltech-101 on first use,
            :func:`course_lib.data.caltech.photo_set`); the test split is the same in both.
    """

    sigmas: tuple[int, ...] = SIGMAS
    train_sigma: tuple[float, float] = (0.0, 55.0)
    depth: int = fast_full(17, 20)
    features: int = 64
    patch_size: int = fast_full(40, 50)
    steps: int = fast_full(5_000, 150_000)
    batch_size: int = fast_full(32, 128)
    lr: float = 1e-3
    eval_images: int | None = None
    eval_crop: int | None = None
    curve_sigma: int = 25
    curve_images: int = 64
    photos: str = fast_full("caltech_photos", "caltech_photos_full")


# ----------------------------------------------------------------------------- images

def to_grey(images) -> torch.Tensor:
    """Grey ``float32 N x 1 x H x W`` in [0, 1] from a batch or one image, grey or colour.

    Args:
        images: a tensor ``N x C x H x W`` or ``C x H x W`` (C = 1 or 3), or a NumPy array ``H x W`` or
            ``H x W x 3``; ``uint8`` (0-255) or float in [0, 1].

    Colour images are converted with :data:`BT601` (full range, MATLAB's ``rgb2gray``: the convention of the
    grey denoising benchmarks); ``uint8`` colour input is rounded back to 8 bits after the conversion, as
    ``rgb2gray`` does, float input is not rounded. Grey input is used as it is (never converted to R = G = B
    and back: that would change the benchmark's values).

    Raises:
        ValueError: another shape or number of channels, or a float image outside [0, 1] (pass uint8 or
            divide by 255).
    """
    x = torch.from_numpy(np.array(images)) if isinstance(images, np.ndarray) else torch.as_tensor(images)
    if isinstance(images, np.ndarray):
        if x.ndim == 2:
            x = x[None]
        elif x.ndim == 3 and x.shape[-1] in (1, 3):
            x = x.permute(2, 0, 1)
        else:
            raise ValueError(f"a NumPy image must be H x W or H x W x 3, got shape {tuple(x.shape)}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected N x C x H x W (or C x H x W) with C = 1 or 3, got shape {tuple(x.shape)}")
    is_uint8 = x.dtype == torch.uint8
    if not is_uint8:
        if not x.is_floating_point():
            raise ValueError(f"images must be uint8 (0-255) or float in [0, 1], got {x.dtype}")
        if float(x.min()) < -1e-6 or float(x.max()) > 1 + 1e-6:
            raise ValueError(f"float images must lie in [0, 1], got [{float(x.min()):.3f}, {float(x.max()):.3f}]: "
                             "pass uint8 or divide by 255")
    x = x.to(torch.float64) / 255.0 if is_uint8 else x.to(torch.float64)
    if x.shape[1] == 3:
        w = torch.tensor(BT601, dtype=torch.float64).view(1, 3, 1, 1)
        x = (x * w).sum(1, keepdim=True)
        if is_uint8:
            x = torch.round(x * 255.0) / 255.0
    return x.to(torch.float32).clamp(0, 1)


def read_images(source) -> list[np.ndarray]:
    """The images of ``source`` as grey ``float32 H x W`` arrays in [0, 1] (:func:`to_grey` of
    :func:`course_lib.data.images.read_images`: ``uint8`` colour images rounded back to 8 bits after the
    conversion, as MATLAB's ``rgb2gray`` does; grey files used as they are).

    Args:
        source: a folder (every image file in it, sorted by name), a tensor batch ``N x C x H x W``, or a list
            or dict of arrays / tensors (images may differ in size).

    Raises:
        FileNotFoundError: a folder that does not exist; ValueError: a folder without images, or an image of an
        unusable shape, dtype or range.
    """
    return [to_grey(im)[0, 0].numpy() for im in _read(source, keep_uint8=True).values()]


@lru_cache(maxsize=4)
def _caltech_grey_cached(split: str, photos: str) -> torch.Tensor:
    from ..data.caltech import photo_set

    return torch.round(to_grey(photo_set(split, photos)[0]) * 255).to(torch.uint8)


def caltech_grey(split: str, photos: str = "caltech_photos") -> torch.Tensor:
    """The Caltech-101 colour-photo set's ``split`` (``"train"`` or ``"test"``) in grey (:func:`to_grey`):
    ``uint8 N x 1 x 128 x 128``; ``photos="caltech_photos_full"``: the full profile's uncapped set
    (:func:`course_lib.data.caltech.photo_set`). Cached."""
    return _caltech_grey_cached(split, photos).clone()


def kodak24_grey() -> list[np.ndarray]:
    """The 24 Kodak photographs in grey (:func:`to_grey` of the colour PNGs: BT.601, rounded to 8 bits),
    ``float32 H x W`` in [0, 1], in their order (kodim01 ... kodim24), orientation as stored."""
    from ..data.caltech import kodak24

    images = kodak24(grey=False)
    return [to_grey(np.asarray(im))[0, 0].numpy() for im in images]


def centre_crop(image: np.ndarray, crop: int | None) -> np.ndarray:
    """The centred ``crop x crop`` window of an ``H x W`` image (the whole image for ``None``).

    Raises:
        ValueError: a crop larger than the image.
    """
    if crop is None:
        return image
    h, w = image.shape[:2]
    if crop > min(h, w):
        raise ValueError(f"crop {crop} is larger than the image ({h} x {w})")
    y, x = (h - crop) // 2, (w - crop) // 2
    return np.ascontiguousarray(image[y:y + crop, x:x + crop])


# ----------------------------------------------------------------------------- training

def crop_batches(images: torch.Tensor, batch_size: int, patch_size: int, sigma_range: tuple[float, float],
                 seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless blind-denoising batches (DnCNN-B, Zhang et al. 2017, Sec. IV-A) cut from whole photos.

    Each patch: a random photo, a random ``patch_size`` window, one of the 8 flips/rotations, a noise level
    drawn uniformly from ``sigma_range`` (0-255 scale) and fresh white Gaussian noise, not clipped.

    Args:
        images: ``uint8 N x 1 x H x W`` grey photos (:func:`caltech_grey`) or float in [0, 1].
        batch_size, patch_size: patches per batch and their side (<= H, W).
        seed: seeds every draw (one ``torch.Generator``).

    Yields:
        ``(noisy, noise)``: two ``float32 batch_size x 1 x patch_size x patch_size``, ``noisy = clean + noise``.

    Raises:
        ValueError: a patch larger than the photos, or an empty set.
    """
    n, _, h, w = images.shape
    if n == 0 or patch_size > min(h, w):
        raise ValueError(f"need photos of at least {patch_size} x {patch_size}, got {tuple(images.shape)}")
    scale = 255.0 if images.dtype == torch.uint8 else 1.0
    g = torch.Generator().manual_seed(seed)
    lo, hi = sigma_range
    while True:
        idx = torch.randint(0, n, (batch_size,), generator=g)
        ys = torch.randint(0, h - patch_size + 1, (batch_size,), generator=g)
        xs = torch.randint(0, w - patch_size + 1, (batch_size,), generator=g)
        modes = torch.randint(0, 8, (batch_size,), generator=g)
        patches = []
        for i, y, x, m in zip(idx.tolist(), ys.tolist(), xs.tolist(), modes.tolist()):
            p = images[i, :, y:y + patch_size, x:x + patch_size]
            p = torch.rot90(p, m % 4, dims=(-2, -1))
            patches.append(p.flip(-1) if m >= 4 else p)
        clean = torch.stack(patches).to(torch.float32) / scale
        sigma = lo + (hi - lo) * torch.rand(batch_size, 1, 1, 1, generator=g)
        noise = torch.randn(clean.shape, generator=g) * sigma / 255.0
        yield clean + noise, noise


def build(cfg: Config, member: str, seed: int = 0) -> common.Run:
    """A fresh DnCNN (seeded with ``seed``), Adam with a cosine decay, and lazy blind-denoising batches
    ``(noisy, noise)`` of the grey Caltech training photos (:func:`crop_batches`).

    Returns:
        A :class:`~course_lib.experiments.common.Run` with ``run.net`` (stored as ``dncnn``), ``run.opt``,
        ``run.sched`` and ``run.device``.

    Raises:
        ValueError: an unknown member.
    """
    if member not in MEMBERS:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    device = get_device()
    torch.manual_seed(seed)
    net = DnCNN(depth=cfg.depth, features=cfg.features).to(device)
    opt, sched = common.adam(net.parameters(), cfg.lr, schedule="cosine", steps=cfg.steps)

    def batches():
        return crop_batches(caltech_grey("train", cfg.photos), cfg.batch_size, cfg.patch_size, cfg.train_sigma, seed=seed)

    return common.Run(models={"net": net}, stored={"net": "dncnn"}, steps=cfg.steps, batches=batches,
                      state={"opt": opt, "sched": sched, "device": device})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One Adam step of residual learning: L2 between the predicted and the true noise (Zhang et al. 2017,
    Eq. 1, ``|| R(y) - (y - x) ||^2``; our mean instead of their halved sum over the batch).

    Args:
        batch: ``(noisy, noise)``, ``float32 N x 1 x H x W``.

    Returns:
        ``{"loss": L2 of this batch before the update}``.
    """
    noisy, noise = (t.to(run.device) for t in batch)
    loss = torch.mean((run.net.noise(noisy) - noise) ** 2)
    run.opt.zero_grad(set_to_none=True)
    run.precision.backward_step(loss, run.opt)  # loss.backward(); run.opt.step() (fp16: loss scaling)
    run.sched.step()
    return {"loss": loss.item()}


# ----------------------------------------------------------------------------- the stored net

def load_pretrained(profile: str = "fast", seed: int = 0, device: torch.device | str | None = None) -> DnCNN:
    """The stored DnCNN, ready to use: ``net(noisy)`` on ``N x 1 x H x W`` grey images in [0, 1] plus noise
    gives the clean estimate (clip it to [0, 1]). Blind: no noise level is needed (trained on sigma 0-55).

    Args:
        profile, seed: which weights (``"fast"``, 0: the committed ``course_lib/weights/dncnn.pt``; others are
            in :func:`~course_lib.experiments.common.user_weights_dir` once trained).

    Returns:
        :class:`~course_lib.models.dncnn.DnCNN` in eval mode; its ``meta`` attribute is the file's record
        (command, steps, seconds, the held-out curve).

    Raises:
        FileNotFoundError: no weights for this profile and seed; the message gives the command that makes them.
    """
    cfg = Config.make(profile)
    return common.load_stored(DnCNN(depth=cfg.depth, features=cfg.features), "denoising", "dncnn", cfg.profile, seed,
                              device=device or "cpu", what="DnCNN weights")


@torch.no_grad()
def denoise(net: torch.nn.Module, noisy: np.ndarray | torch.Tensor) -> np.ndarray:
    """``net``'s clean estimate of one noisy grey image ``H x W`` (float, not clipped), run in fp32 on the
    net's device; returns ``float32 H x W`` clipped to [0, 1]."""
    device = next(net.parameters()).device
    x = torch.as_tensor(np.asarray(noisy, dtype=np.float32))[None, None].to(device)
    return net(x).clamp(0, 1)[0, 0].cpu().numpy()


# ----------------------------------------------------------------------------- scoring

def noisy_version(clean: np.ndarray, sigma: float, seed: int, index: int) -> np.ndarray:
    """``clean + N(0, (sigma/255)^2)``, not clipped, ``float32``; the noise of image ``index`` at ``sigma`` is
    drawn by ``numpy.random.default_rng(1000 seed + 10 sigma + index)`` (the same for every method)."""
    rng = np.random.default_rng(int(1000 * seed + 10 * sigma + index))
    return (clean.astype(np.float64) + rng.normal(0, sigma / 255, clean.shape)).astype(np.float32)


def denoise_table(net: torch.nn.Module | None, images, sigmas: Sequence[float] = SIGMAS, seed: int = 0,
                  crop: int | None = None, classical: bool = True, progress: bool = False):
    """PSNR of the noisy input, TV, NL-means and ``net`` at each noise level on any grey or colour images.

    Args:
        net: a denoiser ``N x 1 x H x W -> N x 1 x H x W`` (e.g. :func:`load_pretrained`), or ``None`` to
            score only the classical methods.
        images: anything :func:`read_images` takes (a folder, a tensor batch, a list of arrays); colour images
            are converted to grey by :func:`to_grey` (BT.601; grey images are used as they are).
        sigmas: noise standard deviations on the 0-255 scale.
        seed: seeds the noise (:func:`noisy_version`).
        crop: score the centred ``crop x crop`` window of each image (``None``: whole images).
        classical: also run TV and NL-means (NL-means takes about a second per 768 x 512 image).

    Returns:
        ``(table, extras)``: one row per sigma with :data:`TABLE_COLUMNS` (means over the images, dB,
        ``data_range = 1``, outputs clipped to [0, 1]) and ``tv_weight``; ``extras["per_image"]`` one row per
        image and sigma; ``extras["examples"][sigma] = {"clean", "noisy", "tv", "nl_means", "dncnn"}`` for the
        first image.
    """
    clean_images = [centre_crop(im, crop) for im in read_images(images)]
    methods = (("noisy", "tv", "nl_means") if classical else ("noisy",)) + (("dncnn",) if net is not None else ())
    if net is not None:
        net.eval()
    jobs = [(sigma, i) for sigma in sigmas for i in range(len(clean_images))]
    weights = {sigma: tv_weight(sigma, seed=seed) if classical else None for sigma in sigmas}
    scores = {(sigma, k): [] for sigma in sigmas for k in methods}
    per_image, examples = [], {}
    for sigma, i in progress_bar(jobs, desc="denoising", disable=not progress):
        clean = clean_images[i]
        noisy = noisy_version(clean, sigma, seed, i)
        outs = {"noisy": np.clip(noisy, 0, 1)}
        if classical:
            outs["tv"] = total_variation(noisy, weights[sigma])
            outs["nl_means"] = nl_means(noisy.astype(np.float64), sigma)
        if net is not None:
            outs["dncnn"] = denoise(net, noisy)
        row = {"image": i, "sigma": sigma}
        for k, v in outs.items():
            scores[sigma, k].append(psnr(v, clean, data_range=1.0))
            row[f"{k}_psnr"] = scores[sigma, k][-1]
        per_image.append(row)
        if i == 0:
            examples[sigma] = dict(clean=clean, **outs)
    table = []
    for sigma in sigmas:
        row = {"sigma": sigma}
        for k in ("noisy", "tv", "nl_means", "dncnn"):
            row[f"{k}_psnr"] = float(np.mean(scores[sigma, k])) if (sigma, k) in scores else None
        row["tv_weight"] = weights[sigma]
        table.append(row)
    return table, {"per_image": per_image, "examples": examples}


def findings(table: Sequence[dict], per_image: Sequence[dict] | None = None) -> dict:
    """What notebook 10 states, computed from a :func:`denoise_table` table (and its ``extras["per_image"]``).

    Returns:
        ``{"margin_db": {sigma: dncnn - nl_means}, "min_margin_db", "beats_nl_means": min margin >=
        MIN_MARGIN_DB (the goal of issue 12), "beats_tv": DnCNN above TV at every sigma}``, and with ``per_image``
        ``"image_margin_db": {image index: {sigma: dncnn - nl_means}}``.
    """
    margins = {r["sigma"]: r["dncnn_psnr"] - r["nl_means_psnr"] for r in table}
    out = {"margin_db": margins, "min_margin_db": min(margins.values()),
           "beats_nl_means": min(margins.values()) >= MIN_MARGIN_DB,
           "beats_tv": all(r["dncnn_psnr"] > r["tv_psnr"] for r in table)}
    if per_image is not None:
        out["image_margin_db"] = {}
        for r in per_image:
            out["image_margin_db"].setdefault(r["image"], {})[r["sigma"]] = r["dncnn_psnr"] - r["nl_means_psnr"]
    return out


def paper_gap(table: Sequence[dict]) -> list[dict]:
    """Our DnCNN's and NL-means' PSNR on these images beside the paper's BSD68 numbers (:data:`PAPER_BSD68`; another
    image set, so only for orientation: compare the gaps, not the PSNRs) at the sigmas both have."""
    return [{"sigma": r["sigma"], "DnCNN here": r["dncnn_psnr"], "NL-means here": r["nl_means_psnr"],
             **{f"{name} (BSD68)": PAPER_BSD68[name][r["sigma"]] for name in PAPER_BSD68}} for r in table
            if r["sigma"] in PAPER_BSD68["DnCNN-S"]]


@torch.no_grad()
def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score noisy input, TV, NL-means and DnCNN at each noise level on Kodak24 grey (:func:`kodak24_grey`;
    ``cfg.eval_images`` / ``cfg.eval_crop`` take a subset / centred crops).

    Returns:
        ``(table, extras)`` of :func:`denoise_table`, plus ``extras["findings"]`` (:func:`findings`),
        ``extras["paper"]`` (:func:`paper_gap`), ``extras["images"]`` (which Kodak images) and
        ``extras["train"]`` what the weight file records (the held-out curve included).
    """
    images = kodak24_grey()[: cfg.eval_images]
    table, extras = denoise_table(runs["dncnn"].net, images, cfg.sigmas, seed, crop=cfg.eval_crop, progress=progress)
    extras["findings"] = findings(table, extras["per_image"])
    extras["paper"] = paper_gap(table)
    extras["images"] = f"Kodak24 grey, kodim01-kodim{len(images):02d}" + (
        f", centred {cfg.eval_crop} x {cfg.eval_crop} crops" if cfg.eval_crop else ", whole images")
    extras["train"] = {k: v for k, v in runs["dncnn"].meta.items() if k not in ("loss", "config", "history")}
    return table, extras


# ----------------------------------------------------------------------------- the held-out curve

def curve_photos(cfg: Config) -> torch.Tensor:
    """The photos of the held-out score: ``cfg.curve_images`` photos of the Caltech *test* split, evenly
    spaced through it (``float32 N x 1 x 128 x 128`` in [0, 1])."""
    test = caltech_grey("test")
    idx = np.linspace(0, len(test) - 1, min(cfg.curve_images, len(test))).round().astype(int)
    return test[torch.from_numpy(idx)].to(torch.float32) / 255.0


@torch.no_grad()
def held_out_psnr(net: torch.nn.Module | None, cfg: Config, seed: int = 0) -> float:
    """Mean PSNR (dB) of ``net`` (``None``: of non-local means, told sigma) at ``cfg.curve_sigma`` on
    :func:`curve_photos`: the score used to choose sizes and steps (never Kodak24)."""
    photos = curve_photos(cfg)
    scores = []
    for i, clean in enumerate(photos[:, 0].numpy()):
        noisy = noisy_version(clean, cfg.curve_sigma, seed, i)
        out = nl_means(noisy.astype(np.float64), cfg.curve_sigma) if net is None else denoise(net.eval(), noisy)
        scores.append(psnr(out, clean, data_range=1.0))
    return float(np.mean(scores))


def score_checkpoints(paths: Sequence[str | Path], cfg: Config, seed: int = 0) -> dict[str, list]:
    """The score-vs-steps curve from training checkpoints (files of
    :func:`course_lib.experiments.common.save_checkpoint`, copied while training ran).

    Returns:
        ``{"step": [...], "psnr": [...], "sigma", "images", "nl_means_psnr"}``, sorted by step: :func:`held_out_psnr`
        of each checkpoint's net, and of NL-means on the same photos for reference.
    """
    points = []
    for p in paths:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)  # our own checkpoint files
        net = DnCNN(depth=cfg.depth, features=cfg.features)
        net.load_state_dict(ckpt["models"]["net"])
        points.append((int(ckpt["step"]), round(held_out_psnr(net, cfg, seed), 3)))
    points.sort()
    return {"step": [s for s, _ in points], "psnr": [v for _, v in points], "sigma": cfg.curve_sigma,
            "images": f"Caltech test split, {cfg.curve_images} photos 128 x 128 grey",
            "nl_means_psnr": round(held_out_psnr(None, cfg, seed), 3)}
