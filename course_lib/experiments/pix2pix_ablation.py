"""Notebook 06: pix2pix's objective ablation in miniature -- the five rows of Isola et al. 2017, Table 1.

Isola et al. compare L1, GAN, cGAN, L1 + GAN and L1 + cGAN (lambda = 100) on Cityscapes labels -> photo with the
FCN-score (Sec. 4.3, Table 1). Here (fast profile) the task is edges -> motorbikes
(:func:`course_lib.data.caltech.edges2motorbikes`: 698 training and 100 held-out Caltech-101 motorbikes on white,
Canny edges, 64 x 64): the U-Net generator ``unet_64`` (ngf 16, dropout) and a 16 x 16 PatchGAN (``n_layers=1``,
0.25 of the image side, the paper's 70/256 ratio), conditional (it sees the edges beside the photo) or, for the GAN
rows, unconditional (the photo alone); Adam 2e-4, beta1 0.5, batch 16, 8,000 steps with the learning rate decayed
linearly to 0 over the second half. Every objective starts from the same generator and sees the same batches at a
seed, so the rows pair up by seed.

The scores (:func:`course_lib.translation.evaluate_motorbikes`) ask the two questions the FCN-score asks of a
labels -> photo model, with a judge trained on real photos only (:mod:`course_lib.experiments.photo_judge`):
is the output a realistic motorbike (the judge's Fréchet distance to real motorbikes, the share it reads as
Motorbikes, a real-vs-fake two-sample test), and does it follow its input (the F1 of its Canny edges against the
input edges)? Plus sharpness relative to the true photos and pixel L1 / PSNR, the scores L1 optimises. The full
profile uses the paper's settings on facades (256 x 256, batch 1, 200 epochs; pixel scores only).

Members: the five objectives. Stored generators (fast profile): seeds 0, 1 and 2 of each,
``course_lib/weights/pix2pix_motorbikes_<objective without +>.pt`` (seed 0) and ``..._seed1.pt``,
``..._seed2.pt``, each with its command, wall-clock time and held-out curve (:data:`CURVE_SCORES` every 1,000
steps). ``python -m course_lib reproduce pix2pix_ablation --seed 0 1 2`` scores them with mean and sd over the
seeds; :func:`findings_over_seeds` says which of the paper's findings hold at every seed.

Notebooks 07 (:mod:`~course_lib.experiments.patchgan_sizes`) and 08 (:mod:`~course_lib.experiments.cyclegan`) use
this config and load the L1 + cGAN generators: the 16 x 16 row of the PatchGAN ablation and CycleGAN's paired upper
bound.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..device import get_device, seed_everything
from ..losses import GANLoss, pix2pix_generator_loss
from ..translation import (TranslationConfig, build_discriminator, build_generator, evaluate_pairs, load_pairs,
                           real_shoes_scores, translate)
from . import common
from .common import fast_full

OBJECTIVES = {"L1": (False, True, True), "GAN": (True, False, False), "cGAN": (True, False, True),
              "L1+GAN": (True, True, False), "L1+cGAN": (True, True, True)}
"""The five rows of pix2pix's Table 1: name -> (use_gan, use_l1, conditional). ``conditional``: the
discriminator sees the input edges beside the photo (Eq. 1) or the photo alone (Eq. 2); it does not matter
for ``L1``, which trains no discriminator."""
MEMBERS = tuple(OBJECTIVES)
STORED_SEEDS = (0, 1, 2)
"""The seeds whose generators the fast profile ships (all five objectives at each; notebooks 06-08 load them)."""
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)


@dataclass(frozen=True)
class Config(TranslationConfig):
    """pix2pix's sizes (:class:`course_lib.translation.TranslationConfig`; pix2pix uses ``dataset``, ``size``,
    ``generator``, ``discriminator``, ``ngf``, ``ndf``, ``n_train``, ``n_test``, ``steps``, ``batch_size``, ``lr``,
    ``beta1`` and ``lambda_l1``).

    Fast profile: edges -> motorbikes (:func:`course_lib.data.caltech.edges2motorbikes`, 698 training and 100
    held-out pairs) at 64 x 64; ``unet_64`` with ngf 16 (1.8 M parameters) and the ``16x16`` PatchGAN
    (``n_layers=1``): 16/64 = 0.25 of the image side, the ratio of the paper's 70 x 70 at 256 x 256 (0.27);
    batch 16; 8,000 steps (183 epochs), the learning rate constant for the first half and then decayed linearly
    to 0, as the authors' code trains (100 + 100 epochs). Full profile: the paper's facades settings
    (:class:`TranslationConfig`) at a constant learning rate, so that data-parallel runs with one image per
    process (``COURSE_DDP_BATCH=per-process``, which refuses schedules) can train it.
    """

    dataset: str = fast_full("motorbikes", "facades")
    size: int = fast_full(64, 256)
    generator: str = fast_full("unet_64", "unet_256")
    discriminator: str = fast_full("16x16", "basic")
    ngf: int = fast_full(16, 64)
    ndf: int = fast_full(16, 64)
    n_train: int = fast_full(698, 400)
    n_test: int = fast_full(100, 106)
    steps: int = fast_full(8000, 200 * 400)
    batch_size: int = fast_full(16, 1)
    lr_schedule: str | None = fast_full("linear_decay", None)


def build(cfg: TranslationConfig, member: str, seed: int = 0) -> common.Run:
    """A fresh pix2pix run of the objective ``member`` (a key of :data:`OBJECTIVES`).

    Models: ``G`` (:func:`~course_lib.translation.build_generator`, stored as
    ``pix2pix_<dataset>_<member without +>``, e.g. ``pix2pix_motorbikes_L1cGAN``) and the ``cfg.discriminator``
    ``D``, on input + output channels (conditional) or, for the GAN rows, on the output channels alone (built for
    every objective, so that every objective starts from the same generator). ``D`` is built after reseeding with
    ``seed``: G and D each start from the seed, as the stored generators were trained. State: ``opt_G``, ``opt_D``
    (Adam ``cfg.lr``, betas ``(cfg.beta1, 0.999)``), with ``cfg.lr_schedule`` the schedules ``sched_G``,
    ``sched_D`` over ``cfg.steps``; ``criterion`` (the vanilla GAN loss), ``use_gan``, ``use_l1``,
    ``conditional``, ``lambda_l1``. Batches: ``(x, y)`` pairs of ``cfg.batch_size``, in an order fixed by ``seed``.

    Raises:
        ValueError: an unknown objective.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    if member not in OBJECTIVES:
        raise ValueError(f"unknown pix2pix objective {member!r}; known: {list(OBJECTIVES)}")
    channels = {"shoes": (1, 1), "facades": (3, 3), "motorbikes": (3, 3)}[cfg.dataset]
    device = get_device()
    G = build_generator(cfg, *channels).to(device)
    use_gan, use_l1, conditional = OBJECTIVES[member]
    seed_everything(seed)
    D = build_discriminator(cfg, sum(channels) if conditional else channels[1]).to(device)

    def batches():
        x, y, _ = load_pairs(cfg)
        return common.random_batches(x, y, batch_size=cfg.batch_size, seed=seed)

    opt_G, sched_G = common.adam(G.parameters(), cfg.lr, (cfg.beta1, 0.999), schedule=cfg.lr_schedule, steps=cfg.steps)
    opt_D, sched_D = common.adam(D.parameters(), cfg.lr, (cfg.beta1, 0.999), schedule=cfg.lr_schedule, steps=cfg.steps)
    schedules = {"sched_G": sched_G, "sched_D": sched_D} if cfg.lr_schedule else {}
    return common.Run(models={"G": G, "D": D},
                      stored={"G": f"pix2pix_{cfg.dataset}_{member.replace('+', '')}"},
                      steps=cfg.steps, batches=batches,
                      state={"opt_G": opt_G, "opt_D": opt_D, "criterion": GANLoss("vanilla").to(device),
                             "use_gan": use_gan, "use_l1": use_l1, "conditional": conditional,
                             "lambda_l1": cfg.lambda_l1, **schedules})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One pix2pix iteration on a batch ``(x, y)`` in [-1, 1]; returns the losses as floats.

    D (when the objective has a GAN term) learns to tell the real pair ``cat[x, y]`` from the fake pair
    ``cat[x, G(x)]``, both conditioned on the input (or, unconditional, ``y`` from ``G(x)`` alone), its loss
    halved (Isola et al. 2017, Sec. 3.3); then G minimises ``L_cGAN + lambda * L1`` (Eq. 4;
    :func:`~course_lib.losses.pix2pix_generator_loss`).
    """
    device = next(run.G.parameters()).device
    x, y = (t.to(device) for t in batch)
    fake = run.G(x)
    logs = {}
    conditional = run.state.get("conditional", True)  # a Run built by hand (a06's tests) is conditional
    if run.use_gan:
        d_real = run.D(torch.cat([x, y], 1) if conditional else y)
        d_fake = run.D(torch.cat([x, fake.detach()], 1) if conditional else fake.detach())
        loss_D = 0.5 * (run.criterion(d_real, True) + run.criterion(d_fake, False))
        run.opt_D.zero_grad(set_to_none=True)
        run.precision.backward_step(loss_D, run.opt_D)  # loss_D.backward(); run.opt_D.step()
        logs["D"] = loss_D.item()
    # the unconditional rows say so by keyword: a06 swaps in the student's loss, which has no such argument
    unconditional = {} if conditional else {"conditional": False}
    loss_G, parts = pix2pix_generator_loss(run.D, x, fake, y, run.criterion, run.lambda_l1, run.use_gan, run.use_l1,
                                           **unconditional)
    run.opt_G.zero_grad(set_to_none=True)
    run.precision.backward_step(loss_G, run.opt_G)  # loss_G.backward(); run.opt_G.step()
    logs.update(parts)
    for name in ("sched_G", "sched_D") if run.use_gan else ("sched_G",):
        if name in run.state:
            run.state[name].step()
    return logs


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each objective's generator on the held-out pairs.

    Returns:
        ``(rows, {"samples": ...})``. Edges -> motorbikes: one row per objective (``objective``, the photo judge's
        ``judge_motorbike``, ``frechet`` and ``two_sample``, ``sharpness_ratio``, ``duplicates``, ``edge_precision``,
        ``edge_recall``, ``edge_f1``, ``l1``, ``psnr``,
        ``train_seconds``; :func:`course_lib.translation.evaluate_motorbikes`) and a ``real photos`` row (the
        held-out photos themselves: the floor of the Fréchet distance and the two-sample test). Shoes: ``objective,
        type_accuracy, frd, l1, psnr, train_seconds`` and a ``real shoes`` row. ``samples``: inputs, targets and
        each objective's outputs for the first 8 test pairs (``8 x C x H x W`` in [-1, 1]).
    """
    from ..metrics import pixel_scores
    from ..translation import (edge_agreement, evaluate_motorbikes, judge_motorbikes, motorbike_reference,
                               near_duplicate_share)

    test = load_pairs(cfg)[2]
    inputs, targets = (test.edges, test.shoes) if cfg.dataset == "shoes" else test
    reference = motorbike_reference(size=cfg.size) if cfg.dataset == "motorbikes" else None
    rows, samples = [], {}
    for member, run in runs.items():
        scores = (evaluate_motorbikes(run.G, test, reference, seed) if reference is not None
                  else evaluate_pairs(run.G, test))
        rows.append({"objective": member, **scores, "train_seconds": run.meta.get("train_seconds", float("nan"))})
        samples[member] = translate(run.G, inputs[:8])
    if cfg.dataset == "shoes":
        rows.append({"objective": "real shoes", **real_shoes_scores(test), "train_seconds": 0.0})
    if reference is not None:
        real = judge_motorbikes(targets, reference, seed)
        rows.append({"objective": "real photos", **real, "sharpness_ratio": 1.0, "duplicates": near_duplicate_share(targets),
                     **edge_agreement(targets, inputs), "l1": 0.0, "psnr": float("inf"), "train_seconds": 0.0})
        # what an output that ignores its input scores: real photos, each given another test image's edges
        other = torch.roll(targets, len(targets) // 2, 0)
        rows.append({"objective": "real photos, other edges", **real, "sharpness_ratio": 1.0,
                     "duplicates": near_duplicate_share(targets),
                     **edge_agreement(other, inputs), **pixel_scores(other, targets), "train_seconds": 0.0})
    samples["input"], samples["target"] = inputs[:8], targets[:8]
    return rows, {"samples": samples}


FINDINGS_STATED = {"l1cgan_best_frechet": True, "l1_best_l1": True, "l1_best_psnr": True, "cgan_sharper_than_l1": True,
                   "cgan_follows_edges_better_than_gan": True, "l1cgan_follows_edges_better_than_l1gan": False,
                   "l1cgan_beats_l1_on_frechet": True, "gan_collapses": True}
"""What notebook 06's text says of :func:`findings` at every seed of the stored generators (True: at all three;
False: not at every seed -- L1 + cGAN follows the edges better than L1 + GAN at two of the three);
``tests/test_pix2pix_findings.py`` checks it, so a retrain that changes one fails until the text is revisited."""

CURVE_SCORES = ("frechet", "judge_motorbike", "edge_f1", "l1")
"""The held-out scores recorded with each stored edges -> motorbikes generator, every 1,000 steps."""


def score_checkpoints(paths, cfg: TranslationConfig, seed: int = 0, *, role: str = "G",
                      build=None) -> dict[str, list]:
    """The score-vs-steps curve of a run from its training checkpoints (files of
    :func:`course_lib.experiments.common.save_checkpoint`, copied while it trained): each checkpoint's generator
    (the network ``role``, built by ``build()``; default: pix2pix's ``G``, :func:`~course_lib.translation.build_generator`)
    scored on the held-out pairs (:func:`course_lib.translation.evaluate_motorbikes`).

    Returns:
        ``{"step": [...], <each of CURVE_SCORES>: [...], "pairs"}``, sorted by step.

    Raises:
        ValueError: a config of another dataset (the curve is the edges -> motorbikes one).
    """
    from ..translation import evaluate_motorbikes, motorbike_reference

    if cfg.dataset != "motorbikes":
        raise ValueError(f"the held-out curve is recorded for edges -> motorbikes, not {cfg.dataset!r}")
    test = load_pairs(cfg)[2]
    reference = motorbike_reference(size=cfg.size)
    points = []
    for p in paths:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)  # our own checkpoint files
        G = build() if build is not None else build_generator(cfg, 3, 3)
        G.load_state_dict(ckpt["models"][role])
        scores = evaluate_motorbikes(G, test, reference, seed)
        points.append((int(ckpt["step"]), {k: round(scores[k], 4) for k in CURVE_SCORES}))
    points.sort(key=lambda sp: sp[0])
    return {"step": [s for s, _ in points], **{k: [v[k] for _, v in points] for k in CURVE_SCORES},
            "pairs": f"edges2motorbikes test split, {len(test[0])} pairs {cfg.size} x {cfg.size}"}


