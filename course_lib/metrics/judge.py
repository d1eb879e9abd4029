"""Generated images judged by a recognizer trained on real images only (notebooks 04-09).

In the manner of the Inception Score (Salimans et al. 2016), the pix2pix FCN-score (Isola et al. 2017,
Sec. 4.2) and FID (Heusel et al. 2017) -- with the course's own Fashion-MNIST recognizer, so the numbers
are comparable only with each other.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch


@torch.no_grad()
def _batched(fn, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([fn(images[i:i + batch_size]).float().cpu() for i in range(0, len(images), batch_size)])


@torch.no_grad()
def recognizer_score(images: torch.Tensor, recognizer: torch.nn.Module, batch_size: int = 500) -> dict:
    """How a recognizer sees a set of images, in the spirit of the Inception Score (Salimans et al.
    2016) and the pix2pix FCN-score (Isola et al. 2017, Sec. 4.2).

    Taught in notebook 04, section 5 ("One score for every generator").

    Args:
        images: ``N x C x H x W`` float in [-1, 1] (what the recognizer expects, e.g.
            :class:`course_lib.models.recognizer.FashionRecognizer`), on any device.
        recognizer: a classifier returning logits ``N x K``; it is put in eval mode.

    Returns:
        ``{"confidence", "coverage_entropy", "coverage", "class_histogram"}``:

        * ``confidence`` -- mean over images of the top class probability, in [1/K, 1]: are the images
          recognizable as *some* class?
        * ``coverage_entropy`` -- entropy (nats) of the histogram of predicted classes, in [0, log K]:
          do the images cover all classes (low values mean mode collapse)?
        * ``coverage`` -- ``exp(coverage_entropy) / K`` in [1/K, 1], the effective share of classes;
        * ``class_histogram`` -- list of K shares of images assigned to each class.

    Raises:
        ValueError: for an empty batch.
    """
    if len(images) == 0:
        raise ValueError("recognizer_score needs at least one image")
    recognizer.eval()
    device = next(recognizer.parameters()).device
    logits = _batched(lambda x: recognizer(x.to(device)), images, batch_size)
    probs = logits.softmax(1)
    k = probs.shape[1]
    hist = torch.bincount(probs.argmax(1), minlength=k).double() / len(probs)
    nz = hist[hist > 0]
    entropy = float(-(nz * nz.log()).sum())
    return {"confidence": float(probs.max(1).values.mean()), "coverage_entropy": entropy,
            "coverage": math.exp(entropy) / k, "class_histogram": hist.tolist()}


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet (2-Wasserstein) distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2):
    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`` (Dowson & Landau 1982; the formula
    of FID, Heusel et al. 2017, Eq. 6). Uses ``scipy.linalg.sqrtm``; a tiny imaginary part from round-off
    is dropped. Returns a float >= 0 in squared feature units.

    Taught in notebook 04, section 5.

    Raises:
        ValueError: for mismatched shapes.
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
    if caught or not np.isfinite(covmean).all():
        # Singular product (e.g. a ReLU feature that is always 0): add a tiny ridge, as FID code does.
        eps = 1e-6 * np.eye(len(mu1))
        covmean = linalg.sqrtm((sigma1 + eps) @ (sigma2 + eps))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(max(0.0, diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)))


def feature_statistics(features: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``D`` and covariance ``D x D`` (float64) of features ``N x D`` (N >= 2).

    Notebook 04, section 5.
    """
    f = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be N x D with N >= 2, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


@torch.no_grad()
def frechet_recognizer_distance(images: torch.Tensor, reference: torch.Tensor, recognizer: torch.nn.Module,
                                batch_size: int = 500) -> float:
    """Fréchet distance between the recognizer features of ``images`` and of ``reference`` images.

    Taught in notebook 04, section 5; used in notebooks 05-09.

    The FID formula (Heusel et al. 2017) with the course's own recognizer in place of Inception-v3 --
    so the numbers are **not FID** and are comparable only with other numbers from the same recognizer
    and the same number of images (the estimate is biased upwards for small N; use N >= 1000 where
    possible, and the same N for every model compared).

    Args:
        images, reference: ``N x C x H x W`` float in [-1, 1]; typically generated samples and held-out
            real images (the Fashion-MNIST *test* split).
        recognizer: a model with a ``features(x) -> N x D`` method (e.g.
            :class:`course_lib.models.recognizer.FashionRecognizer`); it is put in eval mode.

    Returns:
        A float >= 0 (0 for identical feature statistics).
    """
    if not hasattr(recognizer, "features"):
        raise TypeError(f"{type(recognizer).__name__} has no features(x) method")
    recognizer.eval()
    device = next(recognizer.parameters()).device
    fa = _batched(lambda x: recognizer.features(x.to(device)), images, batch_size)
    fb = _batched(lambda x: recognizer.features(x.to(device)), reference, batch_size)
    return frechet_distance(*feature_statistics(fa), *feature_statistics(fb))


@torch.no_grad()
def recognizer_accuracy(images: torch.Tensor, labels: torch.Tensor, recognizer: torch.nn.Module,
                        classes: tuple[int, ...] | None = None, batch_size: int = 500) -> float:
    """Share of images the recognizer assigns to their intended class, in [0, 1] -- the manner of the
    pix2pix FCN-score (Isola et al. 2017, Sec. 4.2): a classifier trained on real images judges whether
    generated ones are recognizable as what they should be.

    Taught in notebook 06, section 5 (the objective ablation); used in notebooks 07-09.

    Args:
        images: ``N x C x H x W`` float in [-1, 1].
        labels: ``N`` int, indices into ``classes`` (or into all the recognizer's classes when None).
        classes: restrict the decision to these recognizer classes, e.g. the shoe classes ``(5, 7, 9)``:
            the argmax is taken over them only.
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (> 0), got {len(images)} and {len(labels)}")
    recognizer.eval()
    device = next(recognizer.parameters()).device
    logits = _batched(lambda x: recognizer(x.to(device)), images, batch_size)
    if classes is not None:
        logits = logits[:, list(classes)]
    return (logits.argmax(1) == labels.cpu()).double().mean().item()
