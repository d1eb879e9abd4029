"""Notebook 02: sliding window vs encoder-decoder vs U-Net on Fashion-MNIST canvases.

The task (:mod:`course_lib.data.canvas`): label every pixel of a canvas of a few Fashion-MNIST garments
with its garment class or background (5 garment classes in the fast profile, all 10 in the full one).
Three models of :mod:`course_lib.models.dense` (the members) learn it from the same training canvases
(Fashion-MNIST *train* split) and are compared on held-out canvases (Fashion-MNIST *test* split):

* ``sliding window`` -- a patch classifier trained on randomly sampled patches
  (:class:`course_lib.data.canvas.PatchSampler`) and run once per pixel (each input pixel is then
  filtered ``patch_size**2 = (2n-1)**2`` times, the redundancy counted in the lecture; Long, Shelhamer &
  Darrell, "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015, sec. 3.1; sampling patches
  is their "patchwise training is loss sampling", sec. 3.4);
* ``encoder-decoder`` -- fully convolutional, no skips;
* ``U-Net`` -- the same layers plus skip connections (Ronneberger, Fischer & Brox, "U-Net: Convolutional
  Networks for Biomedical Image Segmentation", MICCAI 2015).

All three minimise the per-pixel cross-entropy with Adam and a cosine decay (:func:`train_step`).
Measured (:func:`evaluate`): per-pixel accuracy, mean IoU (Long et al. 2015, sec. 5 "mean IU"), accuracy
on boundary pixels, inference seconds per image, multiply-accumulates per image, redundancy, parameters,
training seconds. The stored weights (``course_lib/weights/dense_*.pt``, fast profile, seed 0) are made
by ``python -m course_lib train dense_prediction``. Figures: :mod:`course_lib.experiments.plots.dense_prediction`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from ..cost import timed_per_image
from ..data.canvas import ALL_CLASSES, Canvases, PatchSampler, make_canvases
from ..device import get_device
from ..metrics import accuracy_by_boundary_distance, mean_iou, per_class_iou, pixel_accuracy
from ..models.dense import EncoderDecoder, SlidingWindowClassifier, UNet, macs_per_image, predict, redundancy
from ..train import infinite_batches
from .common import ExperimentConfig, Run, adam, fast_full

MEMBERS = ("sliding window", "encoder-decoder", "U-Net")
"""The three models compared, in table order."""

STEMS = {"sliding window": "dense_sliding_window", "encoder-decoder": "dense_encoder_decoder", "U-Net": "dense_unet"}
"""Weight-file stem of each member (``course_lib/weights/<stem>.pt``)."""

TABLE_COLUMNS = ("model", "pixel_accuracy", "mean_iou", "boundary_accuracy", "seconds_per_image",
                 "macs_per_image", "redundancy", "parameters", "train_seconds")
"""Columns of the rows :func:`evaluate` returns (what ``python -m course_lib reproduce dense_prediction`` prints)."""

FAST_CLASSES = (0, 1, 5, 8, 9)
"""Garments of the fast profile: T-shirt/top, Trouser, Sandal, Bag, Ankle boot -- five classes with
distinct silhouettes, so that a CPU run of a minute learns them; the full profile uses all ten."""


@dataclass(frozen=True)
class Config(ExperimentConfig):
    """Sizes of one run; build it with ``Config.make(profile, **overrides)``.

    Attributes:
        classes: Fashion-MNIST classes drawn on the canvases (labels ``1..K``; 0 is background).
        size: canvas side in pixels (multiple of 8).
        items: ``(min, max)`` garments per canvas.
        n_train: training canvases (Fashion-MNIST train split).
        n_test: held-out canvases (Fashion-MNIST test split); all three models are scored on them.
        base_channels: width of the first level of EncoderDecoder and UNet.
        dense_steps, dense_batch: optimisation steps and canvases per step of the two dense models.
        patch_size: side of the sliding window's patch, ``2n - 1``.
        sw_width, sw_hidden: conv channels and hidden units of the sliding-window classifier.
        sw_steps, sw_batch: optimisation steps and patches per step of the sliding window.
        lr: Adam learning rate of the dense models, decayed to 0 by a cosine schedule.
        sw_lr: the same for the sliding window (no BatchNorm: it wants a smaller rate).
        eval_batch: canvases per forward pass when scoring and timing the dense models.

    Raises:
        ValueError: a canvas side not divisible by 8.
    """

    classes: tuple[int, ...] = fast_full(FAST_CLASSES, ALL_CLASSES)
    size: int = fast_full(48, 96)
    items: tuple[int, int] = fast_full((2, 4), (3, 8))
    n_train: int = fast_full(2000, 8000)
    n_test: int = fast_full(128, 500)
    base_channels: int = fast_full(8, 32)
    dense_steps: int = fast_full(400, 6000)
    dense_batch: int = fast_full(16, 32)
    patch_size: int = 15
    sw_width: int = fast_full(16, 32)
    sw_hidden: int = fast_full(64, 128)
    sw_steps: int = fast_full(400, 6000)
    sw_batch: int = fast_full(256, 1024)
    lr: float = fast_full(1e-2, 3e-3)
    sw_lr: float = fast_full(3e-3, 1e-3)
    eval_batch: int = 64

    def __post_init__(self):
        if self.size % 8:
            raise ValueError(f"size must be a multiple of 8 (three 2x downsamplings), got {self.size}")

    @property
    def num_classes(self) -> int:
        """Labels the models predict: background + ``len(classes)``."""
        return 1 + len(self.classes)

    def canvases(self, split: str, seed: int = 0) -> Canvases:
        """The ``n_train`` training canvases (``split="train"``, seeded with ``seed``) or the ``n_test``
        held-out ones (``"test"``, seeded with ``seed + 1``, so they never repeat the training layouts)."""
        n, s = (self.n_train, seed) if split == "train" else (self.n_test, seed + 1)
        return make_canvases(split, n, self.size, self.items, seed=s, classes=self.classes)


def build(cfg: Config, member: str, seed: int = 0) -> Run:
    """A fresh, seeded member (one of :data:`MEMBERS`) on :func:`course_lib.device.get_device`.

    ``run.net`` is the model (its initial weights set by ``torch.manual_seed(seed)``), ``run.opt`` and
    ``run.sched`` Adam and its cosine decay to 0 over ``run.steps``. ``run.batches()`` yields
    ``(x, y)`` on the model's device: for the sliding window ``sw_batch`` patches ``B x 1 x p x p`` and
    their centre labels ``int64 B`` (:class:`PatchSampler` seeded with ``seed``); for the dense models
    ``dense_batch`` whole canvases ``B x 1 x S x S`` (``channels_last`` memory layout: same maths, about
    10% faster convolutions on a CPU) and their labels ``int64 B x S x S``, shuffled each epoch by a
    generator seeded with ``seed``.

    Raises:
        ValueError: an unknown member.
    """
    if member not in MEMBERS:
        raise ValueError(f"unknown model {member!r}; use one of {MEMBERS}")
    device = get_device()
    torch.manual_seed(seed)
    if member == "sliding window":
        net = SlidingWindowClassifier(1, cfg.num_classes, cfg.patch_size, width=cfg.sw_width,
                                      hidden=cfg.sw_hidden).to(device)
        steps, lr = cfg.sw_steps, cfg.sw_lr

        def batches():
            for x, y in PatchSampler(cfg.canvases("train", seed), cfg.patch_size, cfg.sw_batch, seed=seed):
                yield x.to(device), y.to(device)
    else:
        model = UNet if member == "U-Net" else EncoderDecoder
        net = model(1, cfg.num_classes, cfg.base_channels).to(device, memory_format=torch.channels_last)
        steps, lr = cfg.dense_steps, cfg.lr

        def batches():
            loader = DataLoader(cfg.canvases("train", seed).dataset(), batch_size=cfg.dense_batch, shuffle=True,
                                drop_last=True, generator=torch.Generator().manual_seed(seed))
            for x, y in infinite_batches(loader):
                yield x.to(device, memory_format=torch.channels_last), y.to(device)
    opt, sched = adam(net.parameters(), lr, schedule="cosine", steps=steps)
    return Run(models={"net": net}, stored={"net": STEMS[member]}, steps=steps, batches=batches,
               state={"opt": opt, "sched": sched})


def train_step(run: Run, batch) -> dict[str, float]:
    """One Adam step on the per-pixel cross-entropy, the same for the three members.

    ``x`` is ``N x 1 x H x W`` (canvases, or patches for the sliding window), ``y`` the labels
    ``N x H x W`` (or the ``N`` centre labels); ``F.cross_entropy`` averages ``-log softmax(logits)[y]``
    over every labelled pixel (Long et al. 2015, sec. 3: the loss is a sum over the pixels of the output).
    """
    x, y = batch
    loss = F.cross_entropy(run.net(x), y)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    run.sched.step()
    return {"loss": loss.item()}


def evaluate(cfg: Config, runs: dict[str, Run], seed: int = 0, progress: bool = True) -> tuple[list[dict], dict]:
    """Score the members in ``runs`` on the held-out canvases (``cfg.canvases("test", seed)``).

    Returns:
        ``(rows, extras)``. ``rows``: one dict per member (in :data:`MEMBERS` order) with the columns of
        :data:`TABLE_COLUMNS`: ``pixel_accuracy`` and ``mean_iou`` (floats in [0, 1], mean IoU over the
        labels present in truth or prediction), ``boundary_accuracy`` (accuracy on pixels with a
        differently labelled 8-neighbour), ``seconds_per_image`` (wall-clock of labelling the held-out set
        divided by its size, :func:`course_lib.cost.timed_per_image`), ``macs_per_image``,
        ``redundancy``, ``parameters``, ``train_seconds`` (when the weights were made; None if unknown).
        ``extras``: ``"rows"`` (the rows plus ``per_class_iou`` -- None for a label absent from truth and
        prediction --, ``accuracy_by_distance`` at 0, 1, 2 and >= 3 pixels from a label boundary,
        ``train_steps``, ``final_loss`` (mean of the last 20 training losses, when known)),
        ``"class_names"``, ``"device"`` and ``"predictions"`` (member -> ``int64 N x S x S`` labels).
    """
    test = cfg.canvases("test", seed)
    device = get_device()
    rows, details, predictions = [], [], {}
    for name in [m for m in MEMBERS if m in runs]:
        run = runs[name].eval()
        logits, seconds = timed_per_image(lambda x: predict(run.net, x, cfg.eval_batch), test.images, device)
        pred = predictions[name] = logits.argmax(1)
        by_distance = accuracy_by_boundary_distance(pred, test.labels, 3)
        row = {"model": name, "pixel_accuracy": pixel_accuracy(pred, test.labels),
               "mean_iou": mean_iou(pred, test.labels, test.num_classes), "boundary_accuracy": by_distance[0],
               "seconds_per_image": seconds, "macs_per_image": macs_per_image(run.net, test.size),
               "redundancy": redundancy(run.net), "parameters": sum(p.numel() for p in run.net.parameters()),
               "train_seconds": run.meta.get("train_seconds")}
        rows.append(row)
        details.append(dict(row, per_class_iou=[None if math.isnan(v) else v for v in
                                                per_class_iou(pred, test.labels, test.num_classes).tolist()],
                            accuracy_by_distance=by_distance, train_steps=run.meta.get("steps", run.steps),
                            final_loss=_final_loss(run.meta)))
    return rows, {"rows": details, "class_names": list(test.class_names), "device": str(device),
                  "predictions": predictions}


def _final_loss(meta: dict) -> float | None:
    # the mean training loss of the last 20 steps: from the history of a run trained now, else (up to the
    # rounding of the stored curve) from the windowed loss curve of its weight file; None if neither
    if meta.get("history"):
        return float(np.mean(meta["history"]["loss"][-20:]))
    curve = meta.get("loss_curve")
    if not curve:
        return None
    last = [v for step, v in zip(curve["step"], curve["loss"]) if step > curve["step"][-1] - 20]
    return float(np.mean(last))