def findings(rows) -> dict:
    """The lessons notebook 06 states, computed from one seed's table (``rows`` of :func:`evaluate` on edges ->
    motorbikes), with issue 13's goals:

    * ``frechet_best``: the objective whose outputs are closest to real motorbikes in the photo judge's feature
      space (lowest Fréchet distance); ``l1cgan_best_frechet``: that is L1 + cGAN (the paper's Table 1: L1 + cGAN
      best on the FCN-score);
    * ``l1_best_l1`` / ``l1_best_psnr``: L1 alone has the lowest L1 error / the highest PSNR (it optimises them);
    * ``cgan_sharper_than_l1``: cGAN's outputs are sharper than L1's (mean luma gradient, relative to the truth);
    * ``cgan_follows_edges_better_than_gan`` / ``l1cgan_follows_edges_better_than_l1gan``: conditioning the
      discriminator on the input makes the output follow the input's edges (higher edge F1; the paper's
      unconditional GAN ignores its input, Sec. 4.3);
    * ``l1cgan_beats_l1_on_frechet``: adding the cGAN term to L1 moves the outputs towards real photos;
    * ``gan_collapses``: more than half of the unconditional GAN's outputs have a near-copy among them (mode
      collapse: one or two pictures whatever the input, as the paper reports, Sec. 4.3; the true photos: 0.06).
    Also the numbers behind them (``frechet_<objective>``, ``edge_f1_<objective>``, ...).
    """
    r = {row["objective"]: row for row in rows if row["objective"] in OBJECTIVES}
    missing = [m for m in OBJECTIVES if m not in r]
    if missing:
        raise ValueError(f"the findings need all five objectives' rows; missing {missing}")
    out = {f"{col}_{m}": r[m][col] for m in OBJECTIVES
           for col in ("frechet", "judge_motorbike", "edge_f1", "sharpness_ratio", "duplicates", "l1", "psnr")}
    out["frechet_best"] = min(OBJECTIVES, key=lambda m: r[m]["frechet"])
    out["l1cgan_best_frechet"] = out["frechet_best"] == "L1+cGAN"
    out["l1_best_l1"] = min(OBJECTIVES, key=lambda m: r[m]["l1"]) == "L1"
    out["l1_best_psnr"] = max(OBJECTIVES, key=lambda m: r[m]["psnr"]) == "L1"
    out["cgan_sharper_than_l1"] = r["cGAN"]["sharpness_ratio"] > r["L1"]["sharpness_ratio"]
    out["cgan_follows_edges_better_than_gan"] = r["cGAN"]["edge_f1"] > r["GAN"]["edge_f1"]
    out["l1cgan_follows_edges_better_than_l1gan"] = r["L1+cGAN"]["edge_f1"] > r["L1+GAN"]["edge_f1"]
    out["l1cgan_beats_l1_on_frechet"] = r["L1+cGAN"]["frechet"] < r["L1"]["frechet"]
    out["gan_collapses"] = r["GAN"]["duplicates"] > 0.5
    return out


def findings_over_seeds(tables, findings=findings) -> dict:
    """``findings`` (default: this module's :func:`findings`) of each seed's table (a list, one table per seed,
    paired by seed: the same initial generator and batch order for every objective) and, for each yes/no finding,
    whether it holds at every seed (``"every_seed"``) and at how many (``"seeds_holding"``)."""
    each = [findings(t) for t in tables]
    flags = [k for k, v in each[0].items() if isinstance(v, bool)]
    return {"per_seed": each, "every_seed": {k: all(f[k] for f in each) for k in flags},
            "seeds_holding": {k: sum(f[k] for f in each) for k in flags}}
