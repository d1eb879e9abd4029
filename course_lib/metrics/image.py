"""Image-quality scores: PSNR and SSIM (on RGB, grey or BT.601 luma, with a border crop or a mask),
masked MSE, sharpness, and the pixel scores of the translation notebooks.

One function per concept: :func:`psnr` is the only PSNR of the course (notebook 10, "Measuring restoration";
notebooks 06-09 use it through :func:`pixel_scores`), :func:`ssim` the only SSIM. The arithmetic is
scikit-image's (``skimage.metrics``); what this module adds is the conventions of the papers the course
reproduces: luma of ITU-R BT.601 on the studio scale and a border of ``scale`` pixels cropped
(super-resolution, Dong et al. TPAMI 2016, Sec. 4), and PSNR over the hole only (inpainting, Pathak et
al. 2016, Sec. 5.1).
"""
from __future__ import annotations

import numpy as np
import torch


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """Luma ``Y`` of ITU-R BT.601 on the studio scale, as the super-resolution papers measure it.

    Taught in notebook 10, section 1 ("Measuring: PSNR on the Y channel, with a border crop").

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


def _as_array(image, name: str, channels_last: bool = False) -> np.ndarray:
    """NumPy view of an array or tensor; with ``channels_last`` a 3-D tensor ``C x H x W`` with C in (1, 3)
    becomes ``H x W x C`` (the layout of :func:`rgb_to_y`)."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
        if channels_last and image.ndim == 3 and image.shape[0] in (1, 3):
            image = image.transpose(1, 2, 0)
    arr = np.asarray(image)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def _check_range(arr: np.ndarray, data_range: float, name: str) -> None:
    if not data_range > 0:
        raise ValueError(f"data_range must be positive (1.0 for images in [0, 1], 255 for uint8), got {data_range}")
    if arr.dtype == np.uint8 and data_range != 255:
        raise ValueError(f"{name} is uint8 (0-255) but data_range={data_range}: pass data_range=255")


def _luma255(arr: np.ndarray, data_range: float, name: str) -> np.ndarray:
    """``H x W`` float64 luma on the 0-255 scale from RGB ``H x W x 3`` in [0, data_range] (BT.601 by
    :func:`rgb_to_y`) or from a luma image ``H x W`` (or ``H x W x 1``) in [0, data_range]."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 3:
        return rgb_to_y(arr.astype(np.float64) / data_range)
    if arr.ndim != 2:
        raise ValueError(f"with luma=True, {name} must be H x W (luma) or H x W x 3 / 3 x H x W (RGB), "
                         f"got shape {arr.shape}")
    scale = 255.0 / data_range
    return arr.astype(np.float64) if scale == 1.0 else arr.astype(np.float64) * scale


def _prepare(prediction, target, data_range: float, luma: bool, border: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Both images as float64 arrays of one shape (luma if asked, border cropped) and the peak value."""
    p, t = _as_array(prediction, "prediction", luma), _as_array(target, "target", luma)
    _check_range(p, data_range, "prediction")
    _check_range(t, data_range, "target")
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    if luma:
        p, t, peak = _luma255(p, data_range, "prediction"), _luma255(t, data_range, "target"), 255.0
    else:
        p, t, peak = p.astype(np.float64), t.astype(np.float64), float(data_range)
    if border:
        if p.ndim != 2:
            raise ValueError(f"border cropping needs single-channel images (H x W) or luma=True, got shape {p.shape}")
        p, t = _crop(p, border), _crop(t, border)
    return p, t, peak


def _crop(y: np.ndarray, border: int) -> np.ndarray:
    if border < 0:
        raise ValueError(f"border must be >= 0, got {border}")
    if border == 0:
        return y
    if 2 * border >= min(y.shape):
        raise ValueError(f"border {border} leaves nothing of an image of shape {y.shape}")
    return y[border:-border, border:-border]


