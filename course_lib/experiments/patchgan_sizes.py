"""Notebook 07: the PatchGAN size ablation (Isola et al. 2017, Sec. 4.4, Table 3).

The paper trains pix2pix (L1 + cGAN) on Cityscapes labels -> photo with four discriminators whose output
pixels see 1 x 1 (PixelGAN), 16 x 16, 70 x 70 and 286 x 286 input pixels of a 256 x 256 image, and scores
them with the FCN-score (per-pixel accuracy / per-class accuracy / class IoU):

    1x1 .39/.15/.10   16x16 .65/.21/.17   70x70 .66/.23/.17   286x286 .42/.16/.11

Fast profile: the offline edges -> shoes task at 32 x 32, with the family **scaled so that the
patch-to-image ratios match the paper's**: 1, 2, 10 and 34 pixels of 32 (1/32, 1/16, 0.31, 1.06 of the side;
the paper's 1/256, 1/16, 0.27, 1.12) -- :data:`course_lib.models.pix2pix.SCALED_FAMILY_32`. The full profile
runs the exact four at 256 x 256 on facades. Every other setting is notebook 06's L1 + cGAN.

Train-or-load: fast profile, seed 0 -> ``course_lib/weights/patchgan_<name>.pt`` (the generators;
``COURSE_RETRAIN=1`` retrains). The default discriminator's row (10 x 10 at 32 px, 70 x 70 at 256 px) is the
same training as notebook 06's L1 + cGAN run, so it uses that generator
(``pix2pix_shoes_L1cGAN.pt`` at seed 0) instead of training a copy.
"""
from __future__ import annotations

import re

from ..models.pix2pix import PAPER_FAMILY, SCALED_FAMILY_32, scaled_patchgan_family
from ..profile import Profile, get_profile
from ..receptive_field import receptive_field
from ..translation import evaluate_shoes, load_pairs, make_config, train_or_load_pix2pix, train_pix2pix, translate

COMMAND = "COURSE_RETRAIN=1 python -m course_lib reproduce patchgan_sizes --profile fast --seed 0"
PAPER_FCN_SCORES = {"1x1 (PixelGAN)": (0.39, 0.15, 0.10), "16x16": (0.65, 0.21, 0.17), "70x70": (0.66, 0.23, 0.17),
                    "286x286": (0.42, 0.16, 0.11)}
"""Isola et al. 2017, Table 3: per-pixel acc., per-class acc., class IOU on Cityscapes labels -> photo."""


def family(cfg) -> list[str]:
    """Discriminator names of the profile, smallest patch first, each with its paper counterpart."""
    return list(SCALED_FAMILY_32) if cfg.size == 32 else list(PAPER_FAMILY)


def weight_name(name: str) -> str:
    """``patchgan_2x2`` etc."""
    return "patchgan_" + re.sub(r"[^0-9a-zA-Z]+", "_", name.split(" ")[0]).strip("_")


def receptive_fields(cfg) -> dict:
    """``{name: receptive field in pixels}`` of the profile's family (from course_lib.receptive_field)."""
    return {name: receptive_field(D).size for name, D in scaled_patchgan_family(cfg.size, 2, 4).items()}


def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None) -> dict:
    """Train (or load) L1 + cGAN with each discriminator and score it on the held-out pairs.

    Returns ``{"config", "table", "samples"}``; each table row: ``discriminator, receptive_field,
    patch_to_image, paper_patch, paper_patch_to_image, type_accuracy, frd, l1, psnr`` and the paper's
    three FCN-scores for the matching row.
    """
    from ..metrics import pixel_scores
    from . import pix2pix_ablation as A

    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P)
    x, y, test = load_pairs(cfg)
    rfs = receptive_fields(cfg)
    rows, samples = [], {}
    for ours, paper in zip(family(cfg), PAPER_FAMILY):
        if ours == cfg.discriminator:  # the default PatchGAN: notebook 06's L1 + cGAN run, the same training;
            # its stored file is made by the ablation's command, so COURSE_RETRAIN does not retrain it here
            G = A.generators(P, seed, progress, retrain=False, data=(x, y), variants=("L1+cGAN",))["L1+cGAN"][0]
        elif P.is_fast and seed == 0:
            G, meta = train_or_load_pix2pix(cfg, "L1+cGAN", weight_name(ours), COMMAND, seed, discriminator=ours,
                                            retrain=retrain, progress=progress, data=(x, y))
        else:
            G, history = train_pix2pix(cfg, "L1+cGAN", seed, (x, y), discriminator=ours, progress=progress)
        if cfg.dataset == "shoes":
            scores = evaluate_shoes(G, test)
            samples[ours] = translate(G, test.edges[:8])
        else:
            fake = translate(G, test[0])
            scores = {"type_accuracy": float("nan"), "frd": float("nan"), **pixel_scores(fake, test[1])}
            samples[ours] = fake[:8]
        paper_rf = {0: 1, 1: 16, 3: 70, 5: 286}[PAPER_FAMILY[paper]]
        fcn = PAPER_FCN_SCORES[paper]
        rows.append({"discriminator": ours, "receptive_field": rfs[ours], "patch_to_image": rfs[ours] / cfg.size,
                     "paper_patch": paper, "paper_patch_to_image": paper_rf / 256, **scores,
                     "paper_per_pixel_acc": fcn[0], "paper_per_class_acc": fcn[1], "paper_class_iou": fcn[2]})
    if cfg.dataset == "shoes":
        samples["input"], samples["target"] = test.edges[:8], test.shoes[:8]
    return {"config": cfg.as_dict(), "table": rows, "samples": samples}
