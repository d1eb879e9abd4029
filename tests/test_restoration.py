"""Notebook 10 (restoration): metrics on the Y channel, masked losses, paired data, SRCNN, DnCNN,
Context Encoder, and train-or-load retraining that lowers the loss."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.data.photos import PHOTO_SPLITS
from course_lib.data.restoration import (RESTORATION_SPLITS, add_noise, apply_mask, bicubic_degrade, center_mask,
                                         modcrop, sr_patches)
from course_lib.losses import masked_l2_loss
from course_lib.metrics import masked_mse, masked_psnr, psnr, psnr_y, rgb_to_y, ssim_y
from course_lib.models.srcnn import SRCNN


# ----------------------------------------------------------------------------- metrics

def test_rgb_to_y_is_bt601_studio_range():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0]]], dtype=np.uint8)
    y = rgb_to_y(rgb)
    np.testing.assert_allclose(y[0], [16.0, 235.0, 16 + 65.481, 16 + 128.553], atol=1e-6)
    np.testing.assert_allclose(rgb_to_y(rgb.astype(np.float64) / 255), y, atol=1e-9)
    with pytest.raises(ValueError, match="H x W x 3"):
        rgb_to_y(np.zeros((4, 4)))


def test_psnr_y_by_hand_with_border_crop():
    rng = np.random.default_rng(0)
    target = rng.random((20, 24))
    pred = target.copy()
    pred[5:15, 5:19] += 0.1                       # inside the crop
    pred[0, :] += 0.5                             # on the border: cropped away with border >= 1
    inner = (pred - target)[2:-2, 2:-2] * 255
    expected = 10 * math.log10(255 ** 2 / np.mean(inner ** 2))
    assert psnr_y(pred, target, border=2) == pytest.approx(expected, abs=1e-9)
    assert psnr_y(pred, target, border=0) < psnr_y(pred, target, border=2)
    assert psnr_y(target, target, border=2) == float("inf")
    with pytest.raises(ValueError, match="shape"):
        psnr_y(pred[:-1], target)
    with pytest.raises(ValueError, match="border"):
        psnr_y(pred, target, border=10)


def test_psnr_y_converts_rgb_and_ssim_is_one_for_identical():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-5, 6, a.shape), 0, 255).astype(np.uint8)
    ya, yb = rgb_to_y(a), rgb_to_y(b)
    assert psnr_y(b, a, 3) == pytest.approx(psnr_y(yb.astype(np.float64) / 255, ya / 255, 3), abs=1e-9)
    assert ssim_y(a, a, 2) == pytest.approx(1.0)
    assert ssim_y(b, a, 2) < 1.0


def test_masked_errors_only_count_the_mask():
    t = torch.zeros(1, 3, 8, 8)
    p = t.clone()
    mask = center_mask(8, 4)
    p[..., 2:6, 2:6] = 0.5
    p[..., 0, 0] = 1.0                            # outside the hole: ignored
    assert masked_mse(p, t, mask) == pytest.approx(0.25)
    assert masked_psnr(p, t, mask) == pytest.approx(10 * math.log10(1 / 0.25))
    assert psnr(p, t) < masked_psnr(p, t, mask) + 100
    with pytest.raises(ValueError, match="empty"):
        masked_mse(p, t, torch.zeros_like(mask))


def test_masked_l2_loss_value_gradient_and_errors():
    torch.manual_seed(0)
    target = torch.rand(2, 3, 8, 8)
    pred = torch.rand(2, 3, 8, 8, requires_grad=True)
    mask = center_mask(8, 4, batch=2)
    loss = masked_l2_loss(pred, target, mask)
    m = mask.expand_as(target).bool()
    assert loss.item() == pytest.approx(((pred - target)[m] ** 2).mean().item(), rel=1e-6)
    loss.backward()
    assert torch.all(pred.grad[~m] == 0) and torch.any(pred.grad[m] != 0)
    # the normalisation does not depend on the hole size: a constant error of 0.1 gives 0.01 for any hole
    for hole in (2, 6):
        mk = center_mask(8, hole)
        assert masked_l2_loss(torch.full((1, 3, 8, 8), 0.1), torch.zeros(1, 3, 8, 8), mk).item() == \
            pytest.approx(0.01)
    with pytest.raises(ValueError, match="all-zero"):
        masked_l2_loss(pred, target, torch.zeros_like(mask))
    with pytest.raises(ValueError, match="mask"):
        masked_l2_loss(pred, target, torch.ones(2, 2, 8, 8))


# ----------------------------------------------------------------------------- data

def test_split_is_by_photo():
    assert not set(RESTORATION_SPLITS["train"]) & set(RESTORATION_SPLITS["test"])
    assert set(RESTORATION_SPLITS["test"]) == set(PHOTO_SPLITS["test"])


def test_bicubic_pairs_and_modcrop():
    hr = torch.rand(1, 1, 25, 31)
    with pytest.raises(ValueError, match="multiple"):
        bicubic_degrade(hr, 3)
    hr = modcrop(hr, 3)
    assert hr.shape[-2:] == (24, 30) and modcrop(np.zeros((25, 31, 3)), 4).shape == (24, 28, 3)
    lr, up = bicubic_degrade(hr, 3)
    assert lr.shape[-2:] == (8, 10) and up.shape == hr.shape and 0 <= up.min() and up.max() <= 1
    flat = torch.full((1, 1, 12, 12), 0.3)
    assert torch.allclose(bicubic_degrade(flat, 2)[1], flat, atol=1e-6)


def test_sr_patches_are_aligned_pairs():
    x, y = sr_patches(2, 8, size=24, seed=0)
    assert x.shape == y.shape == (8, 1, 24, 24) and x.dtype == torch.float32
    assert 0 <= float(y.min()) and float(y.max()) <= 1
    # bicubic input is close to (a blurred version of) its target: aligned, not random
    assert torch.mean((x - y) ** 2) < 0.01 < torch.mean((x - y.roll(5, dims=-1)) ** 2) + 0.01
    x2, _ = sr_patches(2, 8, size=24, seed=0)
    assert torch.equal(x, x2)


def test_noise_has_the_asked_sigma():
    g = torch.Generator().manual_seed(0)
    clean = torch.full((1, 1, 200, 200), 0.5)
    noisy = add_noise(clean, 25, generator=g)
    assert float((noisy - clean).std()) * 255 == pytest.approx(25, rel=0.02)
    masked = apply_mask(torch.zeros(1, 3, 8, 8), center_mask(8, 4))
    assert masked[0, :, 4, 4].tolist() == [0.5] * 3 and masked[0, :, 0, 0].tolist() == [0.0] * 3


# ----------------------------------------------------------------------------- SRCNN

def test_srcnn_shapes_layers_and_residual():
    x = torch.rand(2, 1, 20, 20)
    net = SRCNN()
    assert net.name == "9-5-5" and SRCNN(f2=1).name == "9-1-5"
    assert net(x).shape == x.shape
    assert sum(p.numel() for p in net.parameters()) == 64 * 81 + 64 + 32 * 64 * 25 + 32 + 32 * 25 + 1
    with torch.no_grad():
        net.conv3.weight.zero_()
        net.conv3.bias.zero_()
    assert torch.equal(net(x), x)                 # residual form: zero detail = bicubic
    plain = SRCNN(residual=False)
    with torch.no_grad():
        plain.conv3.weight.zero_()
        plain.conv3.bias.fill_(0.25)
    assert torch.allclose(plain(x), torch.full_like(x, 0.25))
    with pytest.raises(ValueError, match="odd"):
        SRCNN(f2=4)


def test_srcnn_retrains_and_loss_falls(tmp_path, monkeypatch):
    """The train-or-load rule: retraining a few steps from scratch lowers the loss."""
    from course_lib.experiments import super_resolution as sr

    torch.set_num_threads(1)
    # the paper's plain (non-residual) form starts from a random image, so a few steps lower its loss clearly;
    # the residual form starts at bicubic's error, which a few noisy batches cannot reliably improve
    cfg = sr.make_config("fast", steps=(30,), n_patches=256, patch_size=24, batch_size=8, lr=2e-3, scales=(2,),
                         residual=False)
    monkeypatch.setattr(sr, "weight_path", lambda stem, profile: tmp_path / f"{stem}.pt")
    small = sr.sr_patches
    monkeypatch.setattr(sr, "sr_patches", lambda *a, **k: small(*a, **k, photos=("camera", "astronaut")))
    model, meta = sr.get_srcnn(2, cfg, "fast", retrain=True, progress=False)
    assert meta["trained"] and (tmp_path / "srcnn_x2.pt").is_file()
    loss = meta["loss"]  # every 10th step
    assert loss[-1] < 0.5 * loss[0], loss
    again, meta2 = sr.get_srcnn(2, cfg, "fast", retrain=False, progress=False)
    assert not meta2["trained"] and "course_lib.experiments.super_resolution" in meta2["command"]
    x = torch.rand(1, 1, 16, 16)
    assert torch.allclose(again(x), model(x), atol=1e-2)  # fp16 storage


def test_stored_srcnn_weights_beat_bicubic():
    """The committed weights (course_lib/weights/srcnn_x*.pt) load and beat bicubic on a held-out crop."""
    from course_lib.experiments import super_resolution as sr

    cfg = sr.make_config("fast")
    for scale in (2, 4):
        model, meta = sr.get_srcnn(scale, cfg, "fast", retrain=False, progress=False)
        assert not meta["trained"]
        row = sr.summary_row(scale, sr.evaluate(model, scale, crop=96))
        assert row["gain_db"] > 0, row


def test_stored_restoration_weights_load():
    """Every committed restoration weight file fits its model and names the command that made it."""
    from course_lib.experiments import denoising as dn
    from course_lib.experiments import inpainting as ip

    _, meta = dn.get_dncnn(dn.make_config("fast"), "fast", retrain=False, progress=False)
    assert not meta["trained"] and meta["command"].startswith("python -m course_lib.experiments.denoising")
    for adversarial in (False, True):
        _, meta = ip.get_context_encoder(adversarial, ip.make_config("fast"), "fast", retrain=False, progress=False)
        assert not meta["trained"] and meta["command"].startswith("python -m course_lib.experiments.inpainting")


# ----------------------------------------------------------------------------- DnCNN, Context Encoder

def test_dncnn_is_residual():
    from course_lib.models.dncnn import DnCNN

    net = DnCNN(depth=4, features=8).eval()
    x = torch.rand(2, 1, 12, 12)
    with torch.no_grad():
        assert torch.allclose(net(x), x - net.noise(x))
    assert net.receptive_field == 9
    with pytest.raises(ValueError):
        DnCNN(depth=1)


def test_context_encoder_shapes_and_completion():
    from course_lib.models.context_encoder import ChannelWiseFC, ContextEncoder, HoleDiscriminator

    torch.manual_seed(0)
    G, D = ContextEncoder(32, 3, base=4).eval(), HoleDiscriminator(16, 3, base=4)
    x = torch.rand(2, 3, 32, 32)
    mask = center_mask(32, 16, 2)
    masked = apply_mask(x, mask)
    with torch.no_grad():
        painted = G(masked)
        done = G.complete(masked, mask)
    assert painted.shape == x.shape and 0 < float(painted.min()) and float(painted.max()) < 1
    assert torch.equal(done[mask.expand_as(x) == 0], x[mask.expand_as(x) == 0])
    assert D(x[..., 8:24, 8:24]).shape == (2, 1)
    with pytest.raises(ValueError):
        ChannelWiseFC(4, 2)(torch.zeros(1, 4, 3, 3))


def test_denoiser_and_context_encoder_retrain_and_loss_falls(tmp_path, monkeypatch):
    from course_lib.experiments import denoising as dn
    from course_lib.experiments import inpainting as ip

    torch.set_num_threads(1)
    for mod in (dn, ip):
        monkeypatch.setattr(mod, "weight_path", lambda stem, profile: tmp_path / f"{stem}.pt")
    grey, colour = dn.grey_patches, ip.colour_patches
    monkeypatch.setattr(dn, "grey_patches", lambda *a, **k: grey(*a, **k, photos=("camera", "astronaut")))
    monkeypatch.setattr(ip, "colour_patches", lambda *a, **k: colour(*a, **k, photos=("astronaut",)))
    cfg = dn.make_config("fast", steps=40, n_patches=128, patch_size=24, batch_size=8, depth=4, features=16)
    _, meta = dn.get_dncnn(cfg, "fast", retrain=True, progress=False)
    assert meta["trained"] and meta["loss"][-1] < 0.5 * meta["loss"][0], meta["loss"]
    cfg = ip.make_config("fast", steps=30, n_patches=64, image_size=32, hole=16, base=8, batch_size=8, lr=2e-3)
    _, meta = ip.get_context_encoder(True, cfg, "fast", retrain=True, progress=False)
    assert meta["trained"] and np.mean(meta["rec"][-2:]) < 0.5 * meta["rec"][0], meta["rec"]


def test_paper_numbers_are_the_tpami_table():
    from course_lib.experiments.super_resolution import PAPER_SET5

    assert PAPER_SET5 == {2: {"bicubic": 33.66, "SRCNN": 36.66}, 3: {"bicubic": 30.39, "SRCNN": 32.75},
                          4: {"bicubic": 28.42, "SRCNN": 30.49}}
