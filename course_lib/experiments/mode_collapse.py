"""Notebook 04, section 6: mode collapse on eight Gaussians on a ring, measured, and one remedy (PacGAN).

A GAN's generator is rewarded for samples the discriminator takes for real, not for covering the data: it can
put all its mass on a few modes (Goodfellow et al. 2014, Sec. 6, call it "the Helvetica scenario"; Goodfellow 2016, NIPS tutorial, Sec. 5.1.1). Metz et al.
(2017, Fig. 1) show it on a 2-D mixture of eight Gaussians on a ring, where coverage can be counted
exactly (:func:`course_lib.models.toy_gan.mode_coverage`: modes covered, share of high-quality samples, KL of the
modes' shares from uniform, as Srivastava et al. 2017 and Lin et al. 2018 count them). The remedy here is PacGAN
(Lin et al. 2018): the discriminator judges ``m`` samples of one source at once
(:func:`course_lib.models.toy_gan.pack`), so a generator that sends every sample to one mode produces packs whose
members are suspiciously alike, which no pack of real samples is.

Members (paired by seed: the same initial generator, the same real batches and latents):

* ``"GAN"``: the non-saturating GAN (Goodfellow et al. 2014, Algorithm 1 with k = 1);
* ``"PacGAN2"``: the same, with the discriminator judging packs of two samples (its first layer takes 4 numbers
  instead of 2; it sees half as many packs of the same 512 samples per step).

Networks (:func:`course_lib.models.toy_gan.mlp`): G maps a 256-d latent ``z ~ N(0, I)`` to a point through two
hidden layers of 128 ReLU units; D maps ``m`` points to one logit the same way. Adam with beta1 0.5, learning rate
1e-3 for G and 1e-4 for D, batches of 512 real points and 512 latents, 20,000 steps (about 100 s on one CPU thread).
Every 500 steps the run scores G on 2,500 fixed latents; that curve is stored with the weights
(``meta["held_out_curve"]``). Only G is stored: ``course_lib/weights/mode_collapse_ring_<member>.pt`` at seed 0 and
``..._seed<s>.pt`` at the other seeds of :data:`STORED_SEEDS`.

Commands: ``python -m course_lib train mode_collapse --seed 0 1 2 3 4``, ``python -m course_lib reproduce
mode_collapse --seed 0 1 2 3 4``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..device import seed_everything
from ..losses import discriminator_loss, generator_loss
from ..models.toy_gan import RING_MODES, RING_RADIUS, RING_STD, mlp, mode_coverage, pack, ring_centers, ring_samples
from . import common
from . import pix2pix_ablation as A

PACK = {"GAN": 1, "PacGAN2": 2}
"""Member -> the number of samples the discriminator judges at once (PacGAN's ``m``; 1 is the plain GAN)."""
MEMBERS = tuple(PACK)
STORED_SEEDS = (0, 1, 2, 3, 4)
"""The seeds whose generators the course ships (both members at each; notebook 04 loads them all)."""
EVAL_SEED = 1000
"""The latents every score uses are drawn with ``EVAL_SEED + seed`` (the same during training and in :func:`evaluate`)."""


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """The ring and the training (the same in both profiles: the toy costs about 100 s a run on one CPU thread).

    Attributes:
        n_modes, radius, std: the ring (:data:`course_lib.models.toy_gan.RING_MODES`, ...; data units).
        nz: latent dimension; width, depth: hidden units and layers of G and D (ReLU).
        batch_size: real points and latents per step (each pack size must divide it).
        lr_G, lr_D, beta1: Adam's learning rates and first momentum.
        steps: alternating updates (one D step, one G step).
        eval_every: steps between the scores of the held-out curve; n_eval: latents scored (2,500, as the papers).
        min_count: high-quality samples a mode needs to count as covered (:func:`~course_lib.models.toy_gan.mode_coverage`).
    """

    n_modes: int = RING_MODES
    radius: float = RING_RADIUS
    std: float = RING_STD
    nz: int = 256
    width: int = 128
    depth: int = 2
    batch_size: int = 512
    lr_G: float = 1e-3
    lr_D: float = 1e-4
    beta1: float = 0.5
    steps: int = 20000
    eval_every: int = 500
    n_eval: int = 2500
    min_count: int = 20


def eval_latents(cfg: Config, seed: int = 0) -> torch.Tensor:
    """``cfg.n_eval x cfg.nz`` float32 latents, drawn with ``EVAL_SEED + seed``: what every score of seed ``seed`` uses."""
    return torch.randn(cfg.n_eval, cfg.nz, generator=torch.Generator().manual_seed(EVAL_SEED + seed))


def score(G: torch.nn.Module, cfg: Config, seed: int = 0) -> dict:
    """:func:`~course_lib.models.toy_gan.mode_coverage` of ``G`` on :func:`eval_latents` (no gradients; G's own
    device; G left in its train/eval mode: the MLP has neither dropout nor normalisation)."""
    device = next(G.parameters()).device
    with torch.no_grad():
        points = G(eval_latents(cfg, seed).to(device)).float()
    return mode_coverage(points, ring_centers(cfg.n_modes, cfg.radius), cfg.std, cfg.min_count)


def build(cfg: Config, member: str = "GAN", seed: int = 0) -> common.Run:
    """A fresh run of ``member`` (:data:`PACK`): ``models`` ``G`` (latent -> point) and ``D`` (``m`` points -> logit),
    built in that order after seeding with ``seed`` (so both members start from the same G); ``state``: ``opt_G``,
    ``opt_D``, ``pack_size``, ``eval_every``, ``step`` (0), ``held_out_curve`` (``{"step", "modes_covered",
    "high_quality", "kl_to_uniform"}``, filled by :func:`train_step`), ``cfg`` and ``seed`` (for the scores). Batches:
    ``(real, z)``: ``cfg.batch_size x 2`` ring points and ``cfg.batch_size x cfg.nz`` latents, float32, from one
    generator seeded with ``seed``.

    Raises:
        ValueError: an unknown member, or a pack size that does not divide ``cfg.batch_size``.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    if member not in PACK:
        raise ValueError(f"unknown mode_collapse member {member!r}; members: {MEMBERS}")
    m = PACK[member]
    if cfg.batch_size % m:
        raise ValueError(f"{member} packs {m} samples: batch_size {cfg.batch_size} must be a multiple of {m}")
    G = mlp(cfg.width, cfg.depth, cfg.nz, 2, negative_slope=0)
    D = mlp(cfg.width, cfg.depth, 2 * m, 1, negative_slope=0)
    opt_G, _ = common.adam(G.parameters(), cfg.lr_G, (cfg.beta1, 0.999))
    opt_D, _ = common.adam(D.parameters(), cfg.lr_D, (cfg.beta1, 0.999))

    def batches():
        g = torch.Generator().manual_seed(seed)
        while True:
            real = ring_samples(cfg.batch_size, cfg.n_modes, cfg.radius, cfg.std, generator=g)
            yield real, torch.randn(cfg.batch_size, cfg.nz, generator=g)

    curve = {"step": [], "modes_covered": [], "high_quality": [], "kl_to_uniform": []}
    return common.Run(models={"G": G, "D": D}, stored={"G": f"mode_collapse_ring_{member}"}, steps=cfg.steps,
                      batches=batches, state={"opt_G": opt_G, "opt_D": opt_D, "pack_size": m, "step": 0,
                                              "eval_every": cfg.eval_every, "held_out_curve": curve, "cfg": cfg,
                                              "seed": seed})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One alternating update with a packing discriminator (Lin et al. 2018; ``pack_size`` 1 is Goodfellow et
    al. 2014, Algorithm 1 with k = 1):

    1. **D step**: ``discriminator_loss(D(pack(real, m)), D(pack(G(z).detach(), m)))``: every pack is all real or all
       fake;
    2. **G step**: the non-saturating ``generator_loss(D(pack(G(z), m)))`` through the updated D.

    Every ``run.eval_every`` steps it appends G's :func:`score` to ``run.held_out_curve``.

    Args:
        run: from :func:`build` (``G``, ``D``, ``opt_G``, ``opt_D``, ``pack_size``, ``step``, ...).
        batch: ``(real, z)``: ``N x 2`` ring points and ``N x nz`` latents (``pack_size`` divides ``N``).

    Returns:
        ``{"loss_D", "loss_G", "D_real", "D_fake"}`` as floats (``D_*``: mean probability D gives a pack).
    """
    real, z = batch
    device = next(run.G.parameters()).device
    real, z = real.to(device), z.to(device)
    m = run.pack_size
    fake = run.G(z)
    real_logits = run.D(pack(real, m))
    fake_logits = run.D(pack(fake.detach(), m))
    loss_D = discriminator_loss(real_logits, fake_logits)
    run.opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    run.opt_D.step()

    loss_G = generator_loss(run.D(pack(fake, m)))
    run.opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    run.opt_G.step()

    run.state["step"] += 1
    if run.step % run.eval_every == 0:
        found = score(run.G, run.cfg, run.seed)
        curve = run.held_out_curve
        curve["step"].append(run.step)
        for key in ("modes_covered", "high_quality", "kl_to_uniform"):
            curve[key].append(round(found[key], 4) if isinstance(found[key], float) else found[key])
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
            "D_real": torch.sigmoid(real_logits).mean().item(), "D_fake": torch.sigmoid(fake_logits).mean().item()}


