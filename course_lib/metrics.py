"""Metrics of the course.

* segmentation: pixel accuracy, IoU, accuracy by distance to a boundary (notebook 02);
* generated images judged by the course's Fashion-MNIST recognizer (notebooks 04-09): the recognizer
  score and the Fréchet recognizer distance;
* image quality (PSNR/SSIM via scikit-image, colourfulness, colorization AuC) is added by the notebooks
  that introduce it.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch


def _labels(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.ndim == target.ndim + 1:  # logits N x K x H x W
        pred = pred.argmax(1)
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    return pred.long().flatten(), target.long().flatten()


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``num_classes x num_classes`` int64 counts; row = true class, column = predicted class.

    Args:
        pred: class indices ``N x H x W`` (int) or logits ``N x K x H x W``.
        target: class indices ``N x H x W`` in ``[0, num_classes)``.
    """
    p, t = _labels(pred, target)
    if t.numel() and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(f"target labels must lie in [0, {num_classes}), got [{int(t.min())}, {int(t.max())}]")
    return torch.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def pixel_accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Share of pixels whose predicted class equals the target, in [0, 1]."""
    p, t = _labels(pred, target)
    return (p == t).double().mean().item()


def per_class_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Intersection over union per class, float64 ``num_classes``; NaN for a class absent from
    both prediction and target."""
    cm = confusion_matrix(pred, target, num_classes).double()
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(union, float("nan")))


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Mean of :func:`per_class_iou` over the classes that occur (Long et al. 2015, "mean IU")."""
    return torch.nanmean(per_class_iou(pred, target, num_classes)).item()


def boundary_distance(target: torch.Tensor, max_distance: int = 4) -> torch.Tensor:
    """Chessboard distance of each pixel to the nearest label boundary, capped at ``max_distance``.

    A *boundary pixel* (distance 0) has at least one of its 8 neighbours with a different label;
    both sides of an edge count. Distances grow by one per 3 x 3 dilation of the boundary; pixels
    farther than ``max_distance - 1`` (and pixels of images with a single label) get ``max_distance``.
    Used to ask where errors lie: near edges (fine detail) or inside regions.

    Args:
        target: class indices ``N x H x W`` (integer dtype).
        max_distance: cap (>= 1).

    Returns:
        ``int64`` tensor ``N x H x W`` in ``[0, max_distance]``.

    Raises:
        ValueError: for a target that is not ``N x H x W`` or ``max_distance < 1``.
    """
    import torch.nn.functional as F

    if target.ndim != 3:
        raise ValueError(f"target must be N x H x W class indices, got shape {tuple(target.shape)}")
    if max_distance < 1:
        raise ValueError(f"max_distance must be >= 1, got {max_distance}")
    t = target.double()[:, None]
    hi = F.max_pool2d(t, 3, stride=1, padding=1)
    lo = -F.max_pool2d(-t, 3, stride=1, padding=1)
    reached = (hi != lo).double()
    dist = torch.full(target.shape, max_distance, dtype=torch.int64, device=target.device)
    for d in range(max_distance):
        if d:
            reached = F.max_pool2d(reached, 3, stride=1, padding=1)
        dist[(reached[:, 0] > 0) & (dist == max_distance)] = d
    return dist


def accuracy_by_boundary_distance(pred: torch.Tensor, target: torch.Tensor, max_distance: int = 4) -> list[float]:
    """Pixel accuracy per distance band from the label boundaries of ``target``.

    Returns a list of ``max_distance + 1`` floats in [0, 1] (NaN for an empty band): element ``d``
    is the accuracy over pixels at chessboard distance ``d`` from the nearest boundary
    (see :func:`boundary_distance`); the last element covers all pixels ``>= max_distance`` away.
    Element 0 is the *boundary accuracy*: how well the fine detail is labelled.
    """
    p, t = _labels(pred, target)
    dist = boundary_distance(target.long(), max_distance).flatten()
    correct = (p == t).double()
    out = []
    for d in range(max_distance + 1):
        band = dist == d
        out.append(correct[band].mean().item() if band.any() else float("nan"))
    return out


# --- generated images judged by a recognizer (notebooks 04-09) -------------------------------------

@torch.no_grad()
def _batched(fn, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([fn(images[i:i + batch_size]).float().cpu() for i in range(0, len(images), batch_size)])


@torch.no_grad()
def recognizer_score(images: torch.Tensor, recognizer: torch.nn.Module, batch_size: int = 500) -> dict:
    """How a recognizer sees a set of images, in the spirit of the Inception Score (Salimans et al.
    2016) and the pix2pix FCN-score (Isola et al. 2017, Sec. 4.2).

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
    """Mean ``D`` and covariance ``D x D`` (float64) of features ``N x D`` (N >= 2)."""
    f = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be N x D with N >= 2, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


