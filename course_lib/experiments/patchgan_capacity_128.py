"""Notebook 07, section 4: is the whole-image discriminator's poor score in the paper a matter of width?

Isola et al. (2017, Sec. 4.4) find the 286 x 286 "ImageGAN" far behind the 70 x 70 PatchGAN (FCN per-pixel
accuracy 0.42 against 0.66, Table 3) and suggest why: it "has many more parameters and greater depth" and "may be
harder to train". :mod:`~course_lib.experiments.patchgan_sizes_128` does not reproduce the gap at 128 x 128 with
``ndf = 16``. This module changes one factor, the discriminator's width, to the paper's ``ndf = 64``, and trains
the middle (34 x 34, ``NLayerDiscriminator(n_layers=2)``) and the whole-image (142 x 142, ``n_layers=4``)
discriminators again; everything else is :class:`~course_lib.experiments.patchgan_sizes_128.Config`'s (``unet_128``
with ngf 16, batch 16, 8,000 steps, the same initial generator and the same batches at a seed).

Parameters of the discriminator (6 input channels; ``tests/test_translation.py`` checks them):

    ============  =========  =========  ==================================
    D             ndf 16     ndf 64     paper (ndf 64, 256 px)
    ============  =========  =========  ==================================
    34 x 34       0.044 M    0.67 M     70 x 70 (``n_layers=3``): 2.77 M
    142 x 142     0.44 M     6.96 M     286 x 286 (``n_layers=5``): 11.2 M
    ============  =========  =========  ==================================

Members: ``"34x34 (ndf 64)"`` and ``"142x142 (ndf 64)"``, stored as
``patchgan_motorbikes_128px_34x34_ndf64.pt`` and ``patchgan_motorbikes_128px_142x142_ndf64.pt`` (seed 0) and the same
names with ``_seed1`` (:data:`STORED_SEEDS`); the ``ndf = 16`` rows they are compared with are
:mod:`~course_lib.experiments.patchgan_sizes_128`'s at the same seed. The 142 x 142 at ndf 64 costs about 0.6 s a
step on one CPU thread in bf16 (4,644 s for 8,000 steps at seed 0; the 34 x 34 3,128 s; 17-18 minutes each at ndf 16). There
is no full profile: at 256 x 256 the paper's discriminators already have ``ndf = 64``
(:mod:`~course_lib.experiments.patchgan_sizes`).
"""
from __future__ import annotations

from ..translation import TranslationConfig
from . import common
from . import pix2pix_ablation as A
from . import patchgan_sizes_128 as S128

NDF = 64
"""The paper's discriminator width (Isola et al. 2017, appendix 6.1.2: C64-C128-...)."""
STORED_SEEDS = (0, 1)
"""The seeds whose generators are committed (``python -m course_lib reproduce patchgan_capacity_128``)."""
BASE = ("34x34", "142x142")
"""The discriminators of :data:`course_lib.models.pix2pix.SCALED_FAMILY_128` trained again at :data:`NDF`."""


class Config(S128.Config):
    """:class:`course_lib.experiments.patchgan_sizes_128.Config` unchanged (``ndf`` stays 16 there; each member
    sets :data:`NDF` on its own discriminator)."""


def members(cfg: TranslationConfig) -> list[str]:
    """``["34x34 (ndf 64)", "142x142 (ndf 64)"]``.

    Raises:
        NotImplementedError: outside the fast profile at 128 x 128 (at 256 x 256 the paper's discriminators already
            have ndf 64: use :mod:`~course_lib.experiments.patchgan_sizes`).
    """
    if cfg.size != 128 or cfg.profile != "fast":
        raise NotImplementedError("patchgan_capacity_128 is the fast profile's 128 x 128 run only; in the full "
                                  "profile the paper's discriminators already have ndf 64 (patchgan_sizes)")
    return [f"{base} (ndf {NDF})" for base in BASE]


MEMBERS = members


def base_of(member: str) -> str:
    """``"142x142 (ndf 64)"`` -> ``"142x142"``.

    Raises:
        ValueError: ``member`` is not one of :func:`members`.
    """
    for base in BASE:
        if member == f"{base} (ndf {NDF})":
            return base
    raise ValueError(f"patchgan_capacity_128 has no member {member!r}; its members: "
                     f"{[f'{b} (ndf {NDF})' for b in BASE]}")


