"""The judge of notebooks 04-09: a small Fashion-MNIST classifier that scores generated images.

One member, ``fashion_recognizer`` (:class:`course_lib.models.recognizer.FashionRecognizer`, stored in
``course_lib/weights/fashion_recognizer.pt``): trained once on the real training split (padded to 32 x 32, in
[-1, 1], random shifts of up to 2 pixels) for 3 epochs of 128 images, Adam with a one-cycle learning rate
(peak 2e-3; Smith & Topin 2019), cross-entropy. Its class probabilities give the recognizer score and its
128-d features the Fréchet recognizer distance (:mod:`course_lib.metrics.judge`), in the manner of the pix2pix
FCN-score (Isola et al. 2017, Sec. 4.2). Notebooks and experiments load it with
:func:`course_lib.models.recognizer.load_recognizer`, which never retrains it under ``COURSE_RETRAIN=1``.

:func:`evaluate`: top-1 accuracy on the 10,000 test images (the stored file: 0.9047).

Commands: ``python -m course_lib train recognizer``, ``python -m course_lib reproduce recognizer``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..models.recognizer import FashionRecognizer, accuracy, random_shift
from ..device import seed_everything
from . import common

RETRAIN_FROM_ENVIRONMENT = False
"""``COURSE_RETRAIN=1`` does not retrain the judge (:func:`course_lib.experiments.common.load`): only
``python -m course_lib train recognizer`` or ``reproduce recognizer --retrain`` does."""

MEMBERS = ("fashion_recognizer",)


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Training (the same in both profiles) and evaluation.

    Attributes:
        epochs: passes over the training images; batch_size: images per step; lr: the one-cycle peak.
        max_shift: random translation of each training image, in pixels.
        n_train: use only the first ``n_train`` training images (None: all 60,000); n_test: test images
            of :func:`evaluate` (None: all 10,000).
    """

    epochs: int = 3
    batch_size: int = 128
    lr: float = 2e-3
    max_shift: int = 2
    n_train: int | None = None
    n_test: int | None = None


def build(cfg: Config, member: str = "fashion_recognizer", seed: int = 0) -> common.Run:
    """A fresh recognizer (``models``: ``net``), Adam with its one-cycle schedule over all the steps, and
    batches ``(images, labels)``: ``N x 1 x 32 x 32`` in [-1, 1], randomly shifted, and ``N`` int64 classes.

    Raises:
        ValueError: an unknown member.
    """
    seed_everything(seed)  # fresh and seeded even when called directly (common.train seeds before build too)
    from ..data.fashion_mnist import fashion_mnist_tensors

    if member not in MEMBERS:
        raise ValueError(f"unknown recognizer member {member!r}; members: {MEMBERS}")
    net = FashionRecognizer()
    g = torch.Generator().manual_seed(seed)  # shuffling and shifts
    torch.manual_seed(seed)  # dropout, as the stored training
    n = 60_000 if cfg.n_train is None else min(cfg.n_train, 60_000)
    steps = cfg.epochs * (n // cfg.batch_size)
    opt, _ = common.adam(net.parameters(), cfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)

    def batches():
        x, y = fashion_mnist_tensors("train", cfg.n_train, value_range="-1,1", pad_to=32)
        for xb, yb in common.random_batches(x, y, batch_size=cfg.batch_size, generator=g):
            yield random_shift(xb, cfg.max_shift, g), yb

    return common.Run(models={"net": net}, stored={"net": member}, steps=steps, batches=batches,
                      state={"opt": opt, "sched": sched})


def train_step(run: common.Run, batch) -> dict[str, float]:
    """One step of cross-entropy on a batch ``(images, labels)``: backward, Adam, one step of the schedule."""
    x, y = batch
    loss = F.cross_entropy(run.net(x), y)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    run.sched.step()
    return {"loss": loss.item()}


def evaluate(cfg: Config, runs: dict[str, common.Run], seed: int = 0, progress: bool = True) -> list[dict]:
    """``[{"member", "test_accuracy", "n_test"}]``: top-1 accuracy on the first ``cfg.n_test`` test images
    (28 x 28, padded by :func:`course_lib.models.recognizer.to_recognizer_input`)."""
    from ..data.fashion_mnist import fashion_mnist_tensors

    x, y = fashion_mnist_tensors("test", cfg.n_test, value_range="-1,1")
    return [{"member": m, "test_accuracy": accuracy(r.net, x, y), "n_test": len(x)} for m, r in runs.items()]
