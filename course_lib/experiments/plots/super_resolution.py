"""Figures of :mod:`course_lib.experiments.super_resolution` (notebook 10, part 1)."""
from __future__ import annotations

import numpy as np


def loss_curves(runs: dict, every: int = 10):
    """Figure: the L2 training loss of each member (log scale): for a run trained in this session its
    history, else what its weight file records -- the windowed means ``meta["loss_curve"]`` that
    :func:`course_lib.experiments.common.train` stores, or, in the files made before December 2026, every
    ``every``-th step in ``meta["loss"]``. Members without a curve are named in the title."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    missing = []
    for member, run in runs.items():
        history, stored = run.meta.get("history") or {}, run.meta.get("loss_curve") or {}
        if history.get("loss"):
            steps, curve = np.arange(1, len(history["loss"]) + 1), history["loss"]
        elif stored.get("loss"):
            steps, curve = np.asarray(stored["step"]), stored["loss"]
        elif run.meta.get("loss"):
            steps, curve = np.arange(len(run.meta["loss"])) * every, run.meta["loss"]
        else:
            missing.append(member)
            continue
        ax.plot(steps, curve, label=member)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("L2 loss (luma in [0, 1])")
    ax.legend()
    ax.set_title("SRCNN training loss" + (f" (no curve stored for {', '.join(missing)})" if missing else ""))
    return fig


def show_examples(extras: dict, member: str, window: int = 96, photos=None):
    """Figure: a ``window``-pixel detail of each held-out photo, bicubic | SRCNN | HR, PSNRs in the titles.

    Args:
        extras: the second value :func:`course_lib.experiments.super_resolution.evaluate` returns.
        member: ``"x2"``, ``"x3"``, ``"x4"`` or ``"x3_plain"``.
        photos: names of the photos to show (default: all).
    """
    import matplotlib.pyplot as plt

    images = extras["examples"][member]
    scores = {r["photo"]: r for r in extras["per_photo"] if r["scale"] == member}
    names = [p for p in images if photos is None or p in photos]
    fig, axes = plt.subplots(len(names), 3, figsize=(7, 2.4 * len(names)), squeeze=False, layout="constrained")
    for i, name in enumerate(names):
        up, sr, hr = images[name]
        y, x = (hr.shape[0] - window) // 2, (hr.shape[1] - window) // 2
        titles = (f"bicubic {scores[name]['bicubic_psnr']:.2f} dB", f"SRCNN {scores[name]['srcnn_psnr']:.2f} dB",
                  f"{name} (HR)")
        for j, (im, t) in enumerate(zip((up, sr, hr), titles)):
            axes[i, j].imshow(im[y:y + window, x:x + window], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[i, j].set_title(t, fontsize=8)
            axes[i, j].set_axis_off()
    fig.suptitle(f"{member}, luma, centre {window} x {window} pixels", fontsize=9)
    return fig


def held_out_curves(runs: dict, ax=None):
    """Figure: the score-vs-steps curve stored in each weight file (``meta["held_out_curve"]``, see
    :func:`course_lib.experiments.super_resolution.score_checkpoints`): the luma PSNR gain over bicubic on held-out
    Caltech photos after each checkpoint, one line per scale.

    Raises:
        KeyError: weights without a stored curve (trained by ``train`` alone; the curve is added after training).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    for member, run in runs.items():
        curve = run.meta["held_out_curve"]
        ax.plot(curve["step"], curve["gain_db"], "o-", label=member)
    ax.axhline(0, color="grey", ls="--", label="bicubic")
    ax.set_xlabel("training step")
    ax.set_ylabel("gain over bicubic (dB)")
    ax.set_title(curve["images"], fontsize=8)
    ax.legend()
    return ax.figure
