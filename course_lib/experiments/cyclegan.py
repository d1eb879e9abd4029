"""Notebook 08: CycleGAN on unpaired edges <-> motorbikes, its loss ablation (Zhu et al. 2017, Table 4), scored
against pix2pix on the paired held-out set.

Zhu, Park, Isola & Efros (ICCV 2017) learn ``G: A -> B`` and ``F: B -> A`` from unpaired sets with two
discriminators, the LSGAN loss, a cycle-consistency loss (lambda = 10), an image pool of 50 and a learning rate
decayed linearly to 0 over the second half of training; the authors' code adds by default the identity loss
(0.5 lambda, Sec. 5.2). On paired data they report pix2pix as the upper bound (Sec. 5.1), and their Table 4
switches the loss terms off one at a time (FCN-scores on Cityscapes labels -> photo, :data:`PAPER_TABLE4`).

Fast profile (:class:`Config`): domain A = the Canny edge maps of one half of the 698 training motorbikes, domain
B = the photos of the *other* half (:func:`course_lib.data.caltech.edges2motorbikes_unpaired`, 349 + 349, 64 x 64),
so no pair is ever seen; every member is scored on the 100 paired held-out motorbikes with notebook 06's scores
(:func:`course_lib.translation.evaluate_motorbikes`), beside notebook 06's pix2pix (L1 + cGAN), which trained on
all 698 *pairs* with the same generator. Generators: ``unet_64`` (ngf 16, BatchNorm, no dropout: pix2pix's, so
pix2pix is a fair upper bound); discriminators: the 16 x 16 PatchGAN (ndf 16) on the photo or edge map alone;
batches of 16 + 16; 8,000 steps (about 370 epochs of each half), constant then linearly to 0.

Members (:data:`ABLATION`; each differs from ``"CycleGAN"`` by the terms it switches off):

* ``"CycleGAN"``: both adversarial terms, both cycles, identity 0.5 (the authors' default);
* ``"no_identity"``: without the identity term (the paper's own Table 4 row "CycleGAN");
* ``"forward_cycle"``: only the forward cycle ``F(G(a)) ~ a`` (Table 4 "GAN + forward cycle"), identity on;
* ``"GAN_alone"``: no cycle and no identity term (Table 4 "GAN alone").

Stored generators (fast profile, seeds 0, 1, 2 (:data:`STORED_SEEDS`), ``G_AB`` and ``G_BA`` of each; the
discriminators are not stored): ``course_lib/weights/cyclegan_motorbikes_G_AB.pt`` / ``..._G_BA.pt`` for CycleGAN
and ``cyclegan_motorbikes_<member>_G_AB.pt`` / ``..._G_BA.pt`` for the others at seed 0, the same names with
``_seed1`` / ``_seed2`` at the other seeds, each with its command, wall-clock time and held-out curve (:data:`course_lib.experiments.pix2pix_ablation.CURVE_SCORES` of ``G_AB`` every 1,000 steps).
The full profile is refused: the official unpaired sets (horse2zebra, 256 px) have no paired held-out set to
score on (train on them with notebook 08's step).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from ..device import get_device, seed_everything
from ..losses import GANLoss, cycle_consistency_loss, identity_loss
from ..models.pix2pix import ImagePool, define_G
from ..translation import TranslationConfig, build_discriminator, load_pairs, translate
from . import common
from . import pix2pix_ablation as A
from .common import fast_full

ABLATION = {"CycleGAN": (True, True, True), "no_identity": (True, True, False), "forward_cycle": (True, False, True),
            "GAN_alone": (False, False, False)}
"""Member -> ``(cycle_A, cycle_B, identity)``: the forward cycle ``F(G(a)) ~ a``, the backward cycle
``G(F(b)) ~ b`` and the identity term (weight ``cfg.lambda_identity``) switched on or off; the adversarial terms
are always on."""
MEMBERS = tuple(ABLATION)
STORED_SEEDS = (0, 1, 2)
"""The seeds whose generators the fast profile ships (all four members at each; notebook 08 loads them all)."""
PAPER_TABLE4 = {"GAN_alone": ("GAN alone", 0.51, 0.11, 0.08), "forward_cycle": ("GAN + forward cycle", 0.55, 0.18, 0.12),
                "no_identity": ("CycleGAN", 0.52, 0.17, 0.11)}
"""Zhu et al. 2017, Table 4 (Cityscapes labels -> photo): the paper's row matching a member and its FCN-scores
(per-pixel acc., per-class acc., class IOU). The paper's rows have no identity term; it also lists "Cycle alone"
(0.22 / 0.07 / 0.02) and "GAN + backward cycle" (0.39 / 0.14 / 0.06), not trained here."""


@dataclass(frozen=True)
class Config(A.Config):
    """Notebook 06's sizes (:class:`course_lib.experiments.pix2pix_ablation.Config`: edges -> motorbikes at 64 x 64,
    the ``16x16`` PatchGAN, ndf 16, batch 16) with CycleGAN's: ``cycle_generator`` ``unet_64`` (ngf 16; the paper's
    ``resnet_9blocks`` costs about 5x more on a CPU), ``cycle_norm`` ``batch`` (the U-Net's innermost maps are
    1 x 1, where instance statistics are undefined), ``cycle_steps`` 8,000, ``lambda_cycle`` 10,
    ``lambda_identity`` 0.5, ``pool_size`` 50. The full profile keeps the paper's settings and is refused
    (:func:`build`)."""

    cycle_generator: str = fast_full("unet_64", "resnet_9blocks")
    cycle_norm: str = fast_full("batch", "instance")
    cycle_steps: int = fast_full(8000, 200 * 400)


def _refuse_unscored(cfg: TranslationConfig) -> None:
    if cfg.dataset != "motorbikes":
        raise NotImplementedError(f"CycleGAN is scored on the paired edges -> motorbikes held-out set, not "
                                  f"{cfg.dataset!r}: the official unpaired sets (horse2zebra, 256 px) have no paired "
                                  "held-out set; train on such a set with notebook 08's step")


def stems(member: str) -> dict[str, str]:
    """The weight-file stems of a member's two generators: ``{"G_AB": "cyclegan_motorbikes_G_AB", ...}`` for
    ``"CycleGAN"``, ``cyclegan_motorbikes_<member>_G_AB`` / ``_G_BA`` for the others."""
    infix = "" if member == "CycleGAN" else f"{member}_"
    return {role: f"cyclegan_motorbikes_{infix}{role}" for role in ("G_AB", "G_BA")}


def build(cfg: TranslationConfig, member: str = "CycleGAN", seed: int = 0) -> common.Run:
    """A fresh CycleGAN run of the ablation member ``member`` (:data:`ABLATION`).

    Models, built in this order after seeding with ``seed``: ``G_AB: A -> B`` and ``G_BA: B -> A``
    (``cfg.cycle_generator``, 3 -> 3 channels, no dropout; stored as :func:`stems`), then the unconditional
    discriminators ``D_A`` (real edge maps vs G_BA's) and ``D_B`` (real photos vs G_AB's), ``cfg.discriminator``.
    Every member starts from the same networks and sees the same batches at a seed (paired by seed).

    State: ``opt_G`` over both generators and ``opt_D`` over both discriminators (Adam ``cfg.lr``, betas
    ``(cfg.beta1, 0.999)``) with their linear-decay schedules ``sched_G``, ``sched_D`` over ``cfg.cycle_steps``
    (Zhu et al. 2017, Sec. 7.1); ``criterion`` (LSGAN); the image pools ``pool_A``, ``pool_B`` of
    ``cfg.pool_size`` (seeded ``seed`` and ``seed + 1``); ``lambda_cycle``; ``lambda_identity`` (0 for the
    members without the identity term); ``cycle_A``, ``cycle_B`` (the two cycle terms on or off). Batches:
    ``(a, b)``, ``cfg.batch_size`` unpaired images of each domain in [-1, 1], drawn independently (orders fixed by
    ``seed`` and ``seed + 1``) from :func:`~course_lib.data.caltech.edges2motorbikes_unpaired` (split by ``seed``).

    Raises:
        NotImplementedError: a dataset other than ``"motorbikes"`` (the full profile: no paired held-out set).
        ValueError: an unknown member.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    _refuse_unscored(cfg)
    if member not in ABLATION:
        raise ValueError(f"unknown CycleGAN member {member!r}; members: {MEMBERS}")
    cycle_a, cycle_b, identity = ABLATION[member]
    device = get_device()
    nets = {"G_AB": define_G(cfg.cycle_generator, 3, 3, cfg.ngf, cfg.cycle_norm),
            "G_BA": define_G(cfg.cycle_generator, 3, 3, cfg.ngf, cfg.cycle_norm),
            "D_A": build_discriminator(cfg, 3), "D_B": build_discriminator(cfg, 3)}
    nets = {role: net.to(device) for role, net in nets.items()}

    def batches():
        from ..data.caltech import edges2motorbikes_unpaired

        a, b = edges2motorbikes_unpaired(cfg.size, seed=seed)
        both = zip(common.random_batches(a, batch_size=cfg.batch_size, seed=seed),
                   common.random_batches(b, batch_size=cfg.batch_size, seed=seed + 1))
        return ((a, b) for (a,), (b,) in both)

    opt_G, sched_G = common.adam(itertools.chain(nets["G_AB"].parameters(), nets["G_BA"].parameters()), cfg.lr,
                                 (cfg.beta1, 0.999), schedule="linear_decay", steps=cfg.cycle_steps)
    opt_D, sched_D = common.adam(itertools.chain(nets["D_A"].parameters(), nets["D_B"].parameters()), cfg.lr,
                                 (cfg.beta1, 0.999), schedule="linear_decay", steps=cfg.cycle_steps)
    return common.Run(models=nets, stored=stems(member), steps=cfg.cycle_steps, batches=batches,
                      state={"opt_G": opt_G, "opt_D": opt_D, "sched_G": sched_G, "sched_D": sched_D,
                             "criterion": GANLoss("lsgan").to(device),
                             "pool_A": ImagePool(cfg.pool_size, seed), "pool_B": ImagePool(cfg.pool_size, seed + 1),
                             "lambda_cycle": cfg.lambda_cycle,
                             "lambda_identity": cfg.lambda_identity if identity else 0.0,
                             "cycle_A": cycle_a, "cycle_B": cycle_b})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One CycleGAN iteration on unpaired batches ``(a, b)`` (domain A, domain B; in [-1, 1]).

    Generators, the discriminators frozen: ``L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A) + lambda (cycle_A + cycle_B)
    + lambda * lambda_identity (idt_A + idt_B)`` (Zhu et al. 2017, Eq. 3 and Sec. 5.2), each cycle term only when
    the run has it on (``run.cycle_A``, ``run.cycle_B``; both on for a Run built without them). Then each
    discriminator, its loss halved, on real images vs fakes taken from the image pool; then both learning-rate
    schedules step. Returns ``{"G_gan", "cycle", "identity", "D"}`` as floats (the unweighted sums).
    """
    device = next(run.G_AB.parameters()).device
    a, b = (t.to(device) for t in batch)
    crit = run.criterion
    fake_b, fake_a = run.G_AB(a), run.G_BA(b)
    for D in (run.D_A, run.D_B):
        D.requires_grad_(False)
    gan = crit(run.D_B(fake_b), True, for_discriminator=False) + crit(run.D_A(fake_a), True, for_discriminator=False)
    cyc = a.new_zeros(())
    if run.state.get("cycle_A", True):
        cyc = cyc + cycle_consistency_loss(a, run.G_BA(fake_b))
    if run.state.get("cycle_B", True):
        cyc = cyc + cycle_consistency_loss(b, run.G_AB(fake_a))
    idt = identity_loss(b, run.G_AB(b)) + identity_loss(a, run.G_BA(a)) if run.lambda_identity > 0 else a.new_zeros(())
    loss_G = gan + run.lambda_cycle * cyc + run.lambda_cycle * run.lambda_identity * idt
    run.opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    run.opt_G.step()
    for D in (run.D_A, run.D_B):
        D.requires_grad_(True)
    pooled_b, pooled_a = run.pool_B.query(fake_b), run.pool_A.query(fake_a)
    loss_D = 0.5 * (crit(run.D_B(b), True) + crit(run.D_B(pooled_b), False)) + \
        0.5 * (crit(run.D_A(a), True) + crit(run.D_A(pooled_a), False))
    run.opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    run.opt_D.step()
    run.sched_G.step()
    run.sched_D.step()
    return {"G_gan": gan.item(), "cycle": float(cyc.detach()), "identity": float(idt.detach()), "D": loss_D.item()}


def score_checkpoints(paths, cfg: TranslationConfig, seed: int = 0) -> dict[str, list]:
    """The held-out curve of a CycleGAN run from its training checkpoints: each checkpoint's ``G_AB`` scored as
    :func:`course_lib.experiments.pix2pix_ablation.score_checkpoints` scores pix2pix's ``G``."""
    return A.score_checkpoints(paths, cfg, seed, role="G_AB",
                               build=lambda: define_G(cfg.cycle_generator, 3, 3, cfg.ngf, cfg.cycle_norm))