@torch.no_grad()
def frechet_recognizer_distance(images: torch.Tensor, reference: torch.Tensor, recognizer: torch.nn.Module,
                                batch_size: int = 500) -> float:
    """Fréchet distance between the recognizer features of ``images`` and of ``reference`` images.

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


# --- image restoration: PSNR / SSIM on the Y channel, masked errors (notebook 10) -----------------

def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """Luma ``Y`` of ITU-R BT.601 on the studio scale, as the super-resolution papers measure it.

    ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for ``R, G, B`` in [0, 1], i.e. ``Y`` in [16, 235]
    on the 0-255 scale (MATLAB's ``rgb2ycbcr``, used by Dong et al. 2016 for their Set5 tables). The
    conversion is scikit-image's ``skimage.color.rgb2ycbcr``, which implements this formula.

    Args:
        image: ``H x W x 3`` RGB, ``uint8`` in [0, 255] or float in [0, 1].

    Returns:
        ``float64 H x W`` in [16, 235].

    Raises:
        ValueError: for an image that is not ``H x W x 3``.
    """
    from skimage.color import rgb2ycbcr

    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"rgb_to_y expects an H x W x 3 RGB image, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float64) / 255.0
    return rgb2ycbcr(arr.astype(np.float64))[..., 0]


def _as_y255(image, name: str) -> np.ndarray:
    """``H x W`` float64 luma on the 0-255 scale from RGB (converted) or an already-luma array."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
        if image.ndim == 3 and image.shape[0] in (1, 3):  # C x H x W tensor
            image = image.transpose(1, 2, 0)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 3:
        return rgb_to_y(arr)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be H x W (luma) or H x W x 3 (RGB), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64)
    return arr.astype(np.float64) * 255.0


def _crop(y: np.ndarray, border: int) -> np.ndarray:
    if border < 0:
        raise ValueError(f"border must be >= 0, got {border}")
    if border == 0:
        return y
    if 2 * border >= min(y.shape):
        raise ValueError(f"border {border} leaves nothing of an image of shape {y.shape}")
    return y[border:-border, border:-border]


