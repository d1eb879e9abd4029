"""Colorization scores (notebook 03): ab accuracy curve and AuC (Zhang et al. 2016, Sec. 3.1), raw and
class-rebalanced, ab MSE, mean chroma, ab spread (a colourfulness a uniform colour cast cannot raise) and
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


def _pixel_weights(pixel_weights, err: torch.Tensor) -> np.ndarray | None:
    if pixel_weights is None:
        return None
    w = torch.as_tensor(pixel_weights)
    if w.shape != err.shape:
        raise ValueError(f"pixel_weights must have one weight per pixel, shape {tuple(err.shape)} (N x H x W), "
                         f"got {tuple(w.shape)}")
    w = w.double().flatten().cpu().numpy()
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("pixel_weights must be finite, non-negative and not all zero")
    return w


def ab_accuracy_curve(pred_ab: torch.Tensor, true_ab: torch.Tensor, max_threshold: float = 150.0,
                      step: float = 1.0, pixel_weights: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of pixels whose ab error (Euclidean distance in the ab plane, Lab units) is within each
    threshold 0, step, ..., max_threshold. Returns ``(thresholds, accuracy)``, float64 arrays in
    [0, max_threshold] and [0, 1].

    ``pixel_weights`` (``N x H x W``, non-negative): a weighted share instead, e.g. the inverse prior
    probability of each pixel's true colour bin for the class-rebalanced curve (:func:`class_rebalanced_weights`).

    Notebook 03, section 5 ("Results on the held-out photos").

    Raises:
        ValueError: ab maps of different shapes or not ``N x 2 x H x W``; weights of the wrong shape, negative,
            not finite or all zero.
    """
    err = _ab_error(pred_ab, true_ab)
    w = _pixel_weights(pixel_weights, err)
    err = err.flatten().cpu().numpy()
    thresholds = np.arange(0.0, max_threshold + step / 2, step)
    if step == 1.0 and max_threshold == len(thresholds) - 1:
        # whole thresholds: err <= t exactly when ceil(err) <= t, so a histogram of ceil(err) (pooled above the
        # last threshold) gives the same counts as sorting, in linear time
        bucket = np.minimum(np.ceil(err), len(thresholds)).astype(np.int64)
        counts = np.cumsum(np.bincount(bucket, weights=w, minlength=len(thresholds) + 1))[:len(thresholds)]
        return thresholds, counts / (max(1, err.size) if w is None else w.sum())
    if w is None:
        err.sort()
        return thresholds, np.searchsorted(err, thresholds, side="right") / max(1, err.size)
    order = np.argsort(err, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    return thresholds, cum[np.searchsorted(err[order], thresholds, side="right")] / cum[-1]


def ab_accuracy_auc(pred_ab: torch.Tensor, true_ab: torch.Tensor, max_threshold: float = 150.0,
                    pixel_weights: torch.Tensor | None = None) -> float:
    """The raw-accuracy AuC of colorization (Zhang et al. 2016, Sec. 3.1, Table 1 "AuC, non-rebal"):
    the area under :func:`ab_accuracy_curve` for thresholds 0 to ``max_threshold`` (150), divided by
    ``max_threshold``, so 1.0 means every pixel exactly right. With ``pixel_weights`` from
    :func:`class_rebalanced_weights`: the class-rebalanced AuC (Table 1 "AuC, rebal"), in which a pixel of a
    rare colour counts as much as all the pixels of a common one.

    Notebook 03, section 5.

    Args:
        pred_ab, true_ab: ``float N x 2 x H x W`` in Lab units.
        pixel_weights: ``N x H x W`` non-negative weights, or None (every pixel 1).

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: as :func:`ab_accuracy_curve`.
    """
    t, acc = ab_accuracy_curve(pred_ab, true_ab, max_threshold, pixel_weights=pixel_weights)
    return float(np.trapezoid(acc, t) / max_threshold)


def class_rebalanced_weights(true_ab: torch.Tensor, prior: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Per-pixel weights of the class-rebalanced accuracy (Zhang et al. 2016, Sec. 3.1): the inverse of the
    prior probability of each pixel's true colour bin, ``1 / prior[nearest bin]``.

    Args:
        true_ab: ``float N x 2 x H x W`` in Lab units.
        prior: ``Q`` probabilities of the bins, e.g. the smoothed training distribution
            (:func:`course_lib.color.smooth_distribution`); every bin a true pixel falls in must have p > 0.
        bins: ``float Q x 2`` bin centres (:func:`course_lib.color.ab_bins`).

    Returns:
        ``float64 N x H x W``, positive.

    Raises:
        ValueError: a prior of the wrong length, or a zero prior for a bin that a true pixel falls in.
    """
    from ..color import quantize_ab

    prior = torch.as_tensor(prior).double().cpu()
    if prior.shape != (len(bins),):
        raise ValueError(f"prior must have one probability per bin ({len(bins)}), got shape {tuple(prior.shape)}")
    p = prior[quantize_ab(true_ab, bins).cpu()]
    if (p <= 0).any():
        raise ValueError("a true pixel falls in a bin of zero prior probability: smooth the prior first "
                         "(course_lib.color.smooth_distribution)")
    return 1.0 / p


def mean_chroma(ab: torch.Tensor) -> float:
    """Mean chroma ``sqrt(a^2 + b^2)`` over all pixels of ``N x 2 x H x W`` ab maps (Lab units; 0 for grey).

    The issue-12 measure of desaturation: L2 regression predicts the mean of the plausible colours and is
    pulled towards grey (Zhang et al. 2016, Sec. 1). A uniform colour cast raises it too: read it beside
    :func:`ab_spread`.

    Raises:
        ValueError: not ``N x 2 x H x W``.
    """
    _ab_error(ab, ab)
    return float(ab.double().pow(2).sum(1).sqrt().mean())


def ab_spread(ab: torch.Tensor) -> float:
    """Colour variety within each image: ``sqrt(var(a) + var(b))`` over each image's pixels, averaged over the
    ``N`` images of ``N x 2 x H x W`` ab maps (Lab units; 0 for any single colour).

    Adding the same ab to every pixel (a uniform colour cast) leaves it unchanged, unlike :func:`mean_chroma`
    and the mean term of :func:`colourfulness`: a model cannot look colourful here by tinting everything.

    Raises:
        ValueError: not ``N x 2 x H x W``.
    """
    _ab_error(ab, ab)
    flat = ab.double().flatten(2)
    return float(flat.var(dim=2, unbiased=False).sum(1).sqrt().mean())


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
