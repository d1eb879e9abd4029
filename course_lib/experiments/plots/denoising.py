"""Figures of :mod:`course_lib.experiments.denoising` (notebook 10, part 3)."""
from __future__ import annotations

from ...metrics import psnr


def show_examples(extras: dict, window: int = 96):
    """Figure: one row per noise level, clean | noisy | TV | NL-means | DnCNN (blind) | DnCNN-S (where scored)
    (centre ``window`` pixels of the first held-out photo), PSNRs in the titles.

    Args:
        extras: the second value :func:`course_lib.experiments.denoising.evaluate` returns.
    """
    import matplotlib.pyplot as plt

    examples = extras["examples"]
    keys = [k for k in ("clean", "noisy", "tv", "nl_means", "dncnn", "dncnn_s")
            if any(k in ex for ex in examples.values())]
    names = {"dncnn": "DnCNN blind", "dncnn_s": "DnCNN-S", "nl_means": "NL-means", "tv": "TV"}
    fig, axes = plt.subplots(len(examples), len(keys), figsize=(2 * len(keys), 2.1 * len(examples)), squeeze=False,
                             layout="constrained")
    for i, (sigma, ex) in enumerate(examples.items()):
        h, w = ex["clean"].shape
        y, x = (h - window) // 2, (w - window) // 2
        for j, k in enumerate(keys):
            if k not in ex:                      # no DnCNN-S net for this sigma
                axes[i, j].set_axis_off()
                continue
            im = ex[k]
            title = k if k == "clean" else f"{names.get(k, k)} {psnr(im, ex['clean'], data_range=1.0):.1f} dB"
            axes[i, j].imshow(im[y:y + window, x:x + window], cmap="gray", vmin=0, vmax=1)
            axes[i, j].set_title(f"σ={sigma}: {title}" if j == 0 else title, fontsize=8)
            axes[i, j].set_axis_off()
    return fig


def held_out_curve(meta: dict, ax=None, label: str = "DnCNN"):
    """Figure: the score-vs-steps curve stored in the weight file (``meta["held_out_curve"]``, see
    :func:`course_lib.experiments.denoising.score_checkpoints`): DnCNN's PSNR at the curve's sigma on held-out
    Caltech photos after each checkpoint, with non-local means on the same photos as a dashed line; ``label``
    names the net in the legend (e.g. ``"DnCNN-S, σ = 15"``).

    Raises:
        KeyError: weights without a stored curve (trained by ``train`` alone; the curve is added after training).
    """
    import matplotlib.pyplot as plt

    curve = meta["held_out_curve"]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    ax.plot(curve["step"], curve["psnr"], "o-", label=label)
    ax.axhline(curve["nl_means_psnr"], color="grey", ls="--", label="NL-means (told σ)")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"PSNR at σ = {curve['sigma']} (dB)")
    ax.set_title(curve["images"], fontsize=8)
    ax.legend()
    return ax.figure
