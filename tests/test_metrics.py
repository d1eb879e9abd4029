"""The one PSNR and SSIM of the course (course_lib.metrics.image), checked against hand computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2ycbcr

from course_lib.metrics import masked_mse, pixel_scores, psnr, rgb_to_y, ssim


def _mse_psnr(p, t, peak):
    return 10 * math.log10(peak ** 2 / np.mean((np.asarray(p, np.float64) - np.asarray(t, np.float64)) ** 2))


def test_plain_psnr_by_hand_in_every_value_range():
    rng = np.random.default_rng(0)
    t = rng.random((2, 3, 8, 8))
    p = np.clip(t + rng.normal(0, 0.05, t.shape), 0, 1)
    expected = _mse_psnr(p, t, 1.0)
    assert psnr(p, t, data_range=1.0) == pytest.approx(expected, abs=1e-9)
    assert psnr(torch.tensor(p), torch.tensor(t), data_range=1.0) == pytest.approx(expected, abs=1e-9)
    # [-1, 1] images: twice the errors over twice the range, the same PSNR
    assert psnr(2 * p - 1, 2 * t - 1, data_range=2.0) == pytest.approx(expected, abs=1e-9)
    u8p, u8t = (p * 255).round().astype(np.uint8), (t * 255).round().astype(np.uint8)
    assert psnr(u8p, u8t, data_range=255) == pytest.approx(_mse_psnr(u8p, u8t, 255.0), abs=1e-9)
    assert psnr(t, t, data_range=1.0) == math.inf


def test_luma_psnr_is_bt601_on_the_0_255_scale_with_a_border():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    ya, yb = rgb2ycbcr(a / 255.0)[..., 0], rgb2ycbcr(b / 255.0)[..., 0]
    assert psnr(b, a, data_range=255, luma=True, border=2) == pytest.approx(
        _mse_psnr(yb[2:-2, 2:-2], ya[2:-2, 2:-2], 255.0), abs=1e-9)
    # the same images as floats in [0, 1], and as C x H x W tensors, give the same number
    same = [psnr(b / 255.0, a / 255.0, data_range=1.0, luma=True, border=2),
            psnr(torch.tensor(b / 255.0).permute(2, 0, 1), torch.tensor(a / 255.0).permute(2, 0, 1), data_range=1.0,
                 luma=True, border=2)]
    assert same == pytest.approx([psnr(b, a, data_range=255, luma=True, border=2)] * 2, abs=1e-9)
    # a 2-D input is luma already (float in [0, 1] -> times 255)
    assert psnr(yb / 255, ya / 255, data_range=1.0, luma=True) == pytest.approx(_mse_psnr(yb, ya, 255.0), abs=1e-9)
    assert rgb_to_y(a).min() >= 16 and rgb_to_y(a).max() <= 235


def test_masked_psnr_counts_only_the_hole():
    t = torch.zeros(1, 3, 6, 6)
    p = t.clone()
    p[..., 2:4, 2:4] = 0.5  # error only inside the hole
    p[..., 0, 0] = 1.0  # and one pixel outside it
    mask = torch.zeros(1, 1, 6, 6, dtype=torch.bool)
    mask[..., 2:4, 2:4] = True
    assert masked_mse(p, t, mask) == pytest.approx(0.25)
    assert psnr(p, t, data_range=1.0, mask=mask) == pytest.approx(10 * math.log10(1 / 0.25))
    assert psnr(p, t, data_range=2.0, mask=mask) == pytest.approx(10 * math.log10(4 / 0.25))
    assert psnr(t, t, data_range=1.0, mask=mask) == math.inf


def test_ssim_of_luma():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    assert ssim(a, a, data_range=255, luma=True, border=2) == pytest.approx(1.0)
    noisy = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    s = ssim(noisy, a, data_range=255, luma=True, border=2)
    assert -1 <= s < 0.99
    assert ssim(noisy / 255, a / 255, data_range=1.0, luma=True, border=2) == pytest.approx(s, abs=1e-9)


def test_psnr_and_ssim_leave_inputs_unchanged():
    p, t = torch.rand(3, 16, 16), torch.rand(3, 16, 16)
    p0, t0 = p.clone(), t.clone()
    psnr(p, t, data_range=1.0, luma=True, border=1)
    ssim(p, t, data_range=1.0, luma=True, border=1)
    psnr(p, t, data_range=1.0, mask=p > 0.5)
    assert torch.equal(p, p0) and torch.equal(t, t0)


def test_bad_inputs_get_clear_errors():
    a = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="data_range=255"):
        psnr(a, a, data_range=1.0)
    with pytest.raises(ValueError, match="positive"):
        psnr(a / 1.0, a / 1.0, data_range=0)
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(a[:-1], a, data_range=255)
    with pytest.raises(ValueError, match="leaves nothing"):
        psnr(a, a, data_range=255, luma=True, border=4)
    with pytest.raises(ValueError, match="border"):
        psnr(a, a, data_range=255, border=1)  # an RGB border crop without luma is ambiguous
    with pytest.raises(ValueError, match="empty"):
        psnr(a / 1.0, a / 1.0, data_range=1.0, mask=np.zeros((8, 8, 1), bool))
    with pytest.raises(ValueError, match="single-channel"):
        ssim(a, a, data_range=255)
    with pytest.raises(TypeError):
        psnr(a, a, 255)  # data_range is keyword-only: a positional range is a mistake waiting to happen


def test_pixel_scores_of_images_in_minus_one_one():
    t = torch.zeros(4, 1, 5, 5)
    p = torch.full_like(t, 0.2)
    scores = pixel_scores(p, t)
    assert scores["l1"] == pytest.approx(0.2) and scores["psnr"] == pytest.approx(10 * math.log10(4 / 0.04))