def build(cfg: TranslationConfig, member: str, seed: int = 0) -> common.Run:
    """:func:`course_lib.experiments.patchgan_sizes_128.build` with the discriminator ``base_of(member)`` at
    ``ndf = 64``; the generator (same initial weights at a seed) is stored as
    ``patchgan_<dataset>_128px_<side>_ndf64``."""
    base = base_of(member)
    run = S128.build(cfg.replace(ndf=NDF), base, seed)
    run.stored = {"G": run.stored["G"] + f"_ndf{NDF}"}
    return run


train_step = S128.train_step


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score the two ndf-64 generators beside the ndf-16 ones of the same seed (loaded from
    :mod:`~course_lib.experiments.patchgan_sizes_128`; never trained here: a missing ndf-16 file is an error).

    Returns:
        ``(rows, extras)``: one row per discriminator and width, the ndf-16 row of a size before its ndf-64 row:
        ``{"discriminator", "base", "ndf", "d_parameters", "receptive_field", "train_seconds"}`` and the scores of
        :func:`course_lib.translation.evaluate_motorbikes` (``frechet``, ``judge_motorbike``, ``edge_f1``,
        ``sharpness_ratio``, ``psnr``, ...). ``extras["samples"]``: inputs, targets and each generator's outputs
        for the first 8 held-out pairs (``8 x 3 x 128 x 128`` in [-1, 1]); ``extras["real photos"]``: the held-out
        photos' own scores.
    """
    from ..receptive_field import receptive_field
    from ..translation import (build_discriminator, edge_agreement, evaluate_motorbikes, judge_motorbikes,
                               load_pairs, motorbike_reference, translate)

    names = members(cfg)
    missing = [m for m in names if m not in runs]
    if missing:
        raise ValueError(f"no run of {missing}; runs: {list(runs)} (load them with common.load)")
    base_runs = common.load(S128, cfg, seed, members=list(BASE), progress=progress, retrain=False)
    test = load_pairs(cfg)[2]
    inputs, targets = test
    reference = motorbike_reference(size=cfg.size)
    in_channels = inputs.shape[1] + targets.shape[1]
    rows, samples = [], {}
    for base, member in zip(BASE, names):
        for name, run, ndf in ((base, base_runs[base], cfg.ndf), (member, runs[member], NDF)):
            D = build_discriminator(cfg.replace(ndf=ndf), in_channels, base)
            samples[name] = translate(run.G, inputs[:8])
            rows.append({"discriminator": name, "base": base, "ndf": ndf,
                         "d_parameters": sum(p.numel() for p in D.parameters()),
                         "receptive_field": receptive_field(D).size,
                         **evaluate_motorbikes(run.G, test, reference, seed),
                         "train_seconds": run.meta.get("train_seconds", float("nan"))})
    samples["input"], samples["target"] = inputs[:8], targets[:8]
    real = {**judge_motorbikes(targets, reference, seed), **edge_agreement(targets, inputs),
            "sharpness_ratio": 1.0, "l1": 0.0, "psnr": float("inf")}
    return rows, {"samples": samples, "real photos": real}


def findings(rows, frechet_sd: dict[str, float]) -> dict:
    """What section 4 of notebook 07 reads from one seed's :func:`evaluate` table, with the seed-to-seed spread of
    the ndf-16 runs (``frechet_sd``: discriminator -> sample sd of its Fréchet distance over
    :data:`course_lib.experiments.patchgan_sizes_128.STORED_SEEDS`) as the yardstick a change must beat:

    * ``widening_hurts_whole_image``: the 142 x 142 at ndf 64 is farther from real photos (Fréchet) than at ndf 16
      by more than the ndf-16 run's seed sd (the paper's explanation predicts yes);
    * ``widening_hurts_middle``: the same for the 34 x 34;
    * ``widening_hurts_whole_image_more``: the 142 x 142's Fréchet distance rises more than the 34 x 34's (the gap
      between them grows with the width);
    * ``whole_image_behind_middle_at_ndf64``: at ndf 64 the 142 x 142 is farther from real photos than the 34 x 34;
    * ``gap_at_ndf64_beyond_spread``: ... by more than the two ndf-16 seed sds added (a07's rule for a clear lead);
    * ``whole_image_sharper_at_ndf64`` / ``edge_f1_falls_at_ndf64``: the 142 x 142's outputs are sharper / follow
      the input's edges less than the 34 x 34's at ndf 64, as at ndf 16 (the trade-off of section 3).
    Also the numbers (``frechet_<side>_ndf<width>``, ``edge_f1_...``, ``sharpness_ratio_...``).

    Raises:
        ValueError: ``rows`` lack one of the four runs, or ``frechet_sd`` one of the two sizes.
    """
    r = {(row["base"], row["ndf"]): row for row in rows}
    narrow = min((row["ndf"] for row in rows), default=NDF)  # section 3's width (the config's ndf, 16)
    need = [(b, w) for b in BASE for w in (narrow, NDF)]
    if narrow == NDF or any(k not in r for k in need) or any(b not in frechet_sd for b in BASE):
        raise ValueError(f"findings need the rows {need} (got {sorted(r)}) and the ndf-16 Fréchet sds of {BASE} "
                         f"(got {sorted(frechet_sd)})")
    mid, whole = BASE
    out = {f"{col}_{b}_ndf{w}": r[(b, w)][col] for b, w in need for col in ("frechet", "edge_f1", "sharpness_ratio")}
    out["widening_hurts_whole_image"] = r[(whole, NDF)]["frechet"] - r[(whole, narrow)]["frechet"] > frechet_sd[whole]
    out["widening_hurts_middle"] = r[(mid, NDF)]["frechet"] - r[(mid, narrow)]["frechet"] > frechet_sd[mid]
    out["widening_hurts_whole_image_more"] = (r[(whole, NDF)]["frechet"] - r[(whole, narrow)]["frechet"]
                                              > r[(mid, NDF)]["frechet"] - r[(mid, narrow)]["frechet"])
    gap = r[(whole, NDF)]["frechet"] - r[(mid, NDF)]["frechet"]
    out["whole_image_behind_middle_at_ndf64"] = gap > 0
    out["gap_at_ndf64_beyond_spread"] = gap > frechet_sd[whole] + frechet_sd[mid]
    out["whole_image_sharper_at_ndf64"] = r[(whole, NDF)]["sharpness_ratio"] > r[(mid, NDF)]["sharpness_ratio"]
    out["edge_f1_falls_at_ndf64"] = r[(whole, NDF)]["edge_f1"] < r[(mid, NDF)]["edge_f1"]
    return out


def findings_over_seeds(tables, frechet_sd: dict[str, float]) -> dict:
    """:func:`findings` of each seed's :func:`evaluate` table (a list, one per seed of :data:`STORED_SEEDS`; paired by
    seed: at a seed both widths start from the same generator and see the same batches), each against the same
    ``frechet_sd``, and for each yes/no finding whether it holds at every seed (``"every_seed"``) and at how many
    (``"seeds_holding"``); ``"per_seed"`` lists each seed's :func:`findings`.

    Raises:
        ValueError: a table lacks one of the four runs, or ``frechet_sd`` one of the two sizes (:func:`findings`).
    """
    return A.findings_over_seeds(tables, lambda rows: findings(rows, frechet_sd))


FINDINGS_STATED = {"widening_hurts_whole_image": True, "widening_hurts_middle": True,
                   "widening_hurts_whole_image_more": True, "whole_image_behind_middle_at_ndf64": True,
                   "gap_at_ndf64_beyond_spread": False, "whole_image_sharper_at_ndf64": True,
                   "edge_f1_falls_at_ndf64": True}
"""What notebook 07's section 4 says of :func:`findings` at every seed of :data:`STORED_SEEDS` (True: holds at each;
False: fails at one or more): at ndf 64 both generators are farther from real photos than at ndf 16 by more than
the ndf-16 seed sd (142 x 142: +11.5 / +20.5 at seeds 0 / 1, sd 9.7; 34 x 34: +3.4 / +10.0, sd 2.8), the whole
image's more; the whole image falls behind the middle (by 8.7 / 18.0), beyond the two sds added (12.5) at seed 1
only; at ndf 64 the whole image's outputs are still the sharper and follow the edges less.
``tests/test_patchgan_findings.py`` checks it on the stored weights."""
