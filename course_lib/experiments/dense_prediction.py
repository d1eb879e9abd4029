"""Notebook 02: sliding window vs encoder-decoder vs U-Net on Fashion-MNIST canvases.

The task (:mod:`course_lib.data.canvas`): label every pixel of a canvas of a
few Fashion-MNIST garments with its garment class or background (5 garment classes
in the fast profile, all 10 in the full one).
Three models of :mod:`course_lib.models.dense` learn it from the same
training canvases (Fashion-MNIST *train* split) and are compared on held-out
canvases (Fashion-MNIST *test* split):

* sliding window -- a patch classifier trained on randomly sampled patches and
  run once per pixel (each input pixel is then filtered ``patch_size**2 = (2n-1)**2``
  times, the redundancy counted in the lecture; Long, Shelhamer & Darrell,
  "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015, sec. 3.1; sampling
  patches is their "patchwise training is loss sampling", sec. 3.4);
* encoder-decoder -- fully convolutional, no skips;
* U-Net -- the same layers plus skip connections (Ronneberger, Fischer & Brox,
  "U-Net: Convolutional Networks for Biomedical Image Segmentation", MICCAI 2015).

Measured: per-pixel accuracy, mean IoU (Long et al. 2015, sec. 5 "mean IU"),
accuracy on boundary pixels, inference seconds per image, multiply-accumulates
per image, redundancy, training seconds. :func:`run` does everything and
returns the table as plain data; the notebook calls the steps one by one.

Sizes come from the profile (:func:`course_lib.get_profile`): ``fast`` fits a
two-core CPU in about a minute and a half, ``full`` (more data, larger canvases, wider
nets, more steps) is meant for a GPU. Nothing here downloads anything.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from ..data.canvas import ALL_CLASSES, Canvases, make_canvases
from ..device import get_device, seed_everything
from ..metrics import accuracy_by_boundary_distance, mean_iou, per_class_iou, pixel_accuracy
from ..models.dense import EncoderDecoder, SlidingWindowClassifier, UNet
from ..profile import Profile, get_profile
from ..train import train_loop

MODEL_NAMES = ("sliding window", "encoder-decoder", "U-Net")
"""The three models compared, in table order."""

TABLE_COLUMNS = ("model", "pixel_accuracy", "mean_iou", "boundary_accuracy", "seconds_per_image",
                 "macs_per_image", "redundancy", "parameters", "train_seconds")
"""Columns of the flat results table returned by :func:`run`."""

FAST_CLASSES = (0, 1, 5, 8, 9)
"""Garments of the fast profile: T-shirt/top, Trouser, Sandal, Bag, Ankle boot -- five classes with
distinct silhouettes, so that a CPU run of a minute learns them; the full profile uses all ten."""


@dataclass(frozen=True)
class Config:
    """Sizes of one run. Build it with :func:`make_config`.

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
        eval_batch: canvases per forward pass when timing the dense models.
    """

    classes: tuple[int, ...] = ALL_CLASSES
    size: int = 48
    items: tuple[int, int] = (2, 4)
    n_train: int = 2000
    n_test: int = 128
    base_channels: int = 8
    dense_steps: int = 400
    dense_batch: int = 16
    patch_size: int = 15
    sw_width: int = 16
    sw_hidden: int = 64
    sw_steps: int = 400
    sw_batch: int = 256
    lr: float = 1e-2
    sw_lr: float = 3e-3
    eval_batch: int = 64

    def as_dict(self) -> dict:
        """The configuration as a plain dict (tuples become lists)."""
        d = asdict(self)
        d["items"] = list(self.items)
        d["classes"] = list(self.classes)
        return d

    @property
    def num_classes(self) -> int:
        """Labels the models predict: background + ``len(classes)``."""
        return 1 + len(self.classes)


def make_config(profile: Profile | str | None = None, **overrides) -> Config:
    """The :class:`Config` of a profile, with optional field overrides.

    Args:
        profile: a :class:`~course_lib.profile.Profile`, ``"fast"``, ``"full"`` or ``None``
            (the active profile, see :func:`course_lib.get_profile`).
        overrides: fields to replace, e.g. ``dense_steps=50``.

    Raises:
        ValueError: for an unknown profile, an unknown field or a canvas side not divisible by 8.
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = dict(
        classes=P.pick(fast=FAST_CLASSES, full=ALL_CLASSES),
        size=P.pick(fast=48, full=96),
        items=P.pick(fast=(2, 4), full=(3, 8)),
        n_train=P.pick(fast=2000, full=8000),
        n_test=P.pick(fast=128, full=500),
        base_channels=P.pick(fast=8, full=32),
        dense_steps=P.pick(fast=400, full=6000),
        dense_batch=P.pick(fast=16, full=32),
        patch_size=P.pick(fast=15, full=15),
        sw_width=P.pick(fast=16, full=32),
        sw_hidden=P.pick(fast=64, full=128),
        sw_steps=P.pick(fast=400, full=6000),
        sw_batch=P.pick(fast=256, full=1024),
        lr=P.pick(fast=1e-2, full=3e-3),
        sw_lr=P.pick(fast=3e-3, full=1e-3),
        eval_batch=64,
    )
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown Config fields {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    if cfg["size"] % 8:
        raise ValueError(f"size must be a multiple of 8 (three 2x downsamplings), got {cfg['size']}")
    return Config(**cfg)


def make_data(cfg: Config, seed: int = 0) -> tuple[Canvases, Canvases]:
    """Training canvases from the Fashion-MNIST train split and held-out ones from its test split.

    Returns ``(train, test)`` (see :class:`~course_lib.data.canvas.Canvases`); the held-out set uses
    seed ``seed + 1`` so that it never repeats the training layouts.
    """
    train = make_canvases("train", cfg.n_train, cfg.size, cfg.items, seed=seed, classes=cfg.classes)
    test = make_canvases("test", cfg.n_test, cfg.size, cfg.items, seed=seed + 1, classes=cfg.classes)
    return train, test


def build_model(name: str, cfg: Config, seed: int = 0) -> nn.Module:
    """A freshly initialised model (weights seeded by ``seed``, on the CPU).

    Args:
        name: one of :data:`MODEL_NAMES`.

    Raises:
        ValueError: for an unknown name.
    """
    torch.manual_seed(seed)
    if name == "sliding window":
        return SlidingWindowClassifier(1, cfg.num_classes, cfg.patch_size, width=cfg.sw_width,
                                       hidden=cfg.sw_hidden)
    if name == "encoder-decoder":
        return EncoderDecoder(1, cfg.num_classes, cfg.base_channels)
    if name == "U-Net":
        return UNet(1, cfg.num_classes, cfg.base_channels)
    raise ValueError(f"unknown model {name!r}; use one of {MODEL_NAMES}")


def _optimiser(model: nn.Module, lr: float, steps: int):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    return opt, sched


def train_dense(model: nn.Module, train: Canvases, *, steps: int, batch_size: int, lr: float,
                device: torch.device | str = "cpu", seed: int = 0, progress: bool = True,
                desc: str = "train") -> dict[str, list]:
    """Train an :class:`EncoderDecoder` or :class:`UNet` with per-pixel cross-entropy.

    Batches are ``batch_size`` whole canvases (shuffled with a generator seeded by ``seed``);
    Adam with a cosine learning-rate decay from ``lr`` to 0 over ``steps``. Model and batches use
    PyTorch's ``channels_last`` memory layout (same maths; about 10% faster convolutions on a CPU).

    Returns:
        The history of :func:`course_lib.train.train_loop`: ``"loss"`` (one float per step),
        ``"_seconds"`` (wall-clock of training).
    """
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(train.dataset(), batch_size=batch_size, shuffle=True, drop_last=True, generator=g)
    model.to(device, memory_format=torch.channels_last).train()
    opt, sched = _optimiser(model, lr, steps)

    def step(batch):
        x, y = batch
        x = x.to(device, memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    return train_loop(step, loader, steps, desc=desc, progress=progress)


class PatchSampler:
    """An endless stream of random ``(patches, centre labels)`` batches from a set of canvases.

    Each batch draws ``batch_size`` pixels uniformly over all canvases and positions (so classes
    appear as often as in the per-pixel loss of the dense models) and cuts the
    ``patch_size x patch_size`` patch centred on each, with zero padding at the border -- the
    same patches :meth:`SlidingWindowClassifier.segment` classifies.

    Yields:
        ``patches`` ``float32 B x 1 x p x p`` in [0, 1] and ``labels`` ``int64 B`` in
        ``[0, canvases.num_classes)``.

    Raises:
        ValueError: for an even ``patch_size``.
    """

    def __init__(self, canvases: Canvases, patch_size: int, batch_size: int, seed: int = 0):
        if patch_size % 2 != 1:
            raise ValueError(f"patch_size must be odd, got {patch_size}")
        r = patch_size // 2
        self.padded = F.pad(canvases.images, (r, r, r, r))
        self.labels = canvases.labels
        self.patch_size, self.batch_size = patch_size, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch (see the class docstring)."""
        n, h, w = self.labels.shape
        g, b, p = self.generator, self.batch_size, self.patch_size
        idx = torch.randint(0, n, (b,), generator=g)
        ys = torch.randint(0, h, (b,), generator=g)
        xs = torch.randint(0, w, (b,), generator=g)
        offs = torch.arange(p)
        rows = (ys[:, None] + offs)[:, :, None]          # B x p x 1 (padded coordinates)
        cols = (xs[:, None] + offs)[:, None, :]          # B x 1 x p
        patches = self.padded[idx[:, None, None], 0, rows, cols][:, None]
        return patches, self.labels[idx, ys, xs]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        while True:
            yield self.sample()


def train_sliding_window(model: SlidingWindowClassifier, train: Canvases, *, steps: int, batch_size: int,
                         lr: float, device: torch.device | str = "cpu", seed: int = 0, progress: bool = True,
                         desc: str = "sliding window") -> dict[str, list]:
    """Train the patch classifier on ``steps`` batches of ``batch_size`` random patches (:class:`PatchSampler`).

    Same loss (cross-entropy of the centre pixel's label), optimiser and schedule as :func:`train_dense`.
    """
    seed_everything(seed)
    sampler = PatchSampler(train, model.patch_size, batch_size, seed=seed)
    model.to(device).train()
    opt, sched = _optimiser(model, lr, steps)

    def step(batch):
        x, y = batch
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    return train_loop(step, sampler, steps, desc=desc, progress=progress)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
            batch_size: int = 64) -> torch.Tensor:
    """Per-pixel logits ``float32 N x K x H x W`` (on the CPU) for images ``N x 1 x H x W`` in [0, 1].

    The sliding window classifies the patch around every pixel (:meth:`SlidingWindowClassifier.segment`,
    one image at a time); the dense models take ``batch_size`` images per forward pass.
    """
    model.to(device).eval()
    if isinstance(model, SlidingWindowClassifier):
        return model.segment(images.to(device)).cpu()
    return torch.cat([model(images[i:i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def seconds_per_image(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
                      batch_size: int = 64, repeats: int = 1) -> float:
    """Inference wall-clock per image of :func:`predict` over ``images`` (best of ``repeats``),
    after one warm-up call on two images. Depends on the machine and its load: compare models
    measured in the same run only."""
    predict(model, images[:2], device, batch_size)
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        predict(model, images, device, batch_size)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return best / len(images)


def count_macs(model: nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass of ``model`` on ``example``, summed over its batch.

    The model is run once in eval mode under ``torch.no_grad`` (its mode is restored). Counts ``Conv2d``, ``ConvTranspose2d`` and ``Linear`` layers (bias, norms, activations and
    pooling are ignored: they are a small share).
    """
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total += output.numel() * k
        elif isinstance(module, nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
            total += inputs[0].numel() * k
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return int(total)


def macs_per_image(model: nn.Module, size: int) -> int:
    """Multiply-accumulates to label one ``size x size`` image: one forward pass for the dense
    models, ``size**2`` patch classifications for the sliding window."""
    device = next(model.parameters()).device
    if isinstance(model, SlidingWindowClassifier):
        p = model.patch_size
        return count_macs(model, torch.zeros(1, model.in_channels, p, p, device=device)) * size * size
    return count_macs(model, torch.zeros(1, model.in_channels, size, size, device=device))


def redundancy(model: nn.Module) -> int:
    """How many times each (interior) input pixel is processed to label one image: the number of
    windows that contain it -- ``patch_size**2 = (2n-1)**2`` for the sliding window, 1 for a
    fully convolutional net, which sees the image once."""
    return model.redundancy() if isinstance(model, SlidingWindowClassifier) else 1


def windows_containing(row: int, col: int, size: int, patch_size: int) -> int:
    """Count, by brute force, the ``patch_size`` windows centred on the pixels of a ``size x size``
    image that contain pixel ``(row, col)``. Equals ``patch_size**2`` away from the border."""
    r = patch_size // 2
    centres = np.arange(size)
    rows = np.abs(centres - row) <= r
    cols = np.abs(centres - col) <= r
    return int(rows.sum() * cols.sum())


def convolutionalize(model: SlidingWindowClassifier) -> nn.Sequential:
    """The sliding-window classifier rewritten as a fully convolutional net (Long et al. 2015, sec. 3.1).

    Its convolutions run once on the zero-padded image; the first fully connected layer becomes a
    ``(p-6) x (p-6)`` convolution and the second a 1 x 1 convolution, with the same weights. The
    result maps ``N x C x H x W`` to logits ``N x classes x H x W`` equal (up to float rounding) to
    :meth:`SlidingWindowClassifier.segment`, without the redundant work. Shares no tensors with
    ``model`` (weights are copied).
    """
    fc1, fc2 = [m for m in model.classifier if isinstance(m, nn.Linear)]
    width = model.features[0].out_channels
    side = model.patch_size - 6
    conv1 = nn.Conv2d(width, fc1.out_features, side)
    conv1.weight.data.copy_(fc1.weight.data.reshape(fc1.out_features, width, side, side))
    conv1.bias.data.copy_(fc1.bias.data)
    conv2 = nn.Conv2d(fc2.in_features, fc2.out_features, 1)
    conv2.weight.data.copy_(fc2.weight.data[:, :, None, None])
    conv2.bias.data.copy_(fc2.bias.data)

    r = model.patch_size // 2
    return nn.Sequential(nn.ZeroPad2d(r), copy.deepcopy(model.features), conv1, nn.ReLU(), conv2).to(
        next(model.parameters()).device)


def evaluate(model: nn.Module, test: Canvases, device: torch.device | str = "cpu", batch_size: int = 64,
             max_distance: int = 3) -> dict:
    """Score a model on held-out canvases.

    Returns a dict:
        ``pixel_accuracy`` (float in [0, 1]); ``mean_iou`` (float in [0, 1], mean over the
        labels that occur in truth or prediction); ``per_class_iou`` (list of ``test.num_classes``
        floats, NaN for a label absent from both, background first); ``accuracy_by_distance``
        (list of ``max_distance + 1`` floats: accuracy at 0, 1, ... px from a label boundary, the
        last one farther); ``boundary_accuracy`` (its first element); ``seconds_per_image``
        (wall-clock of the prediction pass over ``test`` divided by its size, after a warm-up; the
        best of three passes when a pass is shorter than 2 s); ``macs_per_image``;
        ``redundancy``; ``parameters``; and ``prediction`` (``int64 N x H x W`` tensor of labels).
    """
    predict(model, test.images[:2], device, batch_size)  # warm-up
    _sync(device)
    start = time.perf_counter()
    logits = predict(model, test.images, device, batch_size)
    _sync(device)
    seconds = (time.perf_counter() - start) / len(test)
    if seconds * len(test) < 2.0:  # cheap to repeat: keep the best of three passes
        seconds = min(seconds, seconds_per_image(model, test.images, device, batch_size, repeats=2))
    pred = logits.argmax(1)
    by_dist = accuracy_by_boundary_distance(pred, test.labels, max_distance)
    return {
        "pixel_accuracy": pixel_accuracy(pred, test.labels),
        "mean_iou": mean_iou(pred, test.labels, test.num_classes),
        "per_class_iou": per_class_iou(pred, test.labels, test.num_classes).tolist(),
        "accuracy_by_distance": by_dist,
        "boundary_accuracy": by_dist[0],
        "seconds_per_image": seconds,
        "macs_per_image": macs_per_image(model, test.size),
        "redundancy": redundancy(model),
        "parameters": sum(p.numel() for p in model.parameters()),
        "prediction": pred,
    }


def table_row(name: str, scores: Mapping, history: Mapping) -> dict:
    """One plain-data row of the results table from :func:`evaluate`'s scores and a training history
    (NaN values become ``None``; the ``prediction`` tensor is left out)."""
    def plain(v):  # NaN (a label absent from truth and prediction) -> None, so the row is valid JSON
        if isinstance(v, list):
            return [plain(x) for x in v]
        return None if isinstance(v, float) and np.isnan(v) else v

    row = {"model": name}
    row.update({k: plain(v) for k, v in scores.items() if k != "prediction"})
    row["train_seconds"] = float(history["_seconds"][0])
    row["train_steps"] = len(history["loss"])
    row["final_loss"] = float(np.mean(history["loss"][-20:]))
    return row


def table_markdown(rows: list[Mapping]) -> str:
    """The results table as Markdown (for ``IPython.display.Markdown``)."""
    lines = ["| model | pixel accuracy | mean IoU | boundary accuracy | ms / image | MMAC / image "
             "| redundancy | parameters | training s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['pixel_accuracy']:.3f} | {r['mean_iou']:.3f} | "
                     f"{r['boundary_accuracy']:.3f} | {1000 * r['seconds_per_image']:.2f} | "
                     f"{r['macs_per_image'] / 1e6:,.0f} | {r['redundancy']} | {r['parameters']:,} | "
                     f"{r['train_seconds']:.1f} |")
    return "\n".join(lines)


def compare(rows: list[Mapping]) -> list[str]:
    """Sentences stating what a results table shows, computed from its numbers (no claim is
    hard-coded): the best model by each metric, U-Net minus encoder-decoder, and the sliding
    window's cost relative to the U-Net. Needs the three rows of :data:`MODEL_NAMES`."""
    r = {row["model"]: row for row in rows}
    missing = set(MODEL_NAMES) - set(r)
    if missing:
        raise ValueError(f"rows lack {sorted(missing)}")
    lines = []
    for key, label in (("pixel_accuracy", "pixel accuracy"), ("mean_iou", "mean IoU"),
                       ("boundary_accuracy", "boundary accuracy")):
        best = max(rows, key=lambda row: row[key])
        lines.append(f"Highest {label}: {best['model']} ({best[key]:.3f}).")
    u, e, s = r["U-Net"], r["encoder-decoder"], r["sliding window"]
    lines.append(
        f"U-Net minus encoder-decoder: pixel accuracy {u['pixel_accuracy'] - e['pixel_accuracy']:+.3f}, "
        f"mean IoU {u['mean_iou'] - e['mean_iou']:+.3f}, boundary accuracy "
        f"{u['boundary_accuracy'] - e['boundary_accuracy']:+.3f}; the skips cost "
        f"{u['macs_per_image'] / e['macs_per_image'] - 1:+.0%} multiply-adds.")
    lines.append(
        f"Sliding window vs U-Net: {s['seconds_per_image'] / u['seconds_per_image']:.0f}x the time per image, "
        f"{s['macs_per_image'] / u['macs_per_image']:.0f}x the multiply-adds, each pixel processed "
        f"{s['redundancy']} times instead of once; mean IoU {s['mean_iou'] - u['mean_iou']:+.3f}.")
    return lines


# ----------------------------------------------------------------------------- figures

def label_colors() -> np.ndarray:
    """RGB colours in [0, 1] of the 11 labels, ``float 11 x 3``: black background, then tab10."""
    import matplotlib

    tab10 = matplotlib.colormaps["tab10"].colors
    return np.array([(0.0, 0.0, 0.0)] + [tuple(c) for c in tab10])


def colorize(labels: torch.Tensor) -> np.ndarray:
    """Labels ``H x W`` (int, in [0, 11)) -> RGB image ``H x W x 3`` float in [0, 1]."""
    return label_colors()[labels.cpu().numpy()]


def _legend(fig, class_names) -> None:
    from matplotlib.patches import Patch

    colors = label_colors()
    fig.legend(handles=[Patch(color=colors[k], label=name) for k, name in enumerate(class_names)],
               loc="outside lower center", ncol=min(6, len(class_names)), fontsize=8, frameon=False)


def _blank(ax, title=None) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def show_canvases(canvases: Canvases, indices, size: float = 1.8):
    """Canvases (top row, grey) and their labels (bottom row, one colour per label); returns the figure."""
    import matplotlib.pyplot as plt

    indices = list(indices)
    fig, axes = plt.subplots(2, len(indices), figsize=(size * len(indices), 2 * size + 0.5), squeeze=False,
                             layout="constrained")
    for c, i in enumerate(indices):
        axes[0, c].imshow(canvases.images[i, 0].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[1, c].imshow(colorize(canvases.labels[i]), interpolation="nearest")
        _blank(axes[0, c], f"#{i} ({canvases.split})")
        _blank(axes[1, c])
    axes[0, 0].set_ylabel("image", fontsize=9)
    axes[1, 0].set_ylabel("labels", fontsize=9)
    _legend(fig, canvases.class_names)
    return fig


def show_predictions(test: Canvases, predictions: Mapping[str, torch.Tensor], indices, errors: bool = False,
                     size: float = 1.8):
    """Grid of held-out canvases: input, true labels, then each model's labels (one row per canvas).

    Args:
        predictions: model name -> ``int64 N x H x W`` labels of ``test``.
        indices: canvases to show.
        errors: draw each model's wrong pixels in white over its dimmed labels.

    Returns the matplotlib figure (a legend of the labels is drawn below).
    """
    import matplotlib.pyplot as plt

    indices = list(indices)
    cols = 2 + len(predictions)
    fig, axes = plt.subplots(len(indices), cols, figsize=(size * cols, size * len(indices) + 0.7), squeeze=False,
                             layout="constrained")
    for r, i in enumerate(indices):
        truth = test.labels[i]
        panels = [("input", test.images[i, 0].numpy(), "gray"), ("truth", colorize(truth), None)]
        for name, pred in predictions.items():
            img = colorize(pred[i])
            if errors:
                img = 0.35 * img
                img[(pred[i] != truth).numpy()] = 1.0
            panels.append((name, img, None))
        for c, (title, img, cmap) in enumerate(panels):
            axes[r, c].imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            _blank(axes[r, c], title if r == 0 else None)
        axes[r, 0].set_ylabel(f"#{i}", fontsize=9)
    if errors:
        fig.suptitle("wrong pixels in white", fontsize=10)
    _legend(fig, test.class_names)
    return fig


def disagreement(pred_a: torch.Tensor, pred_b: torch.Tensor, target: torch.Tensor,
                 where: torch.Tensor | None = None) -> tuple[int, int]:
    """Pixels that only ``a`` labels correctly and pixels that only ``b`` labels correctly.

    Args:
        pred_a, pred_b, target: ``int64 N x H x W`` labels.
        where: optional ``bool N x H x W`` mask: count only these pixels (e.g. those near a
            label boundary, from :func:`course_lib.metrics.boundary_distance`).

    Returns:
        ``(a_only, b_only)`` pixel counts.

    Raises:
        ValueError: if the shapes differ.
    """
    if not pred_a.shape == pred_b.shape == target.shape:
        raise ValueError(f"shapes differ: {tuple(pred_a.shape)}, {tuple(pred_b.shape)}, {tuple(target.shape)}")
    ok_a, ok_b = pred_a == target, pred_b == target
    keep = torch.ones_like(ok_a) if where is None else where.bool()
    if keep.shape != ok_a.shape:
        raise ValueError(f"where has shape {tuple(keep.shape)}, expected {tuple(ok_a.shape)}")
    return int((ok_a & ~ok_b & keep).sum()), int((ok_b & ~ok_a & keep).sum())


def show_disagreement(test: Canvases, pred_a: torch.Tensor, pred_b: torch.Tensor, indices,
                      names: tuple[str, str] = ("U-Net", "encoder-decoder"), size: float = 2.2):
    """Where two models differ, over the grey canvas: green = only ``a`` is right (what ``b`` loses),
    magenta = only ``b`` is right. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    indices = list(indices)
    fig, axes = plt.subplots(1, len(indices), figsize=(size * len(indices), size + 0.8), squeeze=False,
                             layout="constrained")
    green, magenta = np.array([0.1, 0.85, 0.1]), np.array([0.9, 0.1, 0.9])
    for c, i in enumerate(indices):
        grey = test.images[i, 0].numpy()
        img = np.repeat(0.6 * grey[:, :, None], 3, axis=2)
        ok_a = (pred_a[i] == test.labels[i]).numpy()
        ok_b = (pred_b[i] == test.labels[i]).numpy()
        img[ok_a & ~ok_b] = green
        img[ok_b & ~ok_a] = magenta
        axes[0, c].imshow(img, interpolation="nearest")
        _blank(axes[0, c], f"#{i}")
    fig.legend(handles=[Patch(color=green, label=f"only {names[0]} right"),
                        Patch(color=magenta, label=f"only {names[1]} right")],
               loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def plot_accuracy_by_distance(rows: list[Mapping], ax=None):
    """Line plot of each model's accuracy against distance from the nearest label boundary."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    for r in rows:
        acc = r["accuracy_by_distance"]
        ax.plot(range(len(acc)), acc, marker="o", label=r["model"])
    n = len(rows[0]["accuracy_by_distance"])
    ax.set_xticks(range(n), [str(d) for d in range(n - 1)] + [f">={n - 1}"])
    ax.set_xlabel("distance to the nearest label boundary (pixels)")
    ax.set_ylabel("pixel accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


# ----------------------------------------------------------------------------- everything

def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, **overrides) -> dict:
    """Train the three models on the same canvases and return the comparison as plain data.

    Args:
        profile: ``"fast"``, ``"full"``, a Profile, or ``None`` for the active one.
        seed: seeds the canvases, the initial weights and the batch order.
        progress: show progress bars.
        overrides: :class:`Config` fields to change, e.g. ``dense_steps=1000`` (see :func:`make_config`).

    Returns:
        ``{"profile", "device", "seed", "config": dict, "table": [...], "rows": [...],
        "class_names": list}``. ``table`` has one flat dict of scalars per model (the columns of
        :data:`TABLE_COLUMNS`, what ``python -m course_lib reproduce dense_prediction`` prints);
        ``rows`` has the full :func:`table_row` dicts (per-class IoU, accuracy by distance, ...).
        Only str, int, float, None, list and dict: valid JSON.
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P, **overrides)
    device = get_device()
    seed_everything(seed)
    train, test = make_data(cfg, seed)
    rows = []
    for name in MODEL_NAMES:
        model = build_model(name, cfg, seed)
        if name == "sliding window":
            hist = train_sliding_window(model, train, steps=cfg.sw_steps, batch_size=cfg.sw_batch, lr=cfg.sw_lr,
                                        device=device, seed=seed, progress=progress, desc=name)
        else:
            hist = train_dense(model, train, steps=cfg.dense_steps, batch_size=cfg.dense_batch, lr=cfg.lr,
                               device=device, seed=seed, progress=progress, desc=name)
        rows.append(table_row(name, evaluate(model, test, device, cfg.eval_batch), hist))
    table = [{k: r[k] for k in TABLE_COLUMNS} for r in rows]
    return {"profile": P.name, "device": str(device), "seed": seed, "config": cfg.as_dict(), "table": table,
            "rows": rows, "class_names": list(test.class_names)}