def cycle_error(run: common.Run, edges: torch.Tensor) -> float:
    """``mean |F(G(a)) - a|`` over edge maps ``edges`` (``N x 3 x S x S`` in [-1, 1], left unchanged): how well the
    run's ``G_BA`` recovers the input from ``G_AB``'s photo (0: exactly; the edge maps' values span 2)."""
    return float((translate(run.G_BA, translate(run.G_AB, edges)) - edges).abs().mean())


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each member's ``G_AB`` and the pix2pix upper bound (``pix2pix_ablation``'s L1 + cGAN generator at the
    same ``seed``, trained there first if its file is missing) on the paired held-out motorbikes.

    Returns:
        ``(rows, extras)``. Rows, the members in :data:`MEMBERS` order then ``"pix2pix (L1+cGAN)"``: ``model,
        supervision, cycle_A, cycle_B, identity`` (the terms on), the scores of
        :func:`course_lib.translation.evaluate_motorbikes` (``judge_motorbike, frechet, two_sample, sharpness,
        sharpness_ratio, duplicates, edge_precision, edge_recall, edge_f1, l1, psnr``), ``cycle_l1``
        (:func:`cycle_error` on the held-out edges; ``None`` for pix2pix), ``train_seconds`` and the paper's Table 4
        row and FCN-scores where there is one (``paper_row, paper_per_pixel_acc, paper_per_class_acc,
        paper_class_iou``; ``None`` otherwise). ``extras["samples"]``: ``input``, ``target``, each model's
        output and each member's reconstruction (``"<member> F(G(a))"``) for the first 8 held-out pairs
        (``8 x 3 x 64 x 64`` in [-1, 1]); ``extras["real photos"]``: the held-out photos' own scores (the floor of
        the Fréchet distance, the ceiling of the edge F1).

    Raises:
        NotImplementedError: a dataset other than ``"motorbikes"``.
    """
    from ..translation import edge_agreement, evaluate_motorbikes, judge_motorbikes, motorbike_reference

    _refuse_unscored(cfg)
    edges, photos = load_pairs(cfg)[2]
    reference = motorbike_reference(size=cfg.size)
    n_a = n_b = cfg.n_train // 2
    p2p = common.load(A, cfg, seed, members=["L1+cGAN"], progress=progress, retrain=False)["L1+cGAN"]
    rows, samples = [], {"input": edges[:8], "target": photos[:8]}
    for member in MEMBERS:
        run = runs[member]
        cycle_a, cycle_b, identity = ABLATION[member]
        paper = PAPER_TABLE4.get(member, (None, None, None, None))
        rows.append({"model": member, "supervision": f"unpaired ({n_a} edge maps, {n_b} other photos)",
                     "cycle_A": cycle_a, "cycle_B": cycle_b, "identity": identity,
                     **evaluate_motorbikes(run.G_AB, (edges, photos), reference, seed),
                     "cycle_l1": cycle_error(run, edges), "train_seconds": run.meta.get("train_seconds", float("nan")),
                     "paper_row": paper[0], "paper_per_pixel_acc": paper[1], "paper_per_class_acc": paper[2],
                     "paper_class_iou": paper[3]})
        samples[member] = translate(run.G_AB, edges[:8])
        samples[f"{member} F(G(a))"] = translate(run.G_BA, samples[member])
    rows.append({"model": "pix2pix (L1+cGAN)", "supervision": f"paired ({cfg.n_train} pairs)",
                 "cycle_A": None, "cycle_B": None, "identity": None,
                 **evaluate_motorbikes(p2p.G, (edges, photos), reference, seed), "cycle_l1": None,
                 "train_seconds": p2p.meta.get("train_seconds", float("nan")), "paper_row": None,
                 "paper_per_pixel_acc": None, "paper_per_class_acc": None, "paper_class_iou": None})
    samples["pix2pix (L1+cGAN)"] = translate(p2p.G, edges[:8])
    real = {**judge_motorbikes(photos, reference, seed), **edge_agreement(photos, edges),
            "sharpness_ratio": 1.0, "l1": 0.0, "psnr": float("inf")}
    return rows, {"samples": samples, "real photos": real}


FINDINGS_STATED = {"cycle_follows_edges_better_than_gan_alone": False, "cycle_closer_than_gan_alone": True,
                   "gan_alone_worst_cycle": True, "identity_hurts_frechet": True, "identity_hurts_edges": True,
                   "backward_cycle_helps_edges": True, "pix2pix_best_frechet": True, "pix2pix_best_edge_f1": True,
                   "pix2pix_best_l1": True}
"""What notebook 08's text says of :func:`findings` at every shipped seed (:data:`STORED_SEEDS`; True: holds at all;
False: not at every one); ``tests/test_cyclegan_findings.py`` checks it on the stored generators, so a retrain that
changes one fails until the text is revisited."""


def findings(rows) -> dict:
    """The lessons notebook 08 states, computed from one seed's table (``rows`` of :func:`evaluate`), with issue 13's
    goals (CycleGAN clearly better than GAN alone on the judge, and well short of pix2pix). Each comparison is between
    two members that differ in one switch:

    * ``cycle_follows_edges_better_than_gan_alone``: ``no_identity`` (the paper's Table 4 "CycleGAN": both cycles, no
      identity) follows its input's edges better than ``GAN_alone`` (higher edge F1): the cycle ties the output to
      the input, which the adversarial loss alone does not;
    * ``cycle_closer_than_gan_alone``: ``no_identity``'s outputs are closer to real motorbikes in the judge's feature
      space than ``GAN_alone``'s (lower Fréchet distance);
    * ``gan_alone_worst_cycle``: ``GAN_alone`` reconstructs its input worst (highest ``cycle_l1``: nothing asked it to);
    * ``identity_hurts_frechet`` / ``identity_hurts_edges``: with the identity term (``CycleGAN``) the outputs are
      farther from real photos / follow the edges worse than without it (``no_identity``);
    * ``backward_cycle_helps_edges``: with both cycles (``CycleGAN``) the outputs follow the edges better than with
      the forward cycle alone (``forward_cycle``; both with the identity term);
    * ``pix2pix_best_frechet`` / ``pix2pix_best_edge_f1`` / ``pix2pix_best_l1``: the paired upper bound beats every
      unpaired member on the Fréchet distance / the edge F1 / the pixel L1 against the true photo;
    * ``frechet_best_unpaired`` / ``edge_f1_best_unpaired``: the member best on each.
    Also the numbers behind them (``frechet_<model>``, ``edge_f1_<model>``, ``cycle_l1_<model>``, ...; ``<model>``
    a member or ``pix2pix``).

    Raises:
        ValueError: rows without the four members and pix2pix.
    """
    r = {row["model"]: row for row in rows}
    if not set(MEMBERS) | {"pix2pix (L1+cGAN)"} <= set(r) or "frechet" not in rows[0]:
        raise ValueError(f"the findings need the rows of the four members and pix2pix on edges -> motorbikes; "
                         f"got {sorted(r)}")
    p2p = r["pix2pix (L1+cGAN)"]
    out = {f"{col}_{m}": r[m][col] for m in MEMBERS
           for col in ("frechet", "judge_motorbike", "two_sample", "edge_f1", "sharpness_ratio", "duplicates",
                       "l1", "psnr", "cycle_l1")}
    out |= {f"{col}_pix2pix": p2p[col] for col in ("frechet", "judge_motorbike", "two_sample", "edge_f1", "l1", "psnr")}
    full, paper, alone, forward = r["CycleGAN"], r["no_identity"], r["GAN_alone"], r["forward_cycle"]
    out["cycle_follows_edges_better_than_gan_alone"] = paper["edge_f1"] > alone["edge_f1"]
    out["cycle_closer_than_gan_alone"] = paper["frechet"] < alone["frechet"]
    out["gan_alone_worst_cycle"] = max(MEMBERS, key=lambda m: r[m]["cycle_l1"]) == "GAN_alone"
    out["identity_hurts_frechet"] = full["frechet"] > paper["frechet"]
    out["identity_hurts_edges"] = full["edge_f1"] < paper["edge_f1"]
    out["backward_cycle_helps_edges"] = full["edge_f1"] > forward["edge_f1"]
    out["pix2pix_best_frechet"] = all(p2p["frechet"] < r[m]["frechet"] for m in MEMBERS)
    out["pix2pix_best_edge_f1"] = all(p2p["edge_f1"] > r[m]["edge_f1"] for m in MEMBERS)
    out["pix2pix_best_l1"] = all(p2p["l1"] < r[m]["l1"] for m in MEMBERS)
    out["frechet_best_unpaired"] = min(MEMBERS, key=lambda m: r[m]["frechet"])
    out["edge_f1_best_unpaired"] = max(MEMBERS, key=lambda m: r[m]["edge_f1"])
    return out


def findings_over_seeds(tables) -> dict:
    """:func:`findings` of each seed's table (paired by seed: every member starts from the same networks and sees the
    same batches), and for each yes/no finding whether it holds at every seed and at how many
    (:func:`course_lib.experiments.pix2pix_ablation.findings_over_seeds`)."""
    return A.findings_over_seeds(tables, findings)
