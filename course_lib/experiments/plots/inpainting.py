"""Figures of :mod:`course_lib.experiments.inpainting` (notebook 10, part 2)."""
from __future__ import annotations

from ..inpainting import METHODS


def show_examples(extras: dict, indices, methods=METHODS[1:]):
    """Figure: rows = held-out crops ``indices``, columns = masked input, each method, original.

    Args:
        extras: the second value :func:`course_lib.experiments.inpainting.evaluate` returns.
    """
    import matplotlib.pyplot as plt

    outputs = extras["outputs"]
    cols = ["masked", *[m for m in methods if m in outputs], "clean"]
    indices = list(indices)
    fig, axes = plt.subplots(len(indices), len(cols), figsize=(1.6 * len(cols), 1.7 * len(indices)), squeeze=False,
                             layout="constrained")
    for i, k in enumerate(indices):
        for j, c in enumerate(cols):
            axes[i, j].imshow(outputs[c][k].numpy().transpose(1, 2, 0).clip(0, 1))
            axes[i, j].set_axis_off()
            if i == 0:
                axes[i, j].set_title(c, fontsize=8)
    return fig


def held_out_curves(runs: dict, ax=None):
    """Figure: the score-vs-steps curve stored in each Context Encoder's weight file (``meta["held_out_curve"]``,
    see :func:`course_lib.experiments.inpainting.score_checkpoints`): hole PSNR on held-out Caltech photos after
    each checkpoint, with biharmonic inpainting on the same photos as a dashed line.

    Raises:
        KeyError: weights without a stored curve (trained by ``train`` alone; the curve is added after training).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    for member, run in runs.items():
        curve = run.meta["held_out_curve"]
        ax.plot(curve["step"], curve["hole_psnr"], "o-", label=f"CE ({member})")
    ax.axhline(curve["biharmonic_psnr"], color="grey", ls="--", label="biharmonic")
    ax.set_xlabel("training step")
    ax.set_ylabel("hole PSNR (dB)")
    ax.set_title(curve["images"], fontsize=8)
    ax.legend()
    return ax.figure
