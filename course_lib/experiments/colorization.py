"""Notebook 03: colorization as regression (L2) vs classification over ab bins, with and without rebalancing.

After Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016 (Sec. 2-3), in miniature:

* data -- real photos that ship in the wheels (:mod:`course_lib.data.colorization`): random crops of the
  *training* photos, scored on the whole *held-out* photos (never seen in training), all downscaled so
  that their shorter side is ``image_side`` pixels. Input ``L``, target ``ab`` (:mod:`course_lib.color`);
  targets at half resolution, as the network predicts there.
* three members with the same body (:class:`course_lib.models.colorization.ColorizationNet`, same
  initial body weights for a seed):

  - ``L2`` -- the regression head trained with the mean squared ab error (Eq. 1);
  - ``classification`` -- the classification head over the Q = 261 in-gamut bins, trained with the
    cross-entropy against the soft-encoded ground truth (Eq. 2);
  - ``rebalanced`` -- the same with the class-rebalancing weights of the training pixels (Eq. 3-4).

* decoding of the classifiers -- mean, annealed mean (T = 0.38) and mode (:func:`course_lib.color.decode`).
* metrics on the held-out photos (:mod:`course_lib.metrics`): the raw-accuracy AuC of the per-pixel ab
  error over thresholds 0-150, colourfulness (Hasler & Süsstrunk 2003) of the colourized RGB image, and
  the ab MSE.

The stored weights (``course_lib/weights/colorization_*.pt``, fast profile, seed 0) are what
``python -m course_lib train colorization`` makes. Figures: :mod:`course_lib.experiments.plots.colorization`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import color
from ..data.colorization import held_out_photos, training_crops
from ..device import get_device
from ..losses import rebalanced_cross_entropy_sparse
from ..metrics import ab_accuracy_auc, ab_mse, colourfulness
from ..models.colorization import ColorizationNet, predict_ab
from .common import ExperimentConfig, Run, adam, fast_full, random_batches

MEMBERS = ("L2", "classification", "rebalanced")
PRECISION_HELPER = True  # train_step steps through run.precision.backward_step: fp16 with a GradScaler works too (course_lib.precision)
"""The three trained models, in table order."""
MODEL_KIND = {"L2": "regression", "classification": "classification", "rebalanced": "classification"}
STEMS = {"L2": "colorization_l2", "classification": "colorization_classification",
         "rebalanced": "colorization_rebalanced"}
"""Weight-file stem of each member (``course_lib/weights/<stem>.pt``)."""

TABLE_COLUMNS = ("model", "decoding", "auc", "colourfulness", "colourfulness_vs_L2", "mse")
"""Columns of the rows :func:`evaluate` returns, one row per (model, decoding)."""


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Sizes of one run; build it with ``Config.make(profile, **overrides)``.

    Attributes:
        image_side: every photo is resized so that its shorter side has this many pixels.
        crop: side of the square training crops (multiple of 4).
        n_crops: training crops drawn from the training photos (half of them mirrored).
        width: channels of the body's first level.
        steps, batch_size, lr: Adam steps, crops per step, peak learning rate (cosine decay to 0).
        T: temperature of the annealed mean.

    Raises:
        ValueError: a crop side not divisible by 4.
    """

    image_side: int = fast_full(96, 256)
    crop: int = fast_full(32, 128)
    n_crops: int = fast_full(4000, 20000)
    width: int = fast_full(16, 64)
    steps: int = fast_full(800, 20000)
    batch_size: int = 32
    lr: float = fast_full(3e-3, 1e-3)
    T: float = color.ANNEAL_T

    def __post_init__(self):
        if self.crop % 4:
            raise ValueError(f"crop must be a multiple of 4, got {self.crop}")

    def crops(self, seed: int = 0):
        """The training crops of this config (:func:`course_lib.data.colorization.training_crops`, cached)."""
        return training_crops(self.image_side, self.crop, self.n_crops, seed)


