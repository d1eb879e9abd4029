"""Colorization scores (notebook 03): ab accuracy curve and AuC (Zhang et al. 2016, Sec. 3.1), ab MSE,
colourfulness (Hasler & Suesstrunk 2003).
"""
from __future__ import annotations

import numpy as np
import torch


def _ab_error(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
    if pred_ab.shape != true_ab.shape or pred_ab.ndim != 4 or pred_ab.shape[1] != 2:
        raise ValueError(f"expected two ab maps N x 2 x H x W of the same shape, got {tuple(pred_ab.shape)} "
                         f"and {tuple(true_ab.shape)}")
    return (pred_ab.double() - true_ab.double()).pow(2).sum(1).sqrt()


def ab_accuracy_curve(pred_ab: torch.Tensor, true_ab: torch.Tensor, max_threshold: float = 150.0,
                      step: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Share of pixels whose ab error (Euclidean distance in the ab plane, Lab units) is within each
    threshold 0, step, ..., max_threshold. Returns ``(thresholds, accuracy)``, float64 arrays in
    [0, max_threshold] and [0, 1].

    Notebook 03, section 5 ("Results on the held-out photos").
    """
    err = _ab_error(pred_ab, true_ab).flatten().cpu().numpy()
    thresholds = np.arange(0.0, max_threshold + step / 2, step)
    err.sort()
    accuracy = np.searchsorted(err, thresholds, side="right") / max(1, err.size)
    return thresholds, accuracy


def ab_accuracy_auc(pred_ab: torch.Tensor, true_ab: torch.Tensor, max_threshold: float = 150.0) -> float:
    """The raw-accuracy AuC of colorization (Zhang et al. 2016, Sec. 3.1, Table 1 "AuC, non-rebal"):
    the area under :func:`ab_accuracy_curve` for thresholds 0 to ``max_threshold`` (150), divided by
    ``max_threshold``, so 1.0 means every pixel exactly right.

    Notebook 03, section 5.

    Args:
        pred_ab, true_ab: ``float N x 2 x H x W`` in Lab units.

    Returns:
        A float in [0, 1].
    """
    t, acc = ab_accuracy_curve(pred_ab, true_ab, max_threshold)
    return float(np.trapezoid(acc, t) / max_threshold)


def ab_mse(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> float:
    """Mean squared error of the ab channels, in Lab units squared (mean over pixels and both channels).

    Notebook 03, section 5.
    """
    _ab_error(pred_ab, true_ab)
    return float((pred_ab.double() - true_ab.double()).pow(2).mean())


def colourfulness(rgb) -> float:
    """Colourfulness of an sRGB image (Hasler & Süsstrunk, "Measuring colourfulness in natural images",
    SPIE 2003, Eq. 3, the metric M^(3)).

    Notebook 03, section 5.

    With ``rg = R - G`` and ``yb = (R + G) / 2 - B`` on the 0-255 scale:
    ``M = sqrt(std_rg^2 + std_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)``. A grey image scores 0;
    the paper calls about 33 "moderately", 59 "quite" and 82 "highly" colourful.

    Args:
        rgb: one image ``H x W x 3`` (NumPy, ``uint8`` in [0, 255] or float in [0, 1]).

    Returns:
        A float >= 0.
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected one H x W x 3 image, got shape {arr.shape}")
    x = arr.astype(np.float64) if arr.dtype == np.uint8 else arr.astype(np.float64) * 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