def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True):
    """Score each member's G on the 2,500 latents of ``seed`` (:func:`score`), beside 2,500 real ring points.

    Returns:
        ``(rows, extras)``. Rows, :data:`MEMBERS` in order then ``"real ring"``: ``{"model", "pack",
        "modes_covered", "high_quality", "kl_to_uniform", "steps", "train_seconds"}``. ``extras``: ``"points"``
        (model -> ``n_eval x 2`` float32), ``"counts"`` (model -> high-quality samples per mode), ``"curves"``
        (member -> the stored held-out curve).

    Raises:
        ValueError: a member of :data:`MEMBERS` missing from ``runs``.
    """
    missing = [m for m in MEMBERS if m not in runs]
    if missing:
        raise ValueError(f"no run of {missing}; runs: {list(runs)} (load them with common.load)")
    centers = ring_centers(cfg.n_modes, cfg.radius)
    rows, points, counts, curves = [], {}, {}, {}
    for member in MEMBERS:
        run = runs[member]
        device = next(run.G.parameters()).device
        with torch.no_grad():
            points[member] = run.G(eval_latents(cfg, seed).to(device)).float().cpu()
        found = mode_coverage(points[member], centers, cfg.std, cfg.min_count)
        counts[member] = found.pop("counts")
        curves[member] = run.meta.get("held_out_curve")
        rows.append({"model": member, "pack": PACK[member], **found, "steps": run.meta.get("steps", cfg.steps),
                     "train_seconds": run.meta.get("train_seconds", float("nan"))})
    points["real ring"] = ring_samples(cfg.n_eval, cfg.n_modes, cfg.radius, cfg.std,
                                       generator=torch.Generator().manual_seed(EVAL_SEED + seed))
    found = mode_coverage(points["real ring"], centers, cfg.std, cfg.min_count)
    counts["real ring"] = found.pop("counts")
    rows.append({"model": "real ring", "pack": float("nan"), **found, "steps": float("nan"),
                 "train_seconds": float("nan")})
    return rows, {"points": points, "counts": counts, "curves": curves}