def build(cfg: Config, member: str, seed: int = 0) -> Run:
    """A fresh member (one of :data:`MEMBERS`) on :func:`course_lib.device.get_device`.

    ``run.net``: the network (``torch.manual_seed(seed)`` first, so the three share their initial body
    weights); ``run.opt``, ``run.sched``: Adam and its cosine decay to 0 over ``cfg.steps``;
    ``run.weights``: the rebalancing weights of the training bins (``float32 Q``; the ``rebalanced`` member
    only, None otherwise: building them makes the training crops). ``run.batches()`` yields
    ``(L, ab, index, weight)`` batches of ``cfg.batch_size`` training crops on the device
    (:func:`course_lib.experiments.common.random_batches`, seeded with ``seed``).

    Raises:
        ValueError: an unknown member.
    """
    if member not in MEMBERS:
        raise ValueError(f"unknown model {member!r}; use one of {MEMBERS}")
    device = get_device()
    torch.manual_seed(seed)
    net = ColorizationNet(MODEL_KIND[member], len(color.AB_BINS), cfg.width).to(device)
    opt, sched = adam(net.parameters(), cfg.lr, schedule="cosine", steps=cfg.steps)
    weights = cfg.crops(seed).weights.to(device) if member == "rebalanced" else None

    def batches():
        c = cfg.crops(seed)
        for batch in random_batches(c.L, c.ab, c.index, c.weight, batch_size=cfg.batch_size, seed=seed):
            yield tuple(t.to(device) for t in batch)

    return Run(models={"net": net}, stored={"net": STEMS[member]}, steps=cfg.steps, batches=batches,
               state={"opt": opt, "sched": sched, "weights": weights})


def train_step(run: Run, batch) -> dict[str, float]:
    """One Adam step. ``L2``: the mean squared ab error (Zhang et al., Eq. 1); ``classification``: the
    cross-entropy against the soft-encoded target (Eq. 2; :func:`course_lib.losses.rebalanced_cross_entropy_sparse`);
    ``rebalanced``: the same, each pixel weighted by the rebalancing weight of its nearest bin (Eq. 3-4).

    ``batch``: ``L`` ``N x 1 x c x c``, ``ab`` ``N x 2 x c/2 x c/2``, ``index`` / ``weight``
    ``N x 5 x c/2 x c/2`` (the soft-encoded ab).
    """
    L, ab, index, weight = batch
    out = run.net(L)
    if run.net.kind == "regression":
        loss = F.mse_loss(out, ab)
    else:
        loss = rebalanced_cross_entropy_sparse(out, index, weight, run.weights)
    run.opt.zero_grad(set_to_none=True)
    run.precision.backward_step(loss, run.opt)  # loss.backward(); run.opt.step() (fp16: loss scaling)
    run.sched.step()
    return {"loss": loss.item()}


def evaluate(cfg: Config, runs: dict[str, Run], seed: int = 0, progress: bool = True) -> tuple[list[dict], dict]:
    """Score every member in ``runs`` (the classifiers decoded three ways, at temperature ``cfg.T``) on
    the held-out photos, with the baselines ``grey`` (ab = 0) and ``ground truth``.

    Returns:
        ``(rows, extras)``. ``rows``: one dict per (model, decoding) with the columns of
        :data:`TABLE_COLUMNS`, each the mean over the photos (``colourfulness_vs_L2``: the ratio to L2's
        colourfulness, NaN without an L2 member). ``extras``: ``"rows"`` (the rows plus
        ``colourfulness_per_photo``), ``"Q"`` (261) and ``"predictions"``: ``{model: {decoding: [ab
        1 x 2 x H x W per photo]}}``.
    """
    photos = held_out_photos(cfg.image_side)
    predictions = {"grey": {"-": [torch.zeros_like(ab) for ab in photos.ab]}}
    for name in [m for m in MEMBERS if m in runs]:
        net = runs[name].net
        decodings = ("-",) if net.kind == "regression" else color.DECODINGS
        predictions[name] = {d: [predict_ab(net, L, d if d != "-" else "mean", cfg.T) for L in photos.L]
                             for d in decodings}
    predictions["ground truth"] = {"-": list(photos.ab)}
    details = []
    for model, by_decoding in predictions.items():
        for decoding, pred in by_decoding.items():
            colourful = [colourfulness(color.lab_to_rgb_tensor(L, ab)[0]) for ab, L in zip(pred, photos.L)]
            details.append({"model": model, "decoding": decoding,
                            "auc": float(np.mean([ab_accuracy_auc(ab, t) for ab, t in zip(pred, photos.ab)])),
                            "colourfulness": float(np.mean(colourful)),
                            "mse": float(np.mean([ab_mse(ab, t) for ab, t in zip(pred, photos.ab)])),
                            "colourfulness_per_photo": dict(zip(photos.names, map(float, colourful)))})
    ref = next((r["colourfulness"] for r in details if r["model"] == "L2"), float("nan"))
    for r in details:
        r["colourfulness_vs_L2"] = r["colourfulness"] / ref
    rows = [{k: r[k] for k in TABLE_COLUMNS} for r in details]
    return rows, {"rows": details, "Q": len(color.AB_BINS), "predictions": predictions}
