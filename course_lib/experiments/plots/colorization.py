"""Figures and sentences of notebook 03 (:mod:`course_lib.experiments.colorization`).

Every function returns its figure (or axes) and draws nothing else.
"""
from __future__ import annotations

import numpy as np

from ... import color
from ...data.colorization import HeldOutPhotos
from ..common import markdown_table


def figure_columns(predictions: dict, all_decodings=("rebalanced",), decoding: str = "annealed mean") -> list:
    """The default columns of :func:`show_colorizations`, in the order of the table (the order of ``predictions``,
    which :func:`~course_lib.experiments.colorization.evaluate` fills in table order): every decoding of the
    models in ``all_decodings``, only ``decoding`` of the other classifiers, and the one column of the
    regression model and of the baselines.

    Returns:
        ``[(title, (model, decoding)), ...]``.
    """
    columns = []
    for model, by_decoding in predictions.items():
        for d in by_decoding:
            if d == "-" or model in all_decodings or d == decoding:
                title = "grey input" if model == "grey" else model if d == "-" else f"{model}\n({d})"
                columns.append((title, (model, d)))
    return columns


def show_colorizations(photos: HeldOutPhotos, predictions: dict, columns=None, size: float = 1.9):
    """One row per held-out photo: grey input, then the colourized versions, then the ground truth.

    Args:
        photos: the held-out photos (:func:`course_lib.data.colorization.held_out_photos`).
        predictions: ``{model: {decoding: [ab per photo]}}``, the ``"predictions"`` that
            :func:`~course_lib.experiments.colorization.evaluate` returns beside its rows.
        columns: ``(title, (model, decoding))`` pairs; default :func:`figure_columns`, in the table's order:
            grey input / L2 / classification (annealed mean) / rebalanced (mean, annealed mean, mode) /
            ground truth.
    """
    import matplotlib.pyplot as plt

    columns = columns or figure_columns(predictions)
    rows = len(photos.names)
    h, w = photos.L[0].shape[-2:]
    fig, axes = plt.subplots(rows, len(columns), figsize=(size * len(columns), size * rows * h / w + 0.6),
                             squeeze=False, layout="constrained")
    for r in range(rows):
        for c, (title, (model, decoding)) in enumerate(columns):
            rgb = color.lab_to_rgb_tensor(photos.L[r], predictions[model][decoding][r])[0]
            axes[r, c].imshow(rgb)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(title, fontsize=9)
        axes[r, 0].set_ylabel(photos.names[r], fontsize=9)
    return fig


def table_markdown(rows: list) -> str:
    """The rows of :func:`~course_lib.experiments.colorization.evaluate` as a Markdown table (AuC, colourfulness, its ratio to L2's, MSE)."""
    return markdown_table(rows, ("model", "decoding", "auc", "colourfulness", "colourfulness_vs_L2", "mse"),
                          digits={"colourfulness": 1, "colourfulness_vs_L2": 2, "mse": 0},
                          headers={"auc": "AuC (0-150)", "colourfulness_vs_L2": "vs L2", "mse": "ab MSE"})


def compare(rows: list, goal: float = 1.5) -> list[str]:
    """Sentences about the table, computed from it: the colourfulness ratio against the goal and which
    model has the lowest MSE."""
    get = {(r["model"], r["decoding"]): r for r in rows}
    reb, l2, truth = get[("rebalanced", "annealed mean")], get[("L2", "-")], get[("ground truth", "-")]
    ratio = reb["colourfulness"] / l2["colourfulness"]
    models = [r for r in rows if r["model"] not in ("grey", "ground truth")]
    best_mse = min(models, key=lambda r: r["mse"])
    best_auc = max(models, key=lambda r: r["auc"])
    return [
        f"Rebalanced classification (annealed mean) is {ratio:.2f}x as colourful as L2 "
        f"({reb['colourfulness']:.1f} vs {l2['colourfulness']:.1f}; the held-out photos themselves: "
        f"{truth['colourfulness']:.1f}): the goal of {goal}x is {'met' if ratio >= goal else 'missed'}.",
        f"Lowest ab MSE: {best_mse['model']} ({best_mse['decoding']}), {best_mse['mse']:.0f}; L2 has {l2['mse']:.0f}.",
        f"Highest AuC: {best_auc['model']} ({best_auc['decoding']}), {best_auc['auc']:.3f}; "
        f"L2 {l2['auc']:.3f}, grey (ab = 0) {get[('grey', '-')]['auc']:.3f}.",
    ]


def show_lab(rgb: np.ndarray, size: float = 2.6):
    """An RGB photo and its L, a and b channels side by side; returns the figure."""
    import matplotlib.pyplot as plt

    lab = color.rgb_to_lab(rgb)
    fig, axes = plt.subplots(1, 4, figsize=(4 * size, size * rgb.shape[0] / rgb.shape[1] + 0.5), layout="constrained")
    panels = [(rgb, "RGB", None, None), (lab[..., 0], "L (lightness, 0-100)", "gray", (0, 100)),
              (lab[..., 1], "a (green - / red +)", "RdYlGn_r", (-80, 80)),
              (lab[..., 2], "b (blue - / yellow +)", "coolwarm", (-80, 80))]
    for ax, (img, title, cmap, lim) in zip(axes, panels):
        ax.imshow(img, cmap=cmap, vmin=lim[0] if lim else None, vmax=lim[1] if lim else None)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_bins(values=None, L: float = 60.0, ax=None, title: str | None = None, log: bool = False):
    """The in-gamut ab bins as squares. Without ``values`` each square shows its own colour at lightness ``L``
    (out-of-gamut colours clipped); with ``values`` (``Q``) a colour map of them (log scale if ``log``)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    bins = color.AB_BINS
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    g = color.GRID_SIZE
    if values is None:
        lab = np.concatenate([np.full((len(bins), 1), L, np.float32), bins], 1)
        colours = color.lab_to_rgb(lab[:, None])[:, 0]
        ax.scatter(bins[:, 0], bins[:, 1], c=colours, marker="s", s=48, edgecolors="none")
    else:
        v = np.asarray(values, dtype=float)
        norm = LogNorm(vmin=max(v[v > 0].min(), 1e-6), vmax=v.max()) if log else None
        sc = ax.scatter(bins[:, 0], bins[:, 1], c=np.where(v > 0, v, np.nan) if log else v, marker="s", s=48,
                        cmap="viridis", norm=norm, edgecolors="none")
        plt.colorbar(sc, ax=ax, shrink=0.8)
    ax.set_xlabel("a (green - / red +)")
    ax.set_ylabel("b (blue - / yellow +)")
    ax.set_xlim(-100, 110)
    ax.set_ylim(-120, 100)
    ax.set_aspect("equal")
    ax.grid(alpha=0.2)
    ax.set_title(title or f"{len(bins)} in-gamut bins (grid {g})", fontsize=9)
    return ax
