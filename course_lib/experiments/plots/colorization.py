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


def show_colorizations(photos: HeldOutPhotos, predictions: dict, columns=None, size: float = 1.9,
                       indices=None):
    """One row per held-out photo: grey input, then the colourized versions, then the ground truth.

    Args:
        photos: held-out photos (:func:`course_lib.data.colorization.caltech_held_out`, ``kodak_held_out``).
        predictions: ``{model: {decoding: [ab per photo]}}`` for these photos, e.g.
            ``extras["predictions"]["Caltech test"]`` of :func:`~course_lib.experiments.colorization.evaluate`.
        columns: ``(title, (model, decoding))`` pairs; default :func:`figure_columns`, in the table's order:
            grey input / L2 / classification (annealed mean) / rebalanced (mean, annealed mean, mode) /
            ground truth.
        indices: which photos (rows), default all of them.
    """
    import matplotlib.pyplot as plt

    columns = columns or figure_columns(predictions)
    indices = list(range(len(photos.names))) if indices is None else list(indices)
    h, w = photos.L[indices[0]].shape[-2:]
    fig, axes = plt.subplots(len(indices), len(columns), figsize=(size * len(columns), size * len(indices) * h / w + 0.6),
                             squeeze=False, layout="constrained")
    for r, i in enumerate(indices):
        for c, (title, (model, decoding)) in enumerate(columns):
            rgb = color.lab_to_rgb_tensor(photos.L[i], predictions[model][decoding][i])[0]
            axes[r, c].imshow(rgb)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(title, fontsize=9)
        axes[r, 0].set_ylabel(photos.names[i], fontsize=8)
    return fig


TABLE_HEADERS = {"auc": "AuC raw", "auc_rebal": "AuC rebal", "mse": "ab MSE", "chroma": "chroma",
                 "chroma_vs_truth": "vs truth", "spread": "ab spread", "colourfulness": "H&S colourf.",
                 "judge_top1": "judge top-1"}


def table_markdown(rows: list, set_name: str = "Caltech test") -> str:
    """The rows of one photo set of :func:`~course_lib.experiments.colorization.evaluate` as a Markdown table
    (the judge's column only for the Caltech photos, which have classes)."""
    columns = ["model", "decoding", "auc", "auc_rebal", "mse", "chroma", "chroma_vs_truth", "spread", "colourfulness"]
    if set_name == "Caltech test":
        columns.append("judge_top1")
    return markdown_table([r for r in rows if r["set"] == set_name], columns,
                          digits={"mse": 0, "chroma": 1, "chroma_vs_truth": 2, "spread": 1, "colourfulness": 1},
                          headers=TABLE_HEADERS)


def compare(rows: list) -> list[str]:
    """Sentences about the Caltech table, computed from it by
    :func:`~course_lib.experiments.colorization.findings` (issue 12's goals)."""
    from ..colorization import _row, findings

    f = findings(rows)
    get = {m: _row(rows, "Caltech test", m) for m in ("grey", "L2", "classification", "rebalanced", "ground truth")}
    said = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    models = ("L2", "classification", "rebalanced")
    return [
        f"L2's mean chroma is {f['l2_chroma_ratio']:.2f} of the true photos' ({get['L2']['chroma']:.1f} vs "
        f"{get['ground truth']['chroma']:.1f}): the goal 'L2 is desaturated, at most 0.60' is {said(f['l2_desaturated'])}.",
        f"Rebalanced classification (annealed mean) has {f['rebalanced_vs_l2_chroma']:.2f}x L2's chroma and "
        f"{f['rebalanced_chroma_ratio']:.2f} of the truth's (goal at least 1.5x and within 25 %: "
        f"{said(f['rebalanced_colourful'])}).",
        f"Lowest ab MSE: {min(models, key=lambda m: get[m]['mse'])}; best raw AuC: "
        f"{max(models, key=lambda m: get[m]['auc'])}; best class-rebalanced AuC: "
        f"{max(models, key=lambda m: get[m]['auc_rebal'])} (the paper: L2, L2, rebalanced).",
        f"Semantic test (the photo judge's top-1 on 460 photos): grey {f['judge_grey']:.3f}, L2 {f['judge_L2']:.3f}, "
        f"classification {f['judge_classification']:.3f}, rebalanced {f['judge_rebalanced']:.3f}, true colour "
        f"{f['judge_ground_truth']:.3f}: grey < every colorization < truth "
        f"{'holds' if f['semantic_order'] else 'does NOT hold'}.",
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