def psnr_y(prediction, target, border: int = 0) -> float:
    """PSNR in dB on the luma channel, after cropping ``border`` pixels from every side.

    The super-resolution convention (Dong et al., TPAMI 2016, Sec. 4; crop = the scale factor, since
    the outermost pixels of an upscaled image have no full neighbourhood): RGB images are converted
    to BT.601 luma ``Y`` in [16, 235] with :func:`rgb_to_y`; 2-D inputs are taken as luma already,
    ``uint8`` on the 0-255 scale or float in [0, 1] (multiplied by 255). Then
    ``10 log10(255^2 / MSE)`` by ``skimage.metrics.peak_signal_noise_ratio`` with ``data_range=255``.

    Args:
        prediction, target: same-shaped ``H x W x 3`` RGB or ``H x W`` luma (NumPy arrays, or tensors
            ``C x H x W``), ``uint8`` or float in [0, 1].
        border: pixels cropped from each side before measuring (>= 0).

    Returns:
        PSNR in dB (``inf`` for identical images).

    Raises:
        ValueError: for different shapes, or a border that leaves nothing.
    """
    from skimage.metrics import peak_signal_noise_ratio

    p, t = _as_y255(prediction, "prediction"), _as_y255(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    p, t = _crop(p, border), _crop(t, border)
    if np.array_equal(p, t):
        return float("inf")
    return float(peak_signal_noise_ratio(t, p, data_range=255.0))


def ssim_y(prediction, target, border: int = 0) -> float:
    """SSIM (Wang et al., IEEE TIP 2004) on the luma channel after cropping ``border`` pixels.

    Inputs as for :func:`psnr_y`. Uses ``skimage.metrics.structural_similarity`` with the paper's
    settings: an 11 x 11 Gaussian window of sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``, population
    covariances, ``data_range=255``. Returns a float in [-1, 1] (1 for identical images).
    """
    from skimage.metrics import structural_similarity

    p, t = _as_y255(prediction, "prediction"), _as_y255(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    p, t = _crop(p, border), _crop(t, border)
    return float(structural_similarity(t, p, data_range=255.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def psnr(prediction, target, data_range: float = 1.0) -> float:
    """Plain PSNR in dB over every pixel and channel (``skimage.metrics.peak_signal_noise_ratio``).

    Used for denoising (grey images in [0, 1], ``data_range=1``). Arrays or tensors of one shape.
    """
    from skimage.metrics import peak_signal_noise_ratio

    p = prediction.detach().cpu().numpy() if isinstance(prediction, torch.Tensor) else np.asarray(prediction)
    t = target.detach().cpu().numpy() if isinstance(target, torch.Tensor) else np.asarray(target)
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    return float(peak_signal_noise_ratio(t.astype(np.float64), p.astype(np.float64), data_range=data_range))


def masked_mse(prediction, target, mask) -> float:
    """Mean squared error over the pixels where ``mask`` is true (all channels), e.g. an inpainted hole.

    Args:
        prediction, target: float arrays or tensors of one shape, ``... x H x W`` or ``H x W x C``.
        mask: boolean (or 0/1) array broadcastable to them; true = pixel counted.

    Raises:
        ValueError: for an empty mask or shapes that do not match.
    """
    p = prediction.detach().cpu().double().numpy() if isinstance(prediction, torch.Tensor) else np.asarray(prediction, np.float64)
    t = target.detach().cpu().double().numpy() if isinstance(target, torch.Tensor) else np.asarray(target, np.float64)
    m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    m = np.broadcast_to(m.astype(bool), p.shape)
    if not m.any():
        raise ValueError("masked_mse got an empty mask")
    return float(((p - t) ** 2)[m].mean())


def masked_psnr(prediction, target, mask, data_range: float = 1.0) -> float:
    """PSNR in dB of :func:`masked_mse` (only the pixels where ``mask`` is true): the inpainting score
    of Pathak et al. 2016 (Sec. 5.1) is computed over the filled region."""
    mse = masked_mse(prediction, target, mask)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


# --- colorization (notebook 03) --------------------------------------------------------------------

def _ab_error(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
    if pred_ab.shape != true_ab.shape or pred_ab.ndim != 4 or pred_ab.shape[1] != 2:
        raise ValueError(f"expected two ab maps N x 2 x H x W of the same shape, got {tuple(pred_ab.shape)} "
                         f"and {tuple(true_ab.shape)}")
    return (pred_ab.double() - true_ab.double()).pow(2).sum(1).sqrt()


def ab_accuracy_curve(pred_ab: torch.Tensor, true_ab: torch.Tensor, max_threshold: float = 150.0,
                      step: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Share of pixels whose ab error (Euclidean distance in the ab plane, Lab units) is within each
    threshold 0, step, ..., max_threshold. Returns ``(thresholds, accuracy)``, float64 arrays in
    [0, max_threshold] and [0, 1]."""
    err = _ab_error(pred_ab, true_ab).flatten().cpu().numpy()
    thresholds = np.arange(0.0, max_threshold + step / 2, step)
    err.sort()
    accuracy = np.searchsorted(err, thresholds, side="right") / max(1, err.size)
    return thresholds, accuracy


def ab_accuracy_auc(pred_ab: torch.Tensor, true_ab: torch.Tensor, max_threshold: float = 150.0) -> float:
    """The raw-accuracy AuC of colorization (Zhang et al. 2016, Sec. 3.1, Table 1 "AuC, non-rebal"):
    the area under :func:`ab_accuracy_curve` for thresholds 0 to ``max_threshold`` (150), divided by
    ``max_threshold``, so 1.0 means every pixel exactly right.

    Args:
        pred_ab, true_ab: ``float N x 2 x H x W`` in Lab units.

    Returns:
        A float in [0, 1].
    """
    t, acc = ab_accuracy_curve(pred_ab, true_ab, max_threshold)
    return float(np.trapezoid(acc, t) / max_threshold)


def ab_mse(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> float:
    """Mean squared error of the ab channels, in Lab units squared (mean over pixels and both channels)."""
    _ab_error(pred_ab, true_ab)
    return float((pred_ab.double() - true_ab.double()).pow(2).mean())


def colourfulness(rgb) -> float:
    """Colourfulness of an sRGB image (Hasler & Süsstrunk, "Measuring colourfulness in natural images",
    SPIE 2003, Eq. 3, the metric M^(3)).

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


# --- sharpness of images (notebook 05: why VAE samples are blurrier than GAN samples) ----------------------

@torch.no_grad()
def sharpness(images: torch.Tensor) -> torch.Tensor:
    """Mean gradient magnitude of each image: the average over pixels of ``sqrt(gx^2 + gy^2)`` with Sobel
    derivatives (``skimage.filters.sobel`` convention: each derivative divided by 4, so a step edge of
    height 1 gives 1 at most), on images mapped to [0, 1].

    Blur spreads an edge over several pixels and lowers this number; a set of images with sharper edges
    scores higher. It measures edges, not realism: noise scores high too.

    Args:
        images: ``N x 1 x H x W`` float in [-1, 1].

    Returns:
        ``N`` float32 tensor >= 0.
    """
    import torch.nn.functional as F

    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"expected N x 1 x H x W images, got shape {tuple(images.shape)}")
    x = (images.float() + 1) / 2
    kx = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]], device=x.device) / 4
    k = torch.stack([kx, kx.T])[:, None]
    g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k)
    return g.pow(2).sum(1).sqrt().flatten(1).mean(1)

# --- image-to-image translation (notebooks 06-08) --------------------------------------------------

@torch.no_grad()
def recognizer_accuracy(images: torch.Tensor, labels: torch.Tensor, recognizer: torch.nn.Module,
                        classes: tuple[int, ...] | None = None, batch_size: int = 500) -> float:
    """Share of images the recognizer assigns to their intended class, in [0, 1] -- the manner of the
    pix2pix FCN-score (Isola et al. 2017, Sec. 4.2): a classifier trained on real images judges whether
    generated ones are recognizable as what they should be.

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


def pixel_scores(pred: torch.Tensor, target: torch.Tensor) -> dict:
    """Plain per-pixel agreement of images in [-1, 1]: mean absolute error (``"l1"``, in [0, 2]) and
    PSNR in dB over the whole set (``"psnr"``, by ``skimage.metrics.peak_signal_noise_ratio`` with
    data range 2). Pixel metrics reward blurry averages (Isola et al. 2017, Sec. 4.2), which is why
    they are reported beside a recognizer score, not alone."""
    from skimage.metrics import peak_signal_noise_ratio

    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    p, t = pred.detach().cpu().double().numpy(), target.detach().cpu().double().numpy()
    return {"l1": float(np.abs(p - t).mean()), "psnr": float(peak_signal_noise_ratio(t, p, data_range=2.0))}