def findings(rows) -> dict:
    """What section 6 of notebook 04 reads from one seed's :func:`evaluate` table:

    * ``gan_misses_modes``: the plain GAN covers fewer than all modes;
    * ``pacgan_covers_all``: PacGAN2 covers every mode;
    * ``pacgan_covers_more``: PacGAN2 covers more modes than the GAN;
    * ``pacgan_more_even``: PacGAN2's samples are spread more evenly over the modes (lower KL from uniform);
    * ``pacgan_more_high_quality``: a larger share of PacGAN2's samples lie within 3 std of a mode.
    Also the numbers (``modes_<member>``, ``kl_<member>``, ``high_quality_<member>``).

    Raises:
        ValueError: ``rows`` lack a member of :data:`MEMBERS`.
    """
    r = {row["model"]: row for row in rows}
    if not set(MEMBERS) <= set(r):
        raise ValueError(f"findings need the rows {list(MEMBERS)}, got {list(r)}")
    gan, pac = r["GAN"], r["PacGAN2"]
    every = r["real ring"]["modes_covered"] if "real ring" in r else RING_MODES
    out = {f"{key}_{m}": r[m][col] for m in MEMBERS
           for key, col in (("modes", "modes_covered"), ("kl", "kl_to_uniform"), ("high_quality", "high_quality"))}
    out["gan_misses_modes"] = gan["modes_covered"] < every
    out["pacgan_covers_all"] = pac["modes_covered"] >= every
    out["pacgan_covers_more"] = pac["modes_covered"] > gan["modes_covered"]
    out["pacgan_more_even"] = pac["kl_to_uniform"] < gan["kl_to_uniform"]
    out["pacgan_more_high_quality"] = pac["high_quality"] > gan["high_quality"]
    return out


def findings_over_seeds(tables) -> dict:
    """:func:`findings` of each seed's table (paired by seed) and, for each yes/no finding, whether it holds at every
    seed (``"every_seed"``) and at how many (``"seeds_holding"``)."""
    return A.findings_over_seeds(tables, findings)


FINDINGS_STATED = {"gan_misses_modes": True, "pacgan_covers_all": True, "pacgan_covers_more": True,
                   "pacgan_more_even": True, "pacgan_more_high_quality": True}
"""What notebook 04's section 6 says of :func:`findings` at every seed of :data:`STORED_SEEDS` (True: holds at each):
the plain GAN misses modes at every seed (it covers 6 / 1 / 1 / 6 / 3 of 8 at seeds 0-4), PacGAN2 covers all eight,
more evenly and with more high-quality samples, at every seed. ``tests/test_mode_collapse.py`` checks it on the stored
weights."""
