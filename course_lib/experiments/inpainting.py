"""Notebook 10, part 2: inpainting a central hole with a Context Encoder, L2-only vs L2 + adversarial, against
biharmonic inpainting.

After D. Pathak, P. Krähenbühl, J. Donahue, T. Darrell, A. A. Efros, "Context Encoders: Feature Learning by
Inpainting", CVPR 2016. 64 x 64 RGB crops with the central 32 x 32 square hidden (the paper: 128 x 128 and
64 x 64). The two members are :class:`~course_lib.models.context_encoder.ContextEncoder` nets that start from
the same weights and see the same batches:

* ``"L2"`` (row ``CE (L2)``) -- only the masked reconstruction loss (:func:`course_lib.losses.masked_l2_loss`,
  Eq. 1);
* ``"L2+adv"`` (row ``CE (L2+adv)``) -- ``0.999 * L_rec + 0.001 * L_adv`` (Eq. 4, the paper's weights), where a
  :class:`~course_lib.models.context_encoder.HoleDiscriminator` judges the 32 x 32 hole (real centre vs
  painted centre) with the non-saturating GAN loss (:class:`course_lib.losses.GANLoss` ``'vanilla'``).

The classical baseline, :func:`course_lib.models.classical.inpaint_biharmonic`, fills the hole with the
smoothest surface (biharmonic equation) that matches the border; it needs no training. Scores on crops of the
held-out photos: PSNR and mean L1 over the hole pixels (Pathak et al. report both, Table 2), and SSIM of the
whole completed crop. The fast profile loads ``course_lib/weights/ce_l2.pt`` and ``ce_adv.pt``;
``python -m course_lib train inpainting`` trains both again.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.restoration import apply_mask, augmented_batches, center_mask, colour_patches, held_out_patches
from ..device import get_device
from ..losses import GANLoss, masked_l2_loss
from ..metrics import masked_mse, psnr
from ..models.classical import inpaint_biharmonic
from ..models.context_encoder import ContextEncoder, HoleDiscriminator
from . import common
from .common import fast_full

STEMS = {"L2": "ce_l2", "L2+adv": "ce_adv"}
"""Member -> weight-file stem of its Context Encoder (the discriminator is not stored)."""

MEMBERS = tuple(STEMS)

METHODS = ("mid-grey fill", "biharmonic", "CE (L2)", "CE (L2+adv)")
"""The table's rows; the member ``m`` is the row ``CE (m)``."""

