"""Colour for colorization (notebook 03): Lab conversion, the quantized ab space and its decoding.

After Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016 (cited below as *Zhang et al.*):

* :func:`rgb_to_lab` / :func:`lab_to_rgb` -- CIE Lab (D65) with scikit-image. The network sees ``L``
  (lightness, [0, 100]) and predicts ``ab`` (the two colour axes, roughly [-110, 110]).
* The output space (Zhang et al., Sec. 2.1): the ab plane cut into 10 x 10 squares (``GRID_SIZE``),
  centred on multiples of 10, keeping only the squares that some sRGB colour falls into. The paper
  gets Q = 313 bins from its data; we compute the in-gamut bins of sRGB ourselves
  (:func:`compute_in_gamut_bins`): **every 8-bit sRGB colour** (256^3 = 16.7 M colours) converted to Lab
  hits **Q = 261** bins, stored in :data:`AB_BINS`. Sampling the continuous cube more finely adds one
  bin, centred at (20, -80), that no 8-bit colour reaches (see the notebook); photos are 8-bit, so
  the course uses the 261.
* :func:`soft_encode` -- the ground truth as a distribution over the 5 nearest bins, weighted by a
  Gaussian of the distance (sigma = 5) (Zhang et al., Sec. 2.1, "soft-encoding scheme").
* :func:`rebalancing_weights` -- class rebalancing (Zhang et al., Sec. 2.2, Eq. 3-4): the empirical
  bin distribution, smoothed with a Gaussian (sigma = 5), mixed with uniform (lambda = 0.5),
  inverted, normalized so that its expectation under the smoothed distribution is 1.
* :func:`annealed_mean` and :func:`decode` -- from a distribution over bins back to one ab value per
  pixel (Zhang et al., Sec. 2.3, Eq. 5): the mean (T = 1), the mode (T -> 0) or the annealed mean
  (T = 0.38).

Tensor conventions: ab maps are ``float32 N x 2 x H x W`` in Lab units; distributions and logits
over bins are ``N x Q x H x W``; bin centres are ``float32 Q x 2`` (a, b).
"""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

GRID_SIZE = 10
"""Side of one ab bin in Lab units (Zhang et al. use 10)."""

SOFT_NEIGHBOURS = 5
SOFT_SIGMA = 5.0
REBALANCE_SIGMA = 5.0
REBALANCE_LAMBDA = 0.5
ANNEAL_T = 0.38

# The in-gamut bins of 8-bit sRGB, as computed by compute_in_gamut_bins(256): for each a-centre (in
# units of GRID_SIZE) the first and last b-centre; every b in between is in gamut (checked when computed).
_GAMUT_ROWS = {
    -9: (8, 8), -8: (4, 8), -7: (2, 9), -6: (0, 9), -5: (-2, 9), -4: (-3, 9), -3: (-4, 9), -2: (-4, 9),
    -1: (-5, 9), 0: (-6, 9), 1: (-7, 8), 2: (-7, 8), 3: (-8, 8), 4: (-9, 8), 5: (-9, 7), 6: (-10, 7),
    7: (-11, 7), 8: (-11, 7), 9: (-9, 0), 10: (-7, -5),
}


def _rows_to_bins(rows: dict) -> np.ndarray:
    pts = [(a, b) for a in sorted(rows) for b in range(rows[a][0], rows[a][1] + 1)]
    return np.array(pts, dtype=np.float32) * GRID_SIZE


AB_BINS = _rows_to_bins(_GAMUT_ROWS)
"""``float32 Q x 2``: the centres (a, b) of the in-gamut bins of 8-bit sRGB, sorted by a then b (Q = 261)."""


# ----------------------------------------------------------------------------- Lab

