"""Notebook 08's follow-up: does CycleGAN's identity loss help on edges -> shoes?

Zhu et al. (2017) add the identity loss ``0.5 * lambda * (||G(b) - b||_1 + ||F(a) - a||_1)`` for painting <->
photo (Sec. 5.2, Fig. 9), where it keeps the colour composition of the input; the authors' code applies it by
default. For edge maps <-> shoe photos an identity mapping is a poor prior -- an edge map is not a shoe -- and
the stored fast-profile CycleGAN (identity 0.5, 3,000 steps) indeed returns shoes that are mostly their input's
edges. This experiment compares that CycleGAN with the same training without the identity term, both scored on
the paired held-out set (:func:`course_lib.translation.evaluate_shoes`), plus the cycle error on that set,
``mean |F(G(a)) - a|`` (edge maps in [-1, 1]).

One member, ``"no_identity"``: notebook 08's CycleGAN (:mod:`~course_lib.experiments.cyclegan`'s ``build``
and ``train_step``) with ``lambda_identity = 0``, its generators stored (fast profile, seed 0:
``course_lib/weights/cyclegan_shoes_idt0_G_AB.pt`` and ``..._G_BA.pt``; about 15 minutes on one CPU thread
to train). The identity-0.5 row loads the ``cyclegan`` experiment's generators at the same seed (notebook 08's
stored files at seed 0), which this experiment never retrains.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..data.shoes import make_unpaired_edges_shoes
from ..translation import TranslationConfig, evaluate_shoes, translate
from . import common
from . import cyclegan as C

MEMBERS = ("no_identity",)


@dataclass(frozen=True)
class Config(TranslationConfig):
    """The translation runs' sizes (:class:`course_lib.translation.TranslationConfig`); ``lambda_identity``
    is the compared row's weight (0.5), the member trains with 0."""


def build(cfg: TranslationConfig, member: str = "no_identity", seed: int = 0) -> common.Run:
    """:func:`course_lib.experiments.cyclegan.build` with ``lambda_identity = 0``; the generators are stored
    as ``cyclegan_shoes_idt0_G_AB`` / ``_G_BA``.

    Raises:
        NotImplementedError: in the full profile (no paired held-out set).
        ValueError: another member.
    """
    if member not in MEMBERS:
        raise ValueError(f"unknown member {member!r}; members: {MEMBERS}")
    run = C.build(cfg.replace(lambda_identity=0.0), "CycleGAN", seed)
    run.stored = {"G_AB": "cyclegan_shoes_idt0_G_AB", "G_BA": "cyclegan_shoes_idt0_G_BA"}
    return run


train_step = C.train_step


def evaluate(cfg: TranslationConfig, runs: dict[str, common.Run], seed: int = 0, progress: bool = True) -> list[dict]:
    """Score CycleGAN with identity weight ``cfg.lambda_identity`` (the ``cyclegan`` experiment's generators,
    trained there first if missing) and without (``runs["no_identity"]``) on the paired held-out set.

    Returns:
        Rows ``lambda_identity, type_accuracy, frd, l1, psnr, cycle_l1, train_seconds``.

    Raises:
        NotImplementedError: in the full profile (no paired held-out set for the official unpaired sets).
    """
    if cfg.dataset != "shoes":
        raise NotImplementedError("the identity ablation is scored on the offline paired shoes only (fast profile)")
    test = make_unpaired_edges_shoes(cfg.n_train, cfg.n_test, seed).test
    with_identity = common.load(C, cfg, seed, progress=progress, retrain=False)["CycleGAN"]
    rows = []
    for lambda_identity, run in ((cfg.lambda_identity, with_identity), (0.0, runs["no_identity"])):
        fake = translate(run.G_AB, test.edges)
        cycle_l1 = float((translate(run.G_BA, fake) - test.edges).abs().mean())
        rows.append({"lambda_identity": lambda_identity, **evaluate_shoes(run.G_AB, test), "cycle_l1": cycle_l1,
                     "train_seconds": run.meta.get("train_seconds", float("nan"))})
    return rows
