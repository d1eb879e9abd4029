"""Notebook 10, part 3: denoising with DnCNN against non-local means and total variation, on real photographs.

After K. Zhang, W. Zuo, Y. Chen, D. Meng, L. Zhang, "Beyond a Gaussian Denoiser: Residual Learning of Deep
CNN for Image Denoising", IEEE TIP 26(7), 2017. Grey images with additive white Gaussian noise of standard
deviation 15, 25 and 50 on the 0-255 scale, not clipped (the paper's Sec. IV-A).

**Models** (the members, :data:`MEMBERS`): :class:`course_lib.models.dncnn.DnCNN` with the paper's grey-image
size, depth 17, 64 channels (receptive field 35 x 35, 556 k parameters), trained two ways as in the paper's
Sec. IV-A:

* ``"dncnn"`` -- **blind**, like DnCNN-B: every training patch gets its own noise level drawn uniformly from
  ``cfg.train_sigma = (0, 55)``, so one net serves every sigma without being told it. (DnCNN-B itself has depth 20
  and 50 x 50 patches; the full profile uses that; the stored fast-profile weights keep depth 17 and 40 x 40
  patches: on one thread of this course's reference CPU (AMX) a step of 32 such patches takes 1.6 s in fp32,
  0.56 s in bf16 autocast and 0.42 s in bf16 with channels_last, which is how they were trained: 77 patches/s,
  against 30 patches/s of 50 x 50 for depth 20. On an AMD EPYC (Zen 4, AVX-512 BF16, no AMX) the bf16 +
  channels_last step takes about 1.0 s.)
* ``"s15"``, ``"s25"``, ``"s50"`` -- **DnCNN-S**, one net per noise level, trained at that sigma alone (depth 17,
  40 x 40 patches in every profile: ``cfg.dncnn_s_depth``, ``cfg.dncnn_s_patch_size``, :func:`member_config`);
  the paper's Table II compares these with BM3D. Steps: ``cfg.dncnn_s_steps``; everything else (batch,
  optimiser, photos, seed) is the blind net's.

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

:func:`findings` computes what notebook 10 states from the table (each net's margin over NL-means at every sigma,
what DnCNN-S gains over the blind net). The fast profile loads ``course_lib/weights/dncnn.pt`` and
``dncnn_s15.pt`` / ``dncnn_s25.pt`` / ``dncnn_s50.pt`` (:func:`load_pretrained` is the one call for users,
``sigma=`` picks a DnCNN-S net); ``python -m course_lib train denoising --member dncnn`` (or ``s15``, ...) trains
one again, ``python -m course_lib reproduce denoising`` prints the Kodak24 table.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping, Sequence

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

MEMBERS = ("dncnn", "s15", "s25", "s50")
"""The blind DnCNN (``"dncnn"``, sigma in ``cfg.train_sigma``) and the DnCNN-S nets of :data:`SPECIFIC`."""

SPECIFIC = {"s15": 15, "s25": 25, "s50": 50}
"""The DnCNN-S members and the one noise level (0-255 scale) each is trained and scored at (Zhang et al. 2017,
Sec. IV-A: "DnCNN-S", a model for each of sigma = 15, 25, 50)."""
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)

TABLE_COLUMNS = ("sigma", "noisy_psnr", "tv_psnr", "nl_means_psnr", "dncnn_psnr", "dncnn_s_psnr")
"""Columns of :func:`denoise_table`: PSNR (dB) of the noisy input, TV, NL-means, the blind DnCNN and the DnCNN-S
net of that row's sigma (``None`` where there is none)."""

BT601 = (0.299, 0.587, 0.114)
"""Luma weights of ITU-R BT.601 (full range), as MATLAB's ``rgb2gray``: how colour images become grey here."""

PAPER_BSD68 = {"DnCNN-S": {15: 31.73, 25: 29.23, 50: 26.23}, "DnCNN-B": {15: 31.61, 25: 29.16, 50: 26.23},
               "BM3D": {15: 31.07, 25: 28.57, 50: 25.62}}
"""PSNR (dB) on BSD68 grey reported by Zhang et al. 2017, Table II, for orientation (another image set)."""

MIN_MARGIN_DB = 0.5
"""Issue 12's goal: DnCNN at least this many dB above non-local means at every sigma."""