TABLE_COLUMNS = ("method", "hole_psnr", "hole_l1", "ssim")


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Sizes of the inpainting experiment (``Config.make(profile, **overrides)``).

    Attributes:
        image_size, hole: crop side and side of the central hole (pixels).
        base: channels of the first encoder level.
        n_patches: training crops (colour training photos); at most ``steps * batch_size`` are cut (at least 64).
        steps, batch_size, lr: Adam (beta1 = 0.5, as in DCGAN and the paper) steps, crops per step,
            learning rate of both nets (cosine decay).
        lambda_adv: weight of the adversarial loss; the reconstruction loss gets ``1 - lambda_adv``.
        n_eval_per_photo: held-out crops per held-out photo.
    """

    image_size: int = fast_full(64, 128)
    hole: int = fast_full(32, 64)
    base: int = fast_full(32, 64)
    n_patches: int = fast_full(4000, 100_000)
    steps: int = fast_full(300, 50_000)
    batch_size: int = fast_full(16, 64)
    lr: float = fast_full(5e-4, 2e-4)
    lambda_adv: float = 0.001
    n_eval_per_photo: int = fast_full(8, 32)


def build(cfg: Config, member: str, seed: int = 0) -> common.Run:
    """A fresh Context Encoder ``G`` (seeded with ``seed``, the same weights for both members) and, for
    ``"L2+adv"``, a hole discriminator ``D`` (seeded with ``seed + 1``); Adam (0.5, 0.999) with a cosine decay
    for each; lazy batches of augmented colour crops ``N x 3 x S x S`` in [0, 1].

    Returns:
        A :class:`~course_lib.experiments.common.Run` with ``run.G`` (stored as ``ce_l2`` / ``ce_adv``),
        ``run.opt_G``, ``run.sched_G``, the batch's hole ``run.mask`` (``N x 1 x S x S``, 1 = hidden), the
        hole's rows and columns ``run.hole`` (a slice), ``run.lambda_adv``, ``run.device``; with the
        adversarial term also ``run.D``, ``run.opt_D``, ``run.sched_D`` and the GAN loss ``run.gan``.

    Raises:
        ValueError: an unknown member.
    """
    if member not in STEMS:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    device = get_device()
    torch.manual_seed(seed)
    G = ContextEncoder(cfg.image_size, 3, cfg.base).to(device)
    opt_G, sched_G = common.adam(G.parameters(), cfg.lr, (0.5, 0.999), schedule="cosine", steps=cfg.steps)
    a = (cfg.image_size - cfg.hole) // 2
    models = {"G": G}
    state = {"opt_G": opt_G, "sched_G": sched_G, "mask": center_mask(cfg.image_size, cfg.hole, cfg.batch_size).to(device),
             "hole": slice(a, a + cfg.hole), "lambda_adv": cfg.lambda_adv, "device": device}
    if member == "L2+adv":
        torch.manual_seed(seed + 1)
        models["D"] = D = HoleDiscriminator(cfg.hole, 3, cfg.base).to(device)
        state["opt_D"], state["sched_D"] = common.adam(D.parameters(), cfg.lr, (0.5, 0.999), schedule="cosine",
                                                       steps=cfg.steps)
        state["gan"] = GANLoss("vanilla").to(device)

    def batches():
        crops = colour_patches(min(cfg.n_patches, max(64, cfg.steps * cfg.batch_size)), cfg.image_size, seed=seed)
        return (x for (x,) in augmented_batches(crops, batch_size=cfg.batch_size, seed=seed))

    return common.Run(models=models, stored={"G": STEMS[member]}, steps=cfg.steps, batches=batches, state=state)


def train_step(run: common.Run, x: torch.Tensor) -> dict[str, float]:
    """One step of the Context Encoder (Pathak et al. 2016, Sec. 3.2).

    With a discriminator (member ``"L2+adv"``): first ``D`` learns real centres -> 1, painted centres -> 0
    (Eq. 2, the loss halved); then ``G`` minimises ``(1 - lambda_adv) L_rec + lambda_adv L_adv`` (Eq. 4) with
    the non-saturating ``L_adv = -log D(painted centre)``. Without one, ``G`` minimises ``L_rec`` (Eq. 1), the
    masked L2 over the hidden values.

    Args:
        x: clean crops ``N x 3 x S x S`` in [0, 1].

    Returns:
        ``{"rec": masked L2}``, plus ``"loss_D"`` and ``"adv"`` with a discriminator.
    """
    x = x.to(run.device)
    mask = run.mask[:len(x)]  # the same hole for every image; a smaller batch (a data-parallel slice) takes fewer
    painted = run.G(apply_mask(x, mask))              # the whole image is painted; the hole is what counts
    real, fake = x[..., run.hole, run.hole], painted[..., run.hole, run.hole]
    adversarial = "D" in run.models
    logs = {}
    if adversarial:
        loss_D = 0.5 * (run.gan(run.D(real), True) + run.gan(run.D(fake.detach()), False))
        run.opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        run.opt_D.step()
        run.sched_D.step()
        logs["loss_D"] = loss_D.item()
    rec = masked_l2_loss(painted, x, mask)
    loss = rec
    if adversarial:
        adv = run.gan(run.D(fake), True)
        loss = (1 - run.lambda_adv) * rec + run.lambda_adv * adv
        logs["adv"] = adv.item()
    run.opt_G.zero_grad(set_to_none=True)
    loss.backward()
    run.opt_G.step()
    run.sched_G.step()
    logs["rec"] = rec.item()
    return logs


@torch.no_grad()
def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Fill the hole of every held-out crop (:func:`course_lib.data.restoration.held_out_patches`) with each
    method and score it.

    Returns:
        ``(table, extras)``: one row per method (:data:`TABLE_COLUMNS` and ``hole_mse``; PSNR in dB with data
        range 1 and L1 mean absolute error in [0, 1] over the hole's pixels and channels, SSIM of the whole
        completed crop); ``extras["outputs"]`` holds ``"clean"``, ``"masked"`` and one ``N x 3 x S x S``
        tensor per method, ``extras["train"][member]`` what each weight file records.
    """
    from skimage.metrics import structural_similarity

    clean = held_out_patches(cfg.image_size, cfg.n_eval_per_photo, seed)
    mask = center_mask(cfg.image_size, cfg.hole, len(clean))
    masked = apply_mask(clean, mask)
    outputs = {"clean": clean, "masked": masked, "mid-grey fill": masked, "biharmonic": inpaint_biharmonic(masked, mask)}
    for member, run in runs.items():
        run.G.eval()
        outputs[f"CE ({member})"] = run.G.complete(masked.to(run.device), mask.to(run.device)).cpu()
    table = []
    for name in [m for m in METHODS if m in outputs]:
        out = outputs[name]
        psnrs = [psnr(o, c, data_range=1.0, mask=m) for o, c, m in zip(out, clean, mask)]
        l1 = float(((out - clean).abs() * mask).sum() / (mask.sum() * 3))
        ssim = np.mean([structural_similarity(c.numpy().transpose(1, 2, 0), o.numpy().transpose(1, 2, 0),
                                              channel_axis=-1, data_range=1.0) for o, c in zip(out, clean)])
        table.append({"method": name, "hole_psnr": float(np.mean(psnrs)), "hole_l1": l1, "ssim": float(ssim),
                      "hole_mse": masked_mse(out, clean, mask.expand_as(out))})
    train = {m: {k: v for k, v in r.meta.items() if k not in ("rec", "config", "history")} for m, r in runs.items()}
    return table, {"outputs": outputs, "train": train}