def psnr(prediction, target, *, data_range: float, luma: bool = False, border: int = 0, mask=None) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(peak^2 / MSE)``.

    Taught in notebook 10, section 1; used by every restoration table (notebook 10) and, through
    :func:`pixel_scores`, by notebooks 06-09.

    The one PSNR of the course. Conventions, as the papers measure:

    * plain (denoising, notebook 10; translation through :func:`pixel_scores`): every pixel and channel,
      ``peak = data_range``;
    * ``luma=True`` (super-resolution, Dong et al. TPAMI 2016, Sec. 4): RGB converted to BT.601 luma in
      [16, 235] on the 0-255 scale (:func:`rgb_to_y`; 2-D inputs are luma already), ``peak = 255``;
    * ``border = s``: ``s`` pixels cropped from every side first (the super-resolution convention crops
      the scale factor);
    * ``mask`` (inpainting, Pathak et al. 2016, Sec. 5.1): only the pixels where ``mask`` is true count.

    Args:
        prediction, target: arrays or tensors of one shape: ``H x W``, ``H x W x C``, ``C x H x W``
            (tensors), or batches ``N x C x H x W`` (plain only). Values in [0, data_range] (or
            [-1, 1] with ``data_range=2`` for plain PSNR); ``uint8`` needs ``data_range=255``.
        data_range: width of the value range (1.0 for [0, 1], 255 for uint8, 2.0 for [-1, 1]); required,
            because a wrong range shifts every PSNR by a constant.
        luma: measure on BT.601 luma (images in [0, data_range]).
        border: pixels cropped from each side (>= 0); needs luma or 2-D images.
        mask: boolean (or 0/1) array or tensor broadcastable to the (luma) images; true = counted.

    Returns:
        PSNR in dB (``inf`` for identical images).

    Raises:
        ValueError: different shapes, a non-positive ``data_range``, uint8 with another range, a border
            that leaves nothing, an empty mask.
    """
    from skimage.metrics import peak_signal_noise_ratio

    p, t, peak = _prepare(prediction, target, data_range, luma, border)
    if mask is not None:
        mse = _masked_mse(p, t, mask)
        return float("inf") if mse == 0 else float(10 * np.log10(peak ** 2 / mse))
    if np.array_equal(p, t):
        return float("inf")
    return float(peak_signal_noise_ratio(t, p, data_range=peak))


def ssim(prediction, target, *, data_range: float, luma: bool = False, border: int = 0) -> float:
    """SSIM (Wang et al., IEEE TIP 2004) of single-channel images, or of the luma of RGB images.

    Taught in notebook 10, section 1 (super-resolution table, section 2).

    Inputs and conventions as for :func:`psnr` (``luma``, ``border``). Uses
    ``skimage.metrics.structural_similarity`` with the paper's settings: an 11 x 11 Gaussian window of
    sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``, population covariances.

    Returns:
        A float in [-1, 1] (1 for identical images).

    Raises:
        ValueError: as :func:`psnr`, and for multi-channel images without ``luma``.
    """
    from skimage.metrics import structural_similarity

    p, t, peak = _prepare(prediction, target, data_range, luma, border)
    if p.ndim != 2:
        raise ValueError(f"ssim measures single-channel images (H x W) or luma=True, got shape {p.shape}")
    return float(structural_similarity(t, p, data_range=peak, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def _masked_mse(p: np.ndarray, t: np.ndarray, mask) -> float:
    m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    try:
        m = np.broadcast_to(m.astype(bool), p.shape)
    except ValueError:
        raise ValueError(f"mask of shape {m.shape} does not broadcast to the images' shape {p.shape}") from None
    if not m.any():
        raise ValueError("the mask is empty (no pixel is true): nothing to measure")
    return float(((p - t) ** 2)[m].mean())


def masked_mse(prediction, target, mask) -> float:
    """Mean squared error over the pixels where ``mask`` is true (all channels), e.g. an inpainted hole.

    Used in notebook 10, section 3 (inpainting, the hole only).

    Args:
        prediction, target: float arrays or tensors of one shape, ``... x H x W`` or ``H x W x C``.
        mask: boolean (or 0/1) array broadcastable to them; true = pixel counted.

    Raises:
        ValueError: for an empty mask or shapes that do not match.
    """
    p = _as_array(prediction, "prediction").astype(np.float64)
    t = _as_array(target, "target").astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"prediction {p.shape} and target {t.shape} differ in shape")
    return _masked_mse(p, t, mask)


@torch.no_grad()
def sharpness(images: torch.Tensor) -> torch.Tensor:
    """Mean gradient magnitude of each image: the average over pixels of ``sqrt(gx^2 + gy^2)`` with Sobel
    derivatives (``skimage.filters.sobel`` convention: each derivative divided by 4, so a step edge of
    height 1 gives 1 at most), on images mapped to [0, 1].

    Taught in notebook 05, section 6 ("Why are VAE samples blurrier than GAN samples?"); used in notebook 09, section 5.

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


def pixel_scores(pred: torch.Tensor, target: torch.Tensor) -> dict:
    """Plain per-pixel agreement of images in [-1, 1]: mean absolute error (``"l1"``, in [0, 2]) and
    :func:`psnr` in dB over the whole set (``"psnr"``, ``data_range=2``). Pixel metrics reward blurry
    averages (Isola et al. 2017, Sec. 4.2), which is why they are reported beside a recognizer score,
    not alone.

    Used in notebooks 06-08 (the pix2pix, PatchGAN and CycleGAN tables).
    """
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    p, t = pred.detach().cpu().double().numpy(), target.detach().cpu().double().numpy()
    return {"l1": float(np.abs(p - t).mean()), "psnr": psnr(p, t, data_range=2.0)}
