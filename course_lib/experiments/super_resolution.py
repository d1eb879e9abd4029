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
