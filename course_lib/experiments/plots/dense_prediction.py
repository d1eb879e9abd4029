"""Figures and sentences of notebook 02 (:mod:`course_lib.experiments.dense_prediction`).

Label maps are drawn with one colour per label (:func:`label_colors`: black background, then tab10);
every function returns its figure (or axes) and draws nothing else.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ...data.canvas import Canvases
from ..dense_prediction import MEMBERS


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


def plot_training_losses(runs: Mapping, ax=None):
    """The training loss of each member (``{name: Run}``): its history when it was trained in this
    session, else the loss curve stored in its weight file (means over windows of steps); members with
    neither are named in the title. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    missing = []
    for name, run in runs.items():
        history, curve = run.meta.get("history"), run.meta.get("loss_curve")
        if history:
            ax.plot(np.arange(1, len(history["loss"]) + 1), history["loss"], label=name, alpha=0.8)
        elif curve:
            ax.plot(curve["step"], curve["loss"], label=name)
        else:
            missing.append(name)
    ax.set_xlabel("step")
    ax.set_ylabel("per-pixel cross-entropy")
    ax.legend()
    ax.set_title("training loss" + (f" (no curve stored for {', '.join(missing)})" if missing else ""))
    return ax


def table_markdown(rows: list[Mapping]) -> str:
    """The rows of :func:`~course_lib.experiments.dense_prediction.evaluate` as Markdown (for
    ``IPython.display.Markdown``); an unknown training time is a dash."""
    lines = ["| model | pixel accuracy | mean IoU | boundary accuracy | ms / image | MMAC / image "
             "| redundancy | parameters | training s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['pixel_accuracy']:.3f} | {r['mean_iou']:.3f} | "
                     f"{r['boundary_accuracy']:.3f} | {1000 * r['seconds_per_image']:.2f} | "
                     f"{r['macs_per_image'] / 1e6:,.0f} | {r['redundancy']} | {r['parameters']:,} | "
                     f"{_seconds(r.get('train_seconds'))} |")
    return "\n".join(lines)


def _seconds(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def compare(rows: list[Mapping]) -> list[str]:
    """Sentences stating what a results table shows, computed from its numbers (no claim is
    hard-coded): the best model by each metric, U-Net minus encoder-decoder, and the sliding
    window's cost relative to the U-Net. Needs the three rows of
    :data:`~course_lib.experiments.dense_prediction.MEMBERS`.

    Raises:
        ValueError: a member's row is missing.
    """
    r = {row["model"]: row for row in rows}
    missing = set(MEMBERS) - set(r)
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
