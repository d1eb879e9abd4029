"""Notebook 07: the PatchGAN size ablation (Isola et al. 2017, Sec. 4.4, Table 3).

The paper trains pix2pix (L1 + cGAN) on Cityscapes labels -> photo with four discriminators whose output
pixels see 1 x 1 (PixelGAN), 16 x 16, 70 x 70 and 286 x 286 input pixels of a 256 x 256 image, and scores
them with the FCN-score (per-pixel accuracy / per-class accuracy / class IoU):

    1x1 .39/.15/.10   16x16 .65/.21/.17   70x70 .66/.23/.17   286x286 .42/.16/.11

Fast profile: notebook 06's edges -> motorbikes at 64 x 64 (:class:`course_lib.experiments.pix2pix_ablation.Config`)
with the family **scaled so that the patch-to-image ratios match the paper's**: 1, 4, 16 and 70 pixels of 64
(1/64, 1/16, 0.25 and 1.09 of the side; the paper's 1/256, 1/16, 0.27 and 1.12) --
:data:`course_lib.models.pix2pix.SCALED_FAMILY_64`; the 16 x 16 and 70 x 70 are the paper's own ``n_layers`` 1 and
3 networks. Scores: :func:`course_lib.translation.evaluate_motorbikes` (the photo judge's Fréchet distance,
the edge F1 against the input, sharpness, L1 / PSNR). The full profile runs the exact four at 256 x 256 on
facades. Every other setting is notebook 06's L1 + cGAN: ``build`` and ``train_step`` are
:mod:`~course_lib.experiments.pix2pix_ablation`'s with another discriminator.

Members: the family except the default discriminator, each storing its generator (fast profile:
``course_lib/weights/patchgan_motorbikes_1x1.pt``, ``..._4x4.pt``, ``..._70x70.pt`` at seed 0, and
``..._seed1.pt``, ``..._seed2.pt``; about 9-14 minutes each on one CPU thread in bf16). The default
discriminator's row (16 x 16) is the same training as notebook 06's L1 + cGAN run, so it loads that member of
``pix2pix_ablation`` (``pix2pix_motorbikes_L1cGAN.pt``) instead of training a copy. At a seed every member
starts from the same generator and sees the same batches (paired by seed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..models.pix2pix import PAPER_FAMILY, SCALED_FAMILY_32, SCALED_FAMILY_64, SCALED_FAMILY_128, scaled_patchgan_family
from ..receptive_field import receptive_field
from ..translation import TranslationConfig, evaluate_pairs, load_pairs, translate
from . import common
from . import pix2pix_ablation as A

STORED_SEEDS = (0, 1, 2)
"""The seeds whose generators the fast profile ships (the three trained sizes at each; the 16 x 16 row is
:data:`course_lib.experiments.pix2pix_ablation.STORED_SEEDS`'s L1 + cGAN at the same seed)."""
PAPER_FCN_SCORES = {"1x1 (PixelGAN)": (0.39, 0.15, 0.10), "16x16": (0.65, 0.21, 0.17), "70x70": (0.66, 0.23, 0.17),
                    "286x286": (0.42, 0.16, 0.11)}
"""Isola et al. 2017, Table 3: per-pixel acc., per-class acc., class IOU on Cityscapes labels -> photo."""
PAPER_RECEPTIVE_FIELDS = {"1x1 (PixelGAN)": 1, "16x16": 16, "70x70": 70, "286x286": 286}
"""The paper's patch sides in pixels of a 256 x 256 image."""


@dataclass(frozen=True)
class Config(A.Config):
    """Notebook 06's pix2pix sizes (:class:`course_lib.experiments.pix2pix_ablation.Config`: edges -> motorbikes at
    64 x 64 in the fast profile, facades at 256 x 256 in the full one); only the discriminator changes."""


def family(cfg: TranslationConfig) -> list[str]:
    """Discriminator names of the profile, smallest patch first, each beside its paper counterpart
    (:data:`PAPER_FCN_SCORES`' order): :data:`~course_lib.models.pix2pix.SCALED_FAMILY_64` at 64 px,
    :data:`~course_lib.models.pix2pix.SCALED_FAMILY_128` at 128 px (:mod:`~course_lib.experiments.patchgan_sizes_128`),
    :data:`~course_lib.models.pix2pix.SCALED_FAMILY_32` at 32 px, the paper's four otherwise."""
    return list({32: SCALED_FAMILY_32, 64: SCALED_FAMILY_64, 128: SCALED_FAMILY_128}.get(cfg.size, PAPER_FAMILY))


def members(cfg: TranslationConfig) -> list[str]:
    """The discriminators trained here: :func:`family` without ``cfg.discriminator`` (notebook 06's)."""
    return [name for name in family(cfg) if name != cfg.discriminator]


MEMBERS = members  # the driver's name for them (a function of the config)


def build(cfg: TranslationConfig, member: str, seed: int = 0) -> common.Run:
    """Notebook 06's L1 + cGAN run (:func:`course_lib.experiments.pix2pix_ablation.build`) against the
    discriminator ``member``; its generator is stored as ``patchgan_<dataset>_<side>`` (``patchgan_motorbikes_4x4``,
    ...)."""
    run = A.build(cfg.replace(discriminator=member), "L1+cGAN", seed)
    run.stored = {"G": f"patchgan_{cfg.dataset}_" + re.sub(r"[^0-9a-zA-Z]+", "_", member.split(" ")[0]).strip("_")}
    return run


train_step = A.train_step


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each discriminator's generator on the held-out pairs; the default one's, when ``runs`` lacks it, loaded
    from ``pix2pix_ablation`` (L1 + cGAN, same ``seed``; trained there first if its file is missing).

    Returns:
        ``(rows, extras)``; one row per discriminator, smallest patch first: ``discriminator, receptive_field,
        patch_to_image, paper_patch, paper_patch_to_image``, the scores (edges -> motorbikes:
        :func:`course_lib.translation.evaluate_motorbikes` -- ``judge_motorbike, frechet, two_sample, sharpness_ratio,
        duplicates, edge_precision, edge_recall, edge_f1, l1, psnr``; shoes: ``type_accuracy, frd, l1, psnr``),
        ``train_seconds`` and the paper's three FCN-scores for the matching row (``paper_per_pixel_acc,
        paper_per_class_acc, paper_class_iou``). ``extras["samples"]``: inputs, targets and each generator's outputs
        for the first 8 test pairs (``8 x C x H x W`` in [-1, 1]); on edges -> motorbikes ``extras["real photos"]``:
        the held-out photos' own scores (the floor of the Fréchet distance, the ceiling of the edge F1).
    """
    from ..translation import edge_agreement, evaluate_motorbikes, judge_motorbikes, motorbike_reference

    test = load_pairs(cfg)[2]
    inputs, targets = (test.edges, test.shoes) if cfg.dataset == "shoes" else test
    reference = motorbike_reference(size=cfg.size) if cfg.dataset == "motorbikes" else None
    in_channels = inputs.shape[1] + targets.shape[1]
    rfs = {name: receptive_field(D).size for name, D in scaled_patchgan_family(cfg.size, in_channels, 4).items()}
    rows, samples = [], {}
    for ours, paper in zip(family(cfg), PAPER_FAMILY):
        if ours in runs:
            run = runs[ours]
        elif ours == cfg.discriminator:  # the default PatchGAN: notebook 06's L1 + cGAN run, the same training
            run = common.load(A, cfg, seed, members=["L1+cGAN"], progress=progress, retrain=False)["L1+cGAN"]
        else:
            raise ValueError(f"no run of the discriminator {ours!r}; runs: {list(runs)}")
        samples[ours] = translate(run.G, inputs[:8])
        scores = evaluate_motorbikes(run.G, test, reference, seed) if reference is not None else evaluate_pairs(run.G, test)
        fcn = PAPER_FCN_SCORES[paper]
        rows.append({"discriminator": ours, "receptive_field": rfs[ours], "patch_to_image": rfs[ours] / cfg.size,
                     "paper_patch": paper, "paper_patch_to_image": PAPER_RECEPTIVE_FIELDS[paper] / 256, **scores,
                     "train_seconds": run.meta.get("train_seconds", float("nan")),
                     "paper_per_pixel_acc": fcn[0], "paper_per_class_acc": fcn[1], "paper_class_iou": fcn[2]})
    samples["input"], samples["target"] = inputs[:8], targets[:8]
    extras = {"samples": samples}
    if reference is not None:
        extras["real photos"] = {**judge_motorbikes(targets, reference, seed), **edge_agreement(targets, inputs),
                                 "sharpness_ratio": 1.0, "l1": 0.0, "psnr": float("inf")}
    return rows, extras


FINDINGS_STATED = {"middle_best_frechet": True, "pixelgan_worst_frechet": True, "largest_worse_than_middle": True,
                   "pixelgan_least_sharp": True, "edge_f1_falls_as_patch_grows": True}
"""What notebook 07's text says of :func:`findings` at every seed of the stored generators (True: at all three;
False: not at every seed; every one holds at all three seeds of the fast profile); ``tests/test_patchgan_findings.py`` checks it, so a retrain that changes one fails until
the text is revisited."""


def findings(rows) -> dict:
    """The lessons notebook 07 states, computed from one seed's table (``rows`` of :func:`evaluate` on edges ->
    motorbikes), with the paper's Table 3 as the goal (a middle patch size best, the 1 x 1 PixelGAN worst on
    structure):

    * ``frechet_best``: the discriminator whose generator's outputs are closest to real motorbikes in the photo
      judge's feature space (lowest Fréchet distance); ``middle_best_frechet``: that is one of the two middle sizes
      (the paper's 16 x 16 and 70 x 70 rows, best in its Table 3);
    * ``pixelgan_worst_frechet``: the 1 x 1 PixelGAN's outputs are the farthest from real photos;
    * ``largest_worse_than_middle``: the largest patch (whole image and more: the paper's 286 x 286) is farther from
      real photos than the better middle size (the paper: 0.42 against 0.66 per-pixel accuracy);
    * ``pixelgan_least_sharp``: the PixelGAN's outputs are the least sharp (mean luma gradient relative to the
      truth; the paper: a 1 x 1 discriminator adds colour but no spatial sharpness, Sec. 4.4);
    * ``edge_f1_best``: which generator follows the input's edges best; ``edge_f1_falls_as_patch_grows``: the edge
      F1 falls from each size to the next larger one (the larger the patch, the more the generator draws its own
      edges rather than the input's); ``edge_f1_falls_from_middle_up``: the same from the smaller middle size on
      (the PixelGAN left out: it follows the edges about as well as the smaller middle size);
    * ``sharpness_rises_with_patch``: the outputs' sharpness rises from each size to the next larger one;
      ``psnr_falls_as_patch_grows``: the PSNR against the true photo falls from each size to the next larger one
      (a larger patch lets the generator depart further from the one true photo).
    Also the numbers behind them (``frechet_<size>``, ``edge_f1_<size>``, ...; ``<size>`` as ``"1x1"``).

    Raises:
        ValueError: rows of another dataset, or a size of the family missing.
    """
    sizes = [row["discriminator"] for row in rows]
    if len(sizes) != 4 or "frechet" not in rows[0]:
        raise ValueError(f"the findings need the four discriminators' edges -> motorbikes rows; got {sizes}")
    r = {row["discriminator"]: row for row in rows}
    short = {name: name.split(" ")[0] for name in sizes}
    pixel, middle, largest = sizes[0], sizes[1:3], sizes[3]
    out = {f"{col}_{short[m]}": r[m][col] for m in sizes
           for col in ("frechet", "judge_motorbike", "two_sample", "edge_f1", "sharpness_ratio", "duplicates", "l1", "psnr")}
    out["frechet_best"] = short[min(sizes, key=lambda m: r[m]["frechet"])]
    out["middle_best_frechet"] = out["frechet_best"] in [short[m] for m in middle]
    out["pixelgan_worst_frechet"] = max(sizes, key=lambda m: r[m]["frechet"]) == pixel
    out["largest_worse_than_middle"] = r[largest]["frechet"] > min(r[m]["frechet"] for m in middle)
    out["pixelgan_least_sharp"] = min(sizes, key=lambda m: r[m]["sharpness_ratio"]) == pixel
    out["edge_f1_best"] = short[max(sizes, key=lambda m: r[m]["edge_f1"])]
    out["edge_f1_falls_as_patch_grows"] = all(r[a]["edge_f1"] > r[b]["edge_f1"] for a, b in zip(sizes, sizes[1:]))
    out["edge_f1_falls_from_middle_up"] = all(r[a]["edge_f1"] > r[b]["edge_f1"] for a, b in zip(sizes[1:], sizes[2:]))
    out["sharpness_rises_with_patch"] = all(r[a]["sharpness_ratio"] < r[b]["sharpness_ratio"]
                                            for a, b in zip(sizes, sizes[1:]))
    out["psnr_falls_as_patch_grows"] = all(r[a]["psnr"] > r[b]["psnr"] for a, b in zip(sizes, sizes[1:]))
    return out


def findings_over_seeds(tables) -> dict:
    """:func:`findings` of each seed's table (paired by seed: the same initial generator and batch order for every
    discriminator), and for each yes/no finding whether it holds at every seed and at how many
    (:func:`course_lib.experiments.pix2pix_ablation.findings_over_seeds`)."""
    return A.findings_over_seeds(tables, findings)
