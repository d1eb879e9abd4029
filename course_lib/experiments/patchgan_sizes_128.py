"""Notebook 07 at issue 13's size: the PatchGAN size ablation (Isola et al. 2017, Sec. 4.4, Table 3) on edges ->
motorbikes at 128 x 128.

:mod:`~course_lib.experiments.patchgan_sizes` runs the ablation at 64 x 64 (three seeds). This module runs the same
experiment at 128 x 128, where the four discriminators keep the paper's patch-to-image ratios more closely and
two of them are the paper's own ``NLayerDiscriminator`` (:data:`course_lib.models.pix2pix.SCALED_FAMILY_128`):

    1 x 1 (PixelGAN), 8 x 8, 34 x 34 (``n_layers=2``), 142 x 142 (``n_layers=4``)
    = 1/128, 1/16, 0.27 and 1.11 of the side; the paper's 1/256, 1/16, 0.27 and 1.12 at 256 x 256.

Every other setting is notebook 06's L1 + cGAN (:class:`course_lib.experiments.pix2pix_ablation.Config`) with the
image doubled: ``unet_128`` (seven levels, ngf 16), ndf 16, batch 16, 8,000 steps, the learning rate decayed
linearly to 0 over the second half. No member is shared with notebook 06 (which trains at 64), so all four are
trained here; at a seed every member starts from the same generator and sees the same batches (paired by seed).
The scores are :func:`course_lib.translation.evaluate_motorbikes`' (the photo judge reads 128 x 128 photos
area-resized to its 64 x 64 input; the edge F1 and the pixel scores are computed at 128 x 128).

Stored generators (fast profile): ``course_lib/weights/patchgan_motorbikes_128px_<size>.pt`` (``1x1``, ``8x8``,
``34x34``, ``142x142``) at seed 0 and ``..._seed1.pt``, ``..._seed2.pt`` at seeds 1 and 2 (:data:`STORED_SEEDS`),
each with its command, wall-clock time and held-out curve (every 1,000 steps); 16-21 minutes each on one CPU thread
in bf16 with channels_last, two at a time, the PixelGAN 30-34 (its discriminator works at the full 128 x 128). The full profile is
:mod:`~course_lib.experiments.patchgan_sizes`' (the paper's exact four at 256 x 256 on facades), stored under the
same names, so either module loads the other's full-profile weights.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..translation import TranslationConfig
from . import common
from . import patchgan_sizes as P
from .common import fast_full

PAPER_FCN_SCORES = P.PAPER_FCN_SCORES
STORED_SEEDS = (0, 1, 2)
"""The seeds whose fast-profile generators are committed (``python -m course_lib reproduce patchgan_sizes_128
--seed 0 1 2``); notebook 07's section 3 shows them."""


@dataclass(frozen=True)
class Config(P.Config):
    """Notebook 06's pix2pix sizes (:class:`course_lib.experiments.pix2pix_ablation.Config`) at 128 x 128 in the
    fast profile: ``unet_128`` (ngf 16), the ``34x34`` PatchGAN as the nominal default (0.27 of the side, the paper's
    70/256; every size of :data:`~course_lib.models.pix2pix.SCALED_FAMILY_128` is a member here). Full profile:
    :class:`course_lib.experiments.patchgan_sizes.Config`'s (facades, 256 x 256)."""

    size: int = fast_full(128, 256)
    generator: str = fast_full("unet_128", "unet_256")
    discriminator: str = fast_full("34x34", "basic")


def members(cfg: TranslationConfig) -> list[str]:
    """The discriminators trained: all four of :func:`~course_lib.experiments.patchgan_sizes.family` at 128 px
    (none is shared with notebook 06's 64 px runs); :func:`~course_lib.experiments.patchgan_sizes.members` at any
    other size."""
    return P.family(cfg) if cfg.size == 128 else P.members(cfg)


MEMBERS = members


def build(cfg: TranslationConfig, member: str, seed: int = 0) -> common.Run:
    """:func:`course_lib.experiments.patchgan_sizes.build` (notebook 06's L1 + cGAN run against the discriminator
    ``member``); at 128 px the generator is stored as ``patchgan_<dataset>_128px_<side>``
    (``patchgan_motorbikes_128px_8x8``, ...)."""
    run = P.build(cfg, member, seed)
    if cfg.size == 128:
        side = re.sub(r"[^0-9a-zA-Z]+", "_", member.split(" ")[0]).strip("_")
        run.stored = {"G": f"patchgan_{cfg.dataset}_128px_{side}"}
    return run


FINDINGS_STATED = {"middle_best_frechet": False, "pixelgan_worst_frechet": True, "largest_worse_than_middle": False,
                   "pixelgan_least_sharp": True, "edge_f1_falls_as_patch_grows": False,
                   "edge_f1_falls_from_middle_up": True, "sharpness_rises_with_patch": True,
                   "psnr_falls_as_patch_grows": True}
"""What notebook 07's section 3 says of :func:`findings` at every seed of :data:`STORED_SEEDS` (True: at each;
False: not at every one). Over seeds 0, 1, 2 the lowest Fréchet distance is the 8 x 8's, the 34 x 34's and the whole
image's (142 x 142): no middle size is best at every seed, and the whole image is behind the better middle size at
two of three; the PixelGAN follows the edges about as well as the 8 x 8 (better at one seed), so the edge F1 falls
from the 8 x 8 up but not from the PixelGAN. ``tests/test_patchgan_findings.py`` checks it, so a retrain that
changes one fails until the text is revisited."""

family = P.family
train_step = P.train_step
evaluate = P.evaluate
findings = P.findings
findings_over_seeds = P.findings_over_seeds
