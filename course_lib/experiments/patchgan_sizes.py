"""Notebook 07: the PatchGAN size ablation (Isola et al. 2017, Sec. 4.4, Table 3).

The paper trains pix2pix (L1 + cGAN) on Cityscapes labels -> photo with four discriminators whose output
pixels see 1 x 1 (PixelGAN), 16 x 16, 70 x 70 and 286 x 286 input pixels of a 256 x 256 image, and scores
them with the FCN-score (per-pixel accuracy / per-class accuracy / class IoU):

    1x1 .39/.15/.10   16x16 .65/.21/.17   70x70 .66/.23/.17   286x286 .42/.16/.11

Fast profile: the offline edges -> shoes task at 32 x 32, with the family **scaled so that the
patch-to-image ratios match the paper's**: 1, 2, 10 and 34 pixels of 32 (1/32, 1/16, 0.31, 1.06 of the side;
the paper's 1/256, 1/16, 0.27, 1.12) -- :data:`course_lib.models.pix2pix.SCALED_FAMILY_32`. The full profile
runs the exact four at 256 x 256 on facades. Every other setting is notebook 06's L1 + cGAN: ``build`` and
``train_step`` are :mod:`~course_lib.experiments.pix2pix_ablation`'s with another discriminator.

Members: the family except the default discriminator, each storing its generator (fast profile, seed 0:
``course_lib/weights/patchgan_1x1.pt``, ``patchgan_2x2.pt``, ``patchgan_34x34.pt``). The default
discriminator's row (10 x 10 at 32 px) is the same training as notebook 06's L1 + cGAN run, so it loads that
member of ``pix2pix_ablation`` (``pix2pix_shoes_L1cGAN.pt`` at seed 0) instead of training a copy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..models.pix2pix import PAPER_FAMILY, SCALED_FAMILY_32, scaled_patchgan_family
from ..receptive_field import receptive_field
from ..translation import TranslationConfig, evaluate_pairs, load_pairs, translate
from . import common
from . import pix2pix_ablation as A

PAPER_FCN_SCORES = {"1x1 (PixelGAN)": (0.39, 0.15, 0.10), "16x16": (0.65, 0.21, 0.17), "70x70": (0.66, 0.23, 0.17),
                    "286x286": (0.42, 0.16, 0.11)}
"""Isola et al. 2017, Table 3: per-pixel acc., per-class acc., class IOU on Cityscapes labels -> photo."""
PAPER_RECEPTIVE_FIELDS = {"1x1 (PixelGAN)": 1, "16x16": 16, "70x70": 70, "286x286": 286}
"""The paper's patch sides in pixels of a 256 x 256 image."""


@dataclass(frozen=True)
class Config(TranslationConfig):
    """The translation runs' sizes (:class:`course_lib.translation.TranslationConfig`), as notebook 06's."""


def family(cfg: TranslationConfig) -> list[str]:
    """Discriminator names of the profile, smallest patch first, each beside its paper counterpart
    (:data:`PAPER_FCN_SCORES`' order)."""
    return list(SCALED_FAMILY_32) if cfg.size == 32 else list(PAPER_FAMILY)


def members(cfg: TranslationConfig) -> list[str]:
    """The discriminators trained here: :func:`family` without ``cfg.discriminator`` (notebook 06's)."""
    return [name for name in family(cfg) if name != cfg.discriminator]


MEMBERS = members  # the driver's name for them (a function of the config)


def build(cfg: TranslationConfig, member: str, seed: int = 0) -> common.Run:
    """Notebook 06's L1 + cGAN run (:func:`course_lib.experiments.pix2pix_ablation.build`) against the
    discriminator ``member``; its generator is stored as ``patchgan_<side>`` (``patchgan_2x2``, ...)."""
    run = A.build(cfg.replace(discriminator=member), "L1+cGAN", seed)
    run.stored = {"G": "patchgan_" + re.sub(r"[^0-9a-zA-Z]+", "_", member.split(" ")[0]).strip("_")}
    return run


train_step = A.train_step


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each discriminator's generator on the held-out pairs, the default one's loaded from
    ``pix2pix_ablation`` (L1 + cGAN, same ``seed``; trained there first if its file is missing).

    Returns:
        ``(rows, {"samples": ...})``; one row per discriminator: ``discriminator, receptive_field,
        patch_to_image, paper_patch, paper_patch_to_image, type_accuracy, frd, l1, psnr`` and the paper's
        three FCN-scores for the matching row (``paper_per_pixel_acc, paper_per_class_acc, paper_class_iou``);
        ``samples``: inputs, targets and each generator's outputs for the first 8 test pairs.
    """
    test = load_pairs(cfg)[2]
    inputs, targets = (test.edges, test.shoes) if cfg.dataset == "shoes" else test
    rfs = {name: receptive_field(D).size for name, D in scaled_patchgan_family(cfg.size, 2, 4).items()}
    rows, samples = [], {}
    for ours, paper in zip(family(cfg), PAPER_FAMILY):
        if ours == cfg.discriminator:  # the default PatchGAN: notebook 06's L1 + cGAN run, the same training
            G = common.load(A, cfg, seed, members=["L1+cGAN"], progress=progress, retrain=False)["L1+cGAN"].G
        else:
            G = runs[ours].G
        samples[ours] = translate(G, inputs[:8])
        fcn = PAPER_FCN_SCORES[paper]
        rows.append({"discriminator": ours, "receptive_field": rfs[ours], "patch_to_image": rfs[ours] / cfg.size,
                     "paper_patch": paper, "paper_patch_to_image": PAPER_RECEPTIVE_FIELDS[paper] / 256,
                     **evaluate_pairs(G, test),
                     "paper_per_pixel_acc": fcn[0], "paper_per_class_acc": fcn[1], "paper_class_iou": fcn[2]})
    samples["input"], samples["target"] = inputs[:8], targets[:8]
    return rows, {"samples": samples}