def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB to CIE Lab (D65) with ``skimage.color.rgb2lab``.

    Args:
        rgb: ``... x 3`` array, ``uint8`` in [0, 255] or float in [0, 1].

    Returns:
        ``float32 ... x 3``: L in [0, 100], a and b roughly in [-86, 98] and [-108, 95] for sRGB.

    Raises:
        ValueError: if the last axis is not 3 or a float image lies outside [0, 1].
    """
    from skimage.color import rgb2lab

    arr = np.asarray(rgb)
    if arr.shape[-1] != 3:
        raise ValueError(f"expected ... x 3 RGB values, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / np.float32(255.0)
    elif arr.size and (arr.min() < -1e-6 or arr.max() > 1 + 1e-6):
        raise ValueError(f"float RGB must lie in [0, 1], got [{arr.min():.3g}, {arr.max():.3g}]")
    # scikit-image computes in float32 when given float32: about 4x faster than float64 and within 2e-4 Lab units
    return rgb2lab(np.clip(arr, 0, 1).astype(np.float32, copy=False)).astype(np.float32, copy=False)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) to sRGB with ``skimage.color.lab2rgb``; returns ``float32 ... x 3`` in [0, 1].

    A predicted (L, a, b) can lie outside the sRGB gamut; it is clipped to [0, 1] (scikit-image's
    warning about negative Z values is silenced: clipping is what we want).
    """
    from skimage.color import lab2rgb

    arr = np.asarray(lab, dtype=np.float32)  # computed in float32 (as rgb_to_lab): within 1e-5 of float64
    if arr.shape[-1] != 3:
        raise ValueError(f"expected ... x 3 Lab values, got shape {arr.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.clip(lab2rgb(arr), 0, 1).astype(np.float32, copy=False)


def lab_tensors(rgb_images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of RGB images ``N x H x W x 3`` (uint8) to tensors ``L`` ``N x 1 x H x W`` in [0, 100]
    and ``ab`` ``N x 2 x H x W`` (Lab units), both ``float32``."""
    lab = rgb_to_lab(np.asarray(rgb_images))
    if lab.ndim == 3:
        lab = lab[None]
    t = torch.from_numpy(np.ascontiguousarray(lab.transpose(0, 3, 1, 2)))
    return t[:, :1].contiguous(), t[:, 1:].contiguous()


def lab_to_rgb_tensor(L: torch.Tensor, ab: torch.Tensor) -> np.ndarray:
    """``L`` ``N x 1 x H x W`` and ``ab`` ``N x 2 x H' x W'`` (resized bilinearly to ``H x W`` if they
    differ) to RGB images ``float32 N x H x W x 3`` in [0, 1]."""
    if ab.shape[-2:] != L.shape[-2:]:
        ab = F.interpolate(ab, size=L.shape[-2:], mode="bilinear", align_corners=False)
    lab = torch.cat([L, ab], 1).detach().float().cpu().numpy().transpose(0, 2, 3, 1)
    return lab_to_rgb(lab)


# ----------------------------------------------------------------------------- the quantized ab space

def compute_in_gamut_bins(levels: int = 256, grid_size: int = GRID_SIZE) -> np.ndarray:
    """The ab bins that some sRGB colour falls into, found by sampling the RGB cube.

    Every colour of a ``levels x levels x levels`` grid on the sRGB cube (``levels = 256``: all 8-bit
    colours) is converted to Lab; a bin is kept when the (a, b) of at least one colour lies in it.
    Bin ``(i, j)`` is the square ``[g*i - g/2, g*i + g/2) x [g*j - g/2, g*j + g/2)`` for grid size ``g``.

    Returns:
        ``float32 Q x 2`` bin centres, sorted by a then b. ``levels=256`` gives Q = 261 (:data:`AB_BINS`);
        64 levels give the same 261; 256 levels take about a minute and 1 GB of memory.
    """
    if levels < 2:
        raise ValueError(f"levels must be >= 2, got {levels}")
    g = np.arange(levels, dtype=np.float64) / (levels - 1)
    found = set()
    for r in g:  # one slice of the cube at a time keeps memory small
        gg, bb = np.meshgrid(g, g, indexing="ij")
        rgb = np.stack([np.full_like(gg, r), gg, bb], -1)
        ab = rgb_to_lab(rgb)[..., 1:].reshape(-1, 2)
        idx = np.floor((ab + grid_size / 2) / grid_size).astype(np.int64)
        found.update(map(tuple, np.unique(idx, axis=0).tolist()))
    return np.array(sorted(found), dtype=np.float32) * grid_size


def ab_bins(device=None) -> torch.Tensor:
    """:data:`AB_BINS` as a ``float32 Q x 2`` tensor on ``device``."""
    return torch.as_tensor(AB_BINS, device=device)


def _flat(ab: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    if ab.ndim != 4 or ab.shape[1] != 2:
        raise ValueError(f"expected ab maps N x 2 x H x W, got shape {tuple(ab.shape)}")
    n, _, h, w = ab.shape
    return ab.permute(0, 2, 3, 1).reshape(-1, 2), (n, h, w)


def nearest_bins(ab: torch.Tensor, bins: torch.Tensor, k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest bin centres of every pixel (Euclidean distance in the ab plane).

    Args:
        ab: ``float N x 2 x H x W`` in Lab units.
        bins: ``float Q x 2`` bin centres.
        k: how many neighbours (1 <= k <= Q).

    Returns:
        ``(index, distance)``: ``int64 N x k x H x W`` indices into ``bins``, nearest first, and
        ``float32 N x k x H x W`` distances.
    """
    flat, (n, h, w) = _flat(ab)
    if not 1 <= k <= len(bins):
        raise ValueError(f"k must be in [1, {len(bins)}], got {k}")
    d = torch.cdist(flat.float(), bins.to(flat).float())                # P x Q
    dist, idx = d.topk(k, dim=1, largest=False, sorted=True)          # P x k
    return (idx.reshape(n, h, w, k).permute(0, 3, 1, 2).contiguous(),
            dist.reshape(n, h, w, k).permute(0, 3, 1, 2).contiguous())


def quantize_ab(ab: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Index of the nearest bin of every pixel: ``int64 N x H x W`` (Zhang et al., Sec. 2.1, "hard" encoding).

    The same answer as ``nearest_bins(ab, bins, 1)``. When the bins are centres of the ``GRID_SIZE`` grid (as
    :data:`AB_BINS` are), the nearest grid point of a pixel is found by rounding, and it is the nearest bin
    whenever it is a bin; only the pixels whose nearest grid point is not a bin (outside the gamut's squares)
    are compared with every bin. About 10x faster on the training set than comparing every pixel with every bin.
    """
    flat, (n, h, w) = _flat(ab)
    bins = bins.to(flat.device).float()
    cells = torch.round(bins / GRID_SIZE)
    if len(bins) == 0 or not torch.equal(cells * GRID_SIZE, bins):
        return nearest_bins(ab, bins, 1)[0][:, 0]
    lo = cells.min(0).values.long()
    span = cells.max(0).values.long() - lo + 1
    table = torch.full((int(span[0]), int(span[1])), -1, dtype=torch.long, device=flat.device)
    table[cells[:, 0].long() - lo[0], cells[:, 1].long() - lo[1]] = torch.arange(len(bins), device=flat.device)
    at = torch.round(flat.float() / GRID_SIZE).long() - lo                   # P x 2: nearest grid point
    inside = ((at >= 0) & (at < span)).all(1)
    idx = torch.full((len(flat),), -1, dtype=torch.long, device=flat.device)
    idx[inside] = table[at[inside, 0], at[inside, 1]]
    rest = idx < 0
    if rest.any():
        idx[rest] = torch.cdist(flat[rest].float(), bins).argmin(1)
    return idx.reshape(n, h, w)


def soft_encode_sparse(ab: torch.Tensor, bins: torch.Tensor, k: int = SOFT_NEIGHBOURS,
                       sigma: float = SOFT_SIGMA) -> tuple[torch.Tensor, torch.Tensor]:
    """The soft encoding as ``k`` (index, weight) pairs per pixel: ``int64`` and ``float32 N x k x H x W``;
    weights ``exp(-d^2 / (2 sigma^2))`` over the ``k`` nearest bins, normalized to sum to 1."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    idx, dist = nearest_bins(ab, bins, k)
    weight = torch.softmax(-dist.float() ** 2 / (2 * sigma ** 2), dim=1)
    return idx, weight


def soft_encode(ab: torch.Tensor, bins: torch.Tensor, k: int = SOFT_NEIGHBOURS,
                sigma: float = SOFT_SIGMA) -> torch.Tensor:
    """Soft encoding of the ground truth (Zhang et al., Sec. 2.1).

    Each pixel's ab value becomes a distribution over the ``Q`` bins: non-zero on its ``k`` nearest
    bin centres, with weights proportional to a Gaussian of the distance, ``exp(-d^2 / (2 sigma^2))``,
    summing to 1.

    Args:
        ab: ``float N x 2 x H x W`` in Lab units.
        bins: ``float Q x 2`` bin centres.
        k: neighbours (Zhang et al.: 5). sigma: the Gaussian's width in Lab units (Zhang et al.: 5).

    Returns:
        ``float32 N x Q x H x W``, non-negative, summing to 1 over dimension 1.
    """
    idx, weight = soft_encode_sparse(ab, bins, k, sigma)
    n, _, h, w = idx.shape
    out = torch.zeros(n, len(bins), h, w, dtype=torch.float32, device=ab.device)
    return out.scatter_(1, idx, weight)


def bin_distribution(ab: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Empirical distribution of the nearest bins over all pixels of ``ab`` (``N x 2 x H x W``):
    ``float64 Q``, summing to 1."""
    counts = torch.bincount(quantize_ab(ab, bins).flatten(), minlength=len(bins)).double()
    return counts / counts.sum()


def smooth_distribution(p: torch.Tensor, bins: torch.Tensor, sigma: float = REBALANCE_SIGMA) -> torch.Tensor:
    """Smooth a distribution over the bins with a Gaussian of width ``sigma`` (Lab units) in the ab plane.

    Each bin's mass is spread over the in-gamut bins with weights ``exp(-|c_q - c_r|^2 / (2 sigma^2))``,
    normalized per source bin, so the result still sums to 1 (no mass leaks out of the gamut).
    Returns ``float64 Q``.
    """
    c = bins.double()
    kernel = torch.exp(-torch.cdist(c, c) ** 2 / (2 * sigma ** 2))   # Q (to) x Q (from)
    kernel = kernel / kernel.sum(0, keepdim=True)
    return kernel @ p.double()


def rebalancing_weights(p: torch.Tensor, bins: torch.Tensor, sigma: float = REBALANCE_SIGMA,
                        lam: float = REBALANCE_LAMBDA) -> torch.Tensor:
    """Class-rebalancing weights (Zhang et al., Sec. 2.2, Eq. 4).

    ``w ∝ ((1 - lam) * p_smooth + lam / Q) ** -1``, scaled so that ``sum_q p_smooth[q] * w[q] = 1``
    (the expected weight of a pixel drawn from the smoothed distribution is 1).

    Args:
        p: ``Q`` empirical bin distribution (e.g. :func:`bin_distribution` of the training images).
        bins: ``Q x 2`` bin centres (for the smoothing).
        sigma: width of the Gaussian smoothing in Lab units (Zhang et al.: 5).
        lam: weight of the uniform distribution in the mix (Zhang et al.: 0.5).

    Returns:
        ``float32 Q``, positive; rare colours get large weights.

    Raises:
        ValueError: for ``lam`` outside (0, 1] or a ``p`` of the wrong length.
    """
    if not 0 < lam <= 1:
        raise ValueError(f"lam must be in (0, 1], got {lam}")
    if p.shape != (len(bins),):
        raise ValueError(f"p must have one entry per bin ({len(bins)}), got shape {tuple(p.shape)}")
    p_smooth = smooth_distribution(p.double() / p.double().sum(), bins, sigma)
    w = 1.0 / ((1 - lam) * p_smooth + lam / len(bins))
    return (w / (p_smooth * w).sum()).float()


# ----------------------------------------------------------------------------- decoding

def annealed_mean(probs: torch.Tensor, bins: torch.Tensor, T: float = ANNEAL_T) -> torch.Tensor:
    """Annealed mean of a distribution over the bins (Zhang et al., Sec. 2.3, Eq. 5).

    ``f_T(z) = exp(log z / T) / sum_q exp(log z_q / T)``, then ``ab = sum_q f_T(z)_q * c_q``.
    ``T = 1`` gives the mean, ``T -> 0`` the mode; 0.38 keeps the mean's smoothness and much of the
    mode's vividness.

    Args:
        probs: ``float N x Q x H x W``, non-negative, summing to 1 over dimension 1.
        bins: ``float Q x 2`` bin centres.
        T: temperature (> 0).

    Returns:
        ``float32 N x 2 x H x W`` ab values.
    """
    if T <= 0:
        raise ValueError(f"T must be positive, got {T}")
    log_p = torch.log(probs.float().clamp_min(1e-30))
    return expectation(torch.softmax(log_p / T, dim=1), bins)


def expectation(probs: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """``sum_q probs_q * c_q``: ``N x Q x H x W`` probabilities to ``float32 N x 2 x H x W`` ab values."""
    if probs.ndim != 4 or probs.shape[1] != len(bins):
        raise ValueError(f"expected N x {len(bins)} x H x W probabilities, got shape {tuple(probs.shape)}")
    n, q, h, w = probs.shape
    # one matrix product per image (2 x Q times Q x HW); the same sums as einsum("nqhw,qc->nchw"), about 15x faster
    return torch.matmul(bins.to(probs.device).float().T, probs.float().reshape(n, q, h * w)).reshape(n, 2, h, w)


DECODINGS = ("mean", "annealed mean", "mode")


def decode(logits: torch.Tensor, bins: torch.Tensor, method: str = "annealed mean", T: float = ANNEAL_T) -> torch.Tensor:
    """ab values ``float32 N x 2 x H x W`` from logits ``N x Q x H x W`` over the bins.

    ``method``: ``"mean"`` (expectation of the softmax), ``"annealed mean"`` (:func:`annealed_mean`
    at temperature ``T``) or ``"mode"`` (centre of the most probable bin).
    """
    if method == "mode":
        return bins.to(logits.device).float()[logits.argmax(1)].permute(0, 3, 1, 2).contiguous()
    if method == "mean":
        return expectation(torch.softmax(logits.float(), 1), bins)
    if method == "annealed mean":
        return expectation(torch.softmax(logits.float() / T, 1), bins)  # = annealed_mean(softmax(logits))
    raise ValueError(f"method must be one of {DECODINGS}, got {method!r}")
