"""Notebook 08: CycleGAN on unpaired edges and shoes, scored against pix2pix on the paired held-out set.

Zhu, Park, Isola & Efros (ICCV 2017) learn ``G: A -> B`` and ``F: B -> A`` from unpaired sets with two
discriminators, the LSGAN loss, a cycle-consistency loss (lambda = 10) and an identity loss (0.5 lambda),
an image pool of 50 and a linearly decaying learning rate; on paired data they report pix2pix as the upper
bound (Sec. 5.1). Here (fast profile): domain A = Canny edges of one half of the training shoes, domain B =
the photos of the other half (:func:`course_lib.data.shoes.make_unpaired_edges_shoes`), so no pair is ever
seen; both are scored on the paired test split with notebook 06's scores, beside pix2pix (L1 + cGAN) trained
on the same number of *paired* examples.

One member, ``"CycleGAN"``, whose two generators are stored (fast profile, seed 0:
``course_lib/weights/cyclegan_shoes_G_AB.pt`` and ``..._G_BA.pt``; the discriminators are not stored); the
pix2pix row loads notebook 06's L1 + cGAN member of ``pix2pix_ablation``. The full profile is refused: the
official unpaired sets (horse2zebra, 256 px) have no paired held-out set to score on.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..data.shoes import make_unpaired_edges_shoes
from ..device import get_device, seed_everything
from ..losses import GANLoss, cycle_consistency_loss, identity_loss
from ..models.pix2pix import ImagePool, define_G
from ..translation import TranslationConfig, build_discriminator, evaluate_shoes, translate
from . import common
from . import pix2pix_ablation as A

MEMBERS = ("CycleGAN",)


@dataclass(frozen=True)
class Config(TranslationConfig):
    """The translation runs' sizes (:class:`course_lib.translation.TranslationConfig`); CycleGAN uses
    ``cycle_generator``, ``cycle_norm``, ``discriminator``, ``ngf``, ``ndf``, ``n_train``, ``n_test``,
    ``cycle_steps``, ``batch_size``, ``lr``, ``beta1``, ``lambda_cycle``, ``lambda_identity`` and ``pool_size``."""


def _refuse_unscored(cfg: TranslationConfig) -> None:
    if cfg.dataset != "shoes":
        raise NotImplementedError("the full profile's CycleGAN (horse2zebra, 256 px) is not scored here: it has no "
                                  "paired held-out set; train it on the download with notebook 08's step")


def build(cfg: TranslationConfig, member: str = "CycleGAN", seed: int = 0) -> common.Run:
    """A fresh CycleGAN: ``G_AB: A -> B`` and ``G_BA: B -> A`` (``cfg.cycle_generator``, no dropout; both
    stored as ``cyclegan_shoes_G_AB`` / ``_G_BA``), then the unconditional discriminators ``D_A`` (real A vs
    G_BA's fakes) and ``D_B`` (real B vs G_AB's fakes), built in that order.

    State: ``opt_G`` over both generators and ``opt_D`` over both discriminators (Adam ``cfg.lr``, betas
    ``(cfg.beta1, 0.999)``) with their linear-decay schedules ``sched_G``, ``sched_D`` over
    ``cfg.cycle_steps`` (Zhu et al. 2017, Sec. 7.1); ``criterion`` (LSGAN); the image pools ``pool_A``,
    ``pool_B`` of ``cfg.pool_size`` (seeded ``seed`` and ``seed + 1``); ``lambda_cycle``,
    ``lambda_identity``. Batches: ``(a, b)`` of ``cfg.batch_size`` unpaired images each, drawn independently
    (orders fixed by ``seed`` and ``seed + 1``) from :func:`~course_lib.data.shoes.make_unpaired_edges_shoes`
    (split by ``seed``).

    Raises:
        NotImplementedError: in the full profile (no paired held-out set).
        ValueError: another member.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    _refuse_unscored(cfg)
    if member not in MEMBERS:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    device = get_device()
    nets = {"G_AB": define_G(cfg.cycle_generator, 1, 1, cfg.ngf, cfg.cycle_norm),
            "G_BA": define_G(cfg.cycle_generator, 1, 1, cfg.ngf, cfg.cycle_norm),
            "D_A": build_discriminator(cfg, 1), "D_B": build_discriminator(cfg, 1)}
    nets = {role: net.to(device) for role, net in nets.items()}

    def batches():
        data = make_unpaired_edges_shoes(cfg.n_train, cfg.n_test, seed)
        both = zip(common.random_batches(data.a, batch_size=cfg.batch_size, seed=seed),
                   common.random_batches(data.b, batch_size=cfg.batch_size, seed=seed + 1))
        return ((a, b) for (a,), (b,) in both)

    opt_G, sched_G = common.adam(itertools.chain(nets["G_AB"].parameters(), nets["G_BA"].parameters()), cfg.lr,
                                 (cfg.beta1, 0.999), schedule="linear_decay", steps=cfg.cycle_steps)
    opt_D, sched_D = common.adam(itertools.chain(nets["D_A"].parameters(), nets["D_B"].parameters()), cfg.lr,
                                 (cfg.beta1, 0.999), schedule="linear_decay", steps=cfg.cycle_steps)
    return common.Run(models=nets, stored={"G_AB": "cyclegan_shoes_G_AB", "G_BA": "cyclegan_shoes_G_BA"},
                      steps=cfg.cycle_steps, batches=batches,
                      state={"opt_G": opt_G, "opt_D": opt_D, "sched_G": sched_G, "sched_D": sched_D,
                             "criterion": GANLoss("lsgan").to(device),
                             "pool_A": ImagePool(cfg.pool_size, seed), "pool_B": ImagePool(cfg.pool_size, seed + 1),
                             "lambda_cycle": cfg.lambda_cycle, "lambda_identity": cfg.lambda_identity})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One CycleGAN iteration on unpaired batches ``(a, b)`` (domain A, domain B; in [-1, 1]).

    Generators: ``L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A) + lambda (cycle_A + cycle_B)
    + lambda * lambda_identity (idt_A + idt_B)`` (Zhu et al. 2017, Eq. 3 and Sec. 5.2), the discriminators
    frozen. Then each discriminator, its loss halved, on real images vs fakes taken from the image pool;
    then both learning-rate schedules step. Returns ``{"G_gan", "cycle", "identity", "D"}`` as floats.
    """
    device = next(run.G_AB.parameters()).device
    a, b = (t.to(device) for t in batch)
    crit = run.criterion
    fake_b, fake_a = run.G_AB(a), run.G_BA(b)
    rec_a, rec_b = run.G_BA(fake_b), run.G_AB(fake_a)
    for D in (run.D_A, run.D_B):
        D.requires_grad_(False)
    gan = crit(run.D_B(fake_b), True, for_discriminator=False) + crit(run.D_A(fake_a), True, for_discriminator=False)
    cyc = cycle_consistency_loss(a, rec_a) + cycle_consistency_loss(b, rec_b)
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
    return {"G_gan": gan.item(), "cycle": cyc.item(), "identity": idt.item(), "D": loss_D.item()}


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score CycleGAN's ``G_AB`` and the pix2pix upper bound (``pix2pix_ablation``'s L1 + cGAN generator at
    the same ``seed``, trained there first if its file is missing) on the paired held-out set.

    Returns:
        ``(rows, {"samples": ...})``; rows: ``model, supervision, type_accuracy, frd, l1, psnr``;
        ``samples``: inputs, targets, both models' outputs and CycleGAN's reconstructions ``F(G(a))`` for 8
        test pairs (``8 x 1 x 32 x 32`` in [-1, 1]).

    Raises:
        NotImplementedError: in the full profile.
    """
    _refuse_unscored(cfg)
    run = runs["CycleGAN"]
    data = make_unpaired_edges_shoes(cfg.n_train, cfg.n_test, seed)
    p2p = common.load(A, cfg, seed, members=["L1+cGAN"], progress=progress, retrain=False)["L1+cGAN"].G
    rows = [{"model": "CycleGAN", "supervision": f"unpaired ({len(data.a)} edge maps, {len(data.b)} photos)",
             **evaluate_shoes(run.G_AB, data.test)},
            {"model": "pix2pix (L1+cGAN)", "supervision": f"paired ({cfg.n_train} pairs)",
             **evaluate_shoes(p2p, data.test)}]
    a = data.test.edges[:8]
    fake = translate(run.G_AB, a)
    samples = {"input": a, "target": data.test.shoes[:8], "CycleGAN": fake,
               "reconstruction": translate(run.G_BA, fake), "pix2pix": translate(p2p, a)}
    return rows, {"samples": samples}