FINDINGS_STATED = {"beats_nl_means": False, "dncnn_s_beats_nl_means": True, "dncnn_s_beats_blind": True}
"""What notebook 10's text says of :func:`findings` on the stored weights (Kodak24, all 24 images), and what the
notebook's own table (four 256 x 256 crops) gives too; ``tests/test_denoising_findings.py`` checks it there, so a
retrain that changes a finding fails until the text is revisited. (``beats_tv`` holds on the 24 whole photos
but not on the four crops, where the blind net falls below TV, so it is not in this set.)"""


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Sizes of the denoising experiment (``Config.make(profile, **overrides)``).

    Attributes:
        sigmas: noise levels scored (0-255 scale).
        train_sigma: ``(low, high)`` range of the blind net's training noise levels (DnCNN-B: [0, 55]); the
            DnCNN-S members train at their own sigma (:func:`member_config`).
        depth, features: the blind DnCNN's size (convolution layers, channels).
        patch_size: side of the blind net's random training crops (pixels).
        steps, batch_size, lr: Adam steps of the blind net, patches per step, initial learning rate (cosine decay
            to 0); batch and learning rate are the DnCNN-S members' too.
        eval_images: score the first this many Kodak24 images (``None``: all 24).
        eval_crop: side of the centred window of each image that is scored (``None``: whole image).
        curve_sigma, curve_images: the held-out score of :func:`held_out_psnr`: that noise level on this
            many photos of the Caltech test split (evenly spaced through it).
        photos: the training photos: ``"caltech_photos"`` (the bundled set) or ``"caltech_photos_full"`` (the
            full profile: every colour photo the filters keep, built from a downloaded Caltech-101 on first use,
            :func:`course_lib.data.caltech.photo_set`); the test split is the same in both.
        dncnn_s_depth, dncnn_s_patch_size: depth and patch side of the DnCNN-S members (the paper's 17 and 40 in
            every profile); their width is ``features``.
        dncnn_s_steps: Adam steps of ``s15``, ``s25``, ``s50`` (in that order). The fast profile's ``s50`` has
            3,000 where the others have 5,000: the session that trained the stored nets ran out of time (its
            cosine schedule ends at 3,000; a smaller budget than the blind net's, so "DnCNN-S beats the blind
            net" is, if anything, understated at sigma = 50).

    Raises:
        ValueError: ``dncnn_s_steps`` without one number per DnCNN-S member.
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
    dncnn_s_depth: int = 17
    dncnn_s_patch_size: int = 40
    dncnn_s_steps: tuple[int, int, int] = fast_full((5_000, 5_000, 3_000), (150_000, 150_000, 150_000))

    def __post_init__(self):
        if len(tuple(self.dncnn_s_steps)) != len(SPECIFIC):
            raise ValueError(f"dncnn_s_steps needs one number per DnCNN-S member {tuple(SPECIFIC)}, got "
                             f"{self.dncnn_s_steps!r}")


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


def member_config(cfg: Config, member: str) -> Config:
    """The configuration ``member`` trains with: ``cfg`` itself for the blind ``"dncnn"``; for a DnCNN-S member
    (:data:`SPECIFIC`) ``train_sigma = (sigma, sigma)``, ``depth = cfg.dncnn_s_depth``, ``patch_size =
    cfg.dncnn_s_patch_size`` (the paper's DnCNN-S: 17 and 40) and its entry of ``cfg.dncnn_s_steps``, the rest
    of ``cfg`` unchanged.

    Raises:
        ValueError: an unknown member.
    """
    if member == "dncnn":
        return cfg
    if member not in SPECIFIC:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    sigma = float(SPECIFIC[member])
    steps = int(tuple(cfg.dncnn_s_steps)[list(SPECIFIC).index(member)])
    return cfg.replace(train_sigma=(sigma, sigma), depth=cfg.dncnn_s_depth, patch_size=cfg.dncnn_s_patch_size,
                       steps=steps)


def stored_name(member: str) -> str:
    """The weight-file stem of ``member``: ``dncnn`` (blind) or ``dncnn_s15`` / ``dncnn_s25`` / ``dncnn_s50``."""
    return "dncnn" if member == "dncnn" else f"dncnn_{member}"


def build(cfg: Config, member: str, seed: int = 0) -> common.Run:
    """A fresh DnCNN for ``member`` (seeded with ``seed``; size and noise levels of :func:`member_config`), Adam
    with a cosine decay, and lazy denoising batches ``(noisy, noise)`` of the grey Caltech training photos
    (:func:`crop_batches`).

    Returns:
        A :class:`~course_lib.experiments.common.Run` with ``run.net`` (stored as :func:`stored_name`),
        ``run.opt``, ``run.sched`` and ``run.device``.

    Raises:
        ValueError: an unknown member.
    """
    mcfg = member_config(cfg, member)
    device = get_device()
    torch.manual_seed(seed)
    net = DnCNN(depth=mcfg.depth, features=mcfg.features).to(device)
    opt, sched = common.adam(net.parameters(), mcfg.lr, schedule="cosine", steps=mcfg.steps)

    def batches():
        return crop_batches(caltech_grey("train", mcfg.photos), mcfg.batch_size, mcfg.patch_size, mcfg.train_sigma,
                            seed=seed)

    return common.Run(models={"net": net}, stored={"net": stored_name(member)}, steps=mcfg.steps, batches=batches,
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

def load_pretrained(profile: str = "fast", seed: int = 0, device: torch.device | str | None = None,
                    sigma: int | None = None) -> DnCNN:
    """A stored DnCNN, ready to use: ``net(noisy)`` on ``N x 1 x H x W`` grey images in [0, 1] plus noise
    gives the clean estimate (clip it to [0, 1]).

    Args:
        profile, seed: which weights (``"fast"``, 0: the committed ``course_lib/weights/dncnn*.pt``; others are
            in :func:`~course_lib.experiments.common.user_weights_dir` once trained).
        sigma: ``None``: the blind net (trained on sigma 0-55, no noise level needed); 15, 25 or 50: the DnCNN-S
            net trained at that noise level alone (0-255 scale; use it only at that sigma).

    Returns:
        :class:`~course_lib.models.dncnn.DnCNN` in eval mode; its ``meta`` attribute is the file's record
        (command, steps, seconds, the held-out curve).

    Raises:
        ValueError: a sigma without a DnCNN-S net.
        FileNotFoundError: no weights for this profile and seed; the message gives the command that makes them.
    """
    by_sigma = {s: m for m, s in SPECIFIC.items()}
    if sigma is not None and sigma not in by_sigma:
        raise ValueError(f"no DnCNN-S net for sigma = {sigma!r}: there is one for each of {sorted(by_sigma)} "
                         "(0-255 scale); sigma=None loads the blind net, which takes any sigma up to 55")
    member = "dncnn" if sigma is None else by_sigma[sigma]
    cfg = member_config(Config.make(profile), member)
    return common.load_stored(DnCNN(depth=cfg.depth, features=cfg.features), "denoising", stored_name(member),
                              cfg.profile, seed, member, device=device or "cpu",
                              what="DnCNN weights" if member == "dncnn" else f"DnCNN-S weights for sigma = {sigma}")


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
                  crop: int | None = None, classical: bool = True, progress: bool = False,
                  per_sigma: Mapping[float, torch.nn.Module] | None = None):
    """PSNR of the noisy input, TV, NL-means, ``net`` and the nets of ``per_sigma`` at each noise level on any
    grey or colour images.

    Args:
        net: a denoiser ``N x 1 x H x W -> N x 1 x H x W`` (e.g. :func:`load_pretrained`, the blind net), or
            ``None`` to score no blind net; its column is ``dncnn_psnr``.
        per_sigma: ``{sigma: denoiser}``, each scored at its own sigma only (the DnCNN-S nets,
            ``load_pretrained(sigma=...)``); their column is ``dncnn_s_psnr`` (``None`` at other sigmas).
        images: anything :func:`read_images` takes (a folder, a tensor batch, a list of arrays); colour images
            are converted to grey by :func:`to_grey` (BT.601; grey images are used as they are).
        sigmas: noise standard deviations on the 0-255 scale.
        seed: seeds the noise (:func:`noisy_version`).
        crop: score the centred ``crop x crop`` window of each image (``None``: whole images).
        classical: also run TV and NL-means (NL-means takes about a second per 768 x 512 image).

    Returns:
        ``(table, extras)``: one row per sigma with :data:`TABLE_COLUMNS` (means over the images, dB,
        ``data_range = 1``, outputs clipped to [0, 1]) and ``tv_weight``; ``extras["per_image"]`` one row per
        image and sigma; ``extras["examples"][sigma] = {"clean", "noisy", "tv", "nl_means", "dncnn",
        "dncnn_s"}`` (those scored) for the first image.
    """
    clean_images = [centre_crop(im, crop) for im in read_images(images)]
    per_sigma = dict(per_sigma or {})
    methods = (("noisy", "tv", "nl_means") if classical else ("noisy",)) + (("dncnn",) if net is not None else ())
    for m in ([net] if net is not None else []) + list(per_sigma.values()):
        m.eval()
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
        if sigma in per_sigma:
            outs["dncnn_s"] = denoise(per_sigma[sigma], noisy)
            scores.setdefault((sigma, "dncnn_s"), [])
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
        for k in ("noisy", "tv", "nl_means", "dncnn", "dncnn_s"):
            row[f"{k}_psnr"] = float(np.mean(scores[sigma, k])) if (sigma, k) in scores else None
        row["tv_weight"] = weights[sigma]
        table.append(row)
    return table, {"per_image": per_image, "examples": examples}


def findings(table: Sequence[dict], per_image: Sequence[dict] | None = None) -> dict:
    """What notebook 10 states, computed from a :func:`denoise_table` table (and its ``extras["per_image"]``).

    Returns:
        For the blind net: ``{"margin_db": {sigma: dncnn - nl_means}, "min_margin_db", "beats_nl_means": min
        margin >= MIN_MARGIN_DB (the goal of issue 12), "beats_tv": DnCNN above TV at every sigma}``; where the
        table has DnCNN-S scores (at every sigma), also ``"dncnn_s_margin_db"``, ``"dncnn_s_min_margin_db"``,
        ``"dncnn_s_beats_nl_means"`` (the same goal), ``"dncnn_s_gain_over_blind_db": {sigma: dncnn_s - dncnn}``
        and ``"dncnn_s_beats_blind"`` (at every sigma); with ``per_image`` ``"image_margin_db": {image index:
        {sigma: dncnn - nl_means}}`` (and ``"dncnn_s_image_margin_db"``).
    """
    margins = {r["sigma"]: r["dncnn_psnr"] - r["nl_means_psnr"] for r in table}
    out = {"margin_db": margins, "min_margin_db": min(margins.values()),
           "beats_nl_means": min(margins.values()) >= MIN_MARGIN_DB,
           "beats_tv": all(r["dncnn_psnr"] > r["tv_psnr"] for r in table)}
    specific = all(r.get("dncnn_s_psnr") is not None for r in table)
    if specific:
        s_margins = {r["sigma"]: r["dncnn_s_psnr"] - r["nl_means_psnr"] for r in table}
        gains = {r["sigma"]: r["dncnn_s_psnr"] - r["dncnn_psnr"] for r in table}
        out.update(dncnn_s_margin_db=s_margins, dncnn_s_min_margin_db=min(s_margins.values()),
                   dncnn_s_beats_nl_means=min(s_margins.values()) >= MIN_MARGIN_DB,
                   dncnn_s_gain_over_blind_db=gains, dncnn_s_beats_blind=min(gains.values()) > 0)
    if per_image is not None:
        out["image_margin_db"] = {}
        for r in per_image:
            out["image_margin_db"].setdefault(r["image"], {})[r["sigma"]] = r["dncnn_psnr"] - r["nl_means_psnr"]
        if specific:
            out["dncnn_s_image_margin_db"] = {}
            for r in per_image:
                out["dncnn_s_image_margin_db"].setdefault(r["image"], {})[r["sigma"]] = (
                    r["dncnn_s_psnr"] - r["nl_means_psnr"])
    return out


def paper_gap(table: Sequence[dict]) -> list[dict]:
    """Our DnCNN's and NL-means' PSNR on these images beside the paper's BSD68 numbers (:data:`PAPER_BSD68`; another
    image set, so only for orientation: compare the gaps, not the PSNRs) at the sigmas both have."""
    return [{"sigma": r["sigma"], "DnCNN-S here": r.get("dncnn_s_psnr"), "DnCNN (blind) here": r["dncnn_psnr"],
             "NL-means here": r["nl_means_psnr"],
             **{f"{name} (BSD68)": PAPER_BSD68[name][r["sigma"]] for name in PAPER_BSD68}} for r in table
            if r["sigma"] in PAPER_BSD68["DnCNN-S"]]


@torch.no_grad()
def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score noisy input, TV, NL-means, the blind DnCNN and the DnCNN-S nets (each at its own sigma) at each
    noise level on Kodak24 grey (:func:`kodak24_grey`; ``cfg.eval_images`` / ``cfg.eval_crop`` take a subset /
    centred crops).

    Args:
        runs: ``{member: Run}`` (``common.load(denoising, cfg)``); the blind ``"dncnn"`` is needed, the DnCNN-S
            members are scored where present.

    Returns:
        ``(table, extras)`` of :func:`denoise_table`, plus ``extras["findings"]`` (:func:`findings`),
        ``extras["paper"]`` (:func:`paper_gap`), ``extras["images"]`` (which Kodak images) and
        ``extras["train"][member]`` what each weight file records (the held-out curve included).

    Raises:
        KeyError: ``runs`` without the blind ``"dncnn"``.
    """
    if "dncnn" not in runs:
        raise KeyError(f"evaluate needs the blind member 'dncnn' in runs, got {sorted(runs)}")
    images = kodak24_grey()[: cfg.eval_images]
    per_sigma = {SPECIFIC[m]: runs[m].net for m in SPECIFIC if m in runs}
    table, extras = denoise_table(runs["dncnn"].net, images, cfg.sigmas, seed, crop=cfg.eval_crop, progress=progress,
                                  per_sigma=per_sigma)
    extras["findings"] = findings(table, extras["per_image"])
    extras["paper"] = paper_gap(table)
    extras["images"] = f"Kodak24 grey, kodim01-kodim{len(images):02d}" + (
        f", centred {cfg.eval_crop} x {cfg.eval_crop} crops" if cfg.eval_crop else ", whole images")
    extras["train"] = {m: {k: v for k, v in run.meta.items() if k not in ("loss", "config", "history")}
                       for m, run in runs.items()}
    return table, extras


# ----------------------------------------------------------------------------- the held-out curve

def curve_photos(cfg: Config) -> torch.Tensor:
    """The photos of the held-out score: ``cfg.curve_images`` photos of the Caltech *test* split, evenly
    spaced through it (``float32 N x 1 x 128 x 128`` in [0, 1])."""
    test = caltech_grey("test")
    idx = np.linspace(0, len(test) - 1, min(cfg.curve_images, len(test))).round().astype(int)
    return test[torch.from_numpy(idx)].to(torch.float32) / 255.0


def curve_sigma(cfg: Config, member: str = "dncnn") -> int:
    """The noise level of ``member``'s held-out curve: ``cfg.curve_sigma`` for the blind net, a DnCNN-S net's
    own sigma."""
    member_config(cfg, member)  # an unknown member raises ValueError
    return SPECIFIC.get(member, cfg.curve_sigma)


@torch.no_grad()
def held_out_psnr(net: torch.nn.Module | None, cfg: Config, seed: int = 0, sigma: float | None = None) -> float:
    """Mean PSNR (dB) of ``net`` (``None``: of non-local means, told sigma) at ``sigma`` (default
    ``cfg.curve_sigma``) on :func:`curve_photos`: the score used to choose sizes and steps (never Kodak24)."""
    sigma = cfg.curve_sigma if sigma is None else sigma
    photos = curve_photos(cfg)
    scores = []
    for i, clean in enumerate(photos[:, 0].numpy()):
        noisy = noisy_version(clean, sigma, seed, i)
        out = nl_means(noisy.astype(np.float64), sigma) if net is None else denoise(net.eval(), noisy)
        scores.append(psnr(out, clean, data_range=1.0))
    return float(np.mean(scores))


def score_checkpoints(paths: Sequence[str | Path], cfg: Config, seed: int = 0, member: str = "dncnn") -> dict[str, list]:
    """The score-vs-steps curve of ``member`` from its training checkpoints (files of
    :func:`course_lib.experiments.common.save_checkpoint`, copied while training ran).

    Returns:
        ``{"step": [...], "psnr": [...], "sigma", "images", "nl_means_psnr"}``, sorted by step: :func:`held_out_psnr`
        of each checkpoint's net at :func:`curve_sigma`, and of NL-means on the same photos for reference.
    """
    mcfg, sigma = member_config(cfg, member), curve_sigma(cfg, member)
    points = []
    for p in paths:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)  # our own checkpoint files
        net = DnCNN(depth=mcfg.depth, features=mcfg.features)
        net.load_state_dict(ckpt["models"]["net"])
        points.append((int(ckpt["step"]), round(held_out_psnr(net, cfg, seed, sigma), 3)))
    points.sort()
    return {"step": [s for s, _ in points], "psnr": [v for _, v in points], "sigma": sigma,
            "images": f"Caltech test split, {cfg.curve_images} photos 128 x 128 grey",
            "nl_means_psnr": round(held_out_psnr(None, cfg, seed, sigma), 3)}
