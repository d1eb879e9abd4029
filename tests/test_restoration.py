"""Notebook 10 (restoration): metrics on the Y channel, masked losses, paired data, SRCNN, DnCNN,
Context Encoder, train-or-load retraining that lowers the loss, and the notebook's mechanism cells (SRCNN's
forward and training step, the Context Encoder's step) against the library's."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.data.photos import load_photo
from course_lib.data.restoration import (add_noise, apply_mask, bicubic_degrade, caltech_luma, caltech_small,
                                         caltech_sr_pairs, center_mask, inpainting_crop_batches, inpainting_held_out,
                                         modcrop, photo_grey, sr_crop_batches)
from course_lib.experiments import common
from course_lib.losses import masked_l2_loss
from course_lib.metrics import masked_mse, psnr, rgb_to_y, ssim
from course_lib.models.srcnn import SRCNN
from notebook_cells import cell_namespace

NOTEBOOK = "10_restoration.ipynb"


def _camera_tiles() -> torch.Tensor:
    """16 grey tiles 128 x 128 of scikit-image's camera (uint8 N x 1 x 128 x 128): a small stand-in for the
    Caltech photos in the quick training tests."""
    camera = torch.from_numpy(np.round(255 * photo_grey("camera")).astype(np.uint8))
    return camera.view(4, 128, 4, 128).permute(0, 2, 1, 3).reshape(16, 1, 128, 128).contiguous()


def _small_sr_pairs(scale: int, split: str = "train", photos: str = "caltech_photos"):
    assert photos == "caltech_photos"  # the fast profile's set
    hr = modcrop(_camera_tiles(), scale).to(torch.float32) / 255
    up = bicubic_degrade(hr, scale)[1]
    return torch.round(up * 255).to(torch.uint8), torch.round(hr * 255).to(torch.uint8)


def _small_colour(split: str = "train", side: int = 80, photos: str = "caltech_photos") -> torch.Tensor:
    """Astronaut tiles shrunk to side x side (uint8 N x 3 x side x side): a stand-in for caltech_small."""
    assert photos == "caltech_photos"
    im = torch.from_numpy(load_photo("astronaut")).permute(2, 0, 1)[None].to(torch.float32) / 255  # 512 x 512
    tiles = im.view(1, 3, 4, 128, 4, 128).permute(0, 2, 4, 1, 3, 5).reshape(16, 3, 128, 128)
    from course_lib.data.restoration import bicubic_resize

    return torch.round(bicubic_resize(tiles, (side, side)) * 255).to(torch.uint8)


# ----------------------------------------------------------------------------- metrics

def test_rgb_to_y_is_bt601_studio_range():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0]]], dtype=np.uint8)
    y = rgb_to_y(rgb)
    np.testing.assert_allclose(y[0], [16.0, 235.0, 16 + 65.481, 16 + 128.553], atol=1e-6)
    np.testing.assert_allclose(rgb_to_y(rgb.astype(np.float64) / 255), y, atol=1e-9)
    with pytest.raises(ValueError, match="H x W x 3"):
        rgb_to_y(np.zeros((4, 4)))


def test_luma_psnr_by_hand_with_border_crop():
    rng = np.random.default_rng(0)
    target = rng.random((20, 24))
    pred = target.copy()
    pred[5:15, 5:19] += 0.1                       # inside the crop
    pred[0, :] += 0.5                             # on the border: cropped away with border >= 1
    inner = (pred - target)[2:-2, 2:-2] * 255
    expected = 10 * math.log10(255 ** 2 / np.mean(inner ** 2))
    assert psnr(pred, target, data_range=1.0, luma=True, border=2) == pytest.approx(expected, abs=1e-9)
    assert psnr(pred, target, data_range=1.0, luma=True) < psnr(pred, target, data_range=1.0, luma=True, border=2)
    assert psnr(target, target, data_range=1.0, luma=True, border=2) == float("inf")
    with pytest.raises(ValueError, match="shape"):
        psnr(pred[:-1], target, data_range=1.0, luma=True)
    with pytest.raises(ValueError, match="border"):
        psnr(pred, target, data_range=1.0, luma=True, border=10)


def test_luma_psnr_converts_rgb_and_ssim_is_one_for_identical():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-5, 6, a.shape), 0, 255).astype(np.uint8)
    ya, yb = rgb_to_y(a), rgb_to_y(b)
    assert psnr(b, a, data_range=255, luma=True, border=3) == pytest.approx(
        psnr(yb.astype(np.float64) / 255, ya / 255, data_range=1.0, luma=True, border=3), abs=1e-9)
    assert ssim(a, a, data_range=255, luma=True, border=2) == pytest.approx(1.0)
    assert ssim(b, a, data_range=255, luma=True, border=2) < 1.0


def test_masked_errors_only_count_the_mask():
    t = torch.zeros(1, 3, 8, 8)
    p = t.clone()
    mask = center_mask(8, 4)
    p[..., 2:6, 2:6] = 0.5
    p[..., 0, 0] = 1.0                            # outside the hole: ignored
    assert masked_mse(p, t, mask) == pytest.approx(0.25)
    assert psnr(p, t, data_range=1.0, mask=mask) == pytest.approx(10 * math.log10(1 / 0.25))
    assert psnr(p, t, data_range=1.0) < psnr(p, t, data_range=1.0, mask=mask) + 100
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

def test_caltech_restoration_sets_are_the_shipped_splits():
    """The restoration sets are made from the shipped Caltech photos (the test split here; the training split the
    same way): luma is MATLAB's rgb2ycbcr rounded to 8 bits, the SR input the bicubic round trip of the HR luma."""
    y = caltech_luma("test")
    assert y.shape == (460, 1, 128, 128) and y.dtype == torch.uint8 and 16 <= int(y.min()) and int(y.max()) <= 235
    up, hr = caltech_sr_pairs(3, "test")
    assert up.shape == hr.shape == (460, 1, 126, 126) and up.dtype == torch.uint8
    assert torch.equal(hr, y[..., :126, :126])
    again = torch.round(bicubic_degrade(hr[:2].float() / 255, 3)[1] * 255).to(torch.uint8)
    assert torch.equal(again, up[:2])
    small = caltech_small("test", 80)
    assert small.shape == (460, 3, 80, 80) and small.dtype == torch.uint8
    held = inpainting_held_out(64, 80, every=5)
    assert held.shape == (92, 3, 64, 64) and torch.equal(held[0], small[0, :, 8:72, 8:72].float() / 255)
    for bad in (lambda: caltech_luma("val"), lambda: caltech_sr_pairs(1), lambda: caltech_small("train", 200),
                lambda: inpainting_held_out(96, 80)):
        with pytest.raises(ValueError):
            bad()


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


def test_sr_crop_batches_are_aligned_seeded_and_textured():
    up, hr = _small_sr_pairs(2)
    x, y = next(sr_crop_batches(up, hr, batch_size=8, patch_size=24, seed=0))
    assert x.shape == y.shape == (8, 1, 24, 24) and x.dtype == torch.float32
    assert 0 <= float(y.min()) and float(y.max()) <= 1
    # bicubic input is close to (a blurred version of) its target: aligned, not random
    assert torch.mean((x - y) ** 2) < 0.01 < torch.mean((x - y.roll(5, dims=-1)) ** 2) + 0.01
    x2, y2 = next(sr_crop_batches(up, hr, batch_size=8, patch_size=24, seed=0))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, next(sr_crop_batches(up, hr, batch_size=8, patch_size=24, seed=1))[0])
    assert float(y.flatten(1).std(1).min()) >= 0.03      # flat windows redrawn
    with pytest.raises(ValueError, match="differ in shape"):
        next(sr_crop_batches(up[:2], hr, batch_size=2, patch_size=8))
    with pytest.raises(ValueError, match="at least"):
        next(sr_crop_batches(up, hr, batch_size=2, patch_size=200))


def test_noise_has_the_asked_sigma():
    g = torch.Generator().manual_seed(0)
    clean = torch.full((1, 1, 200, 200), 0.5)
    noisy = add_noise(clean, 25, generator=g)
    assert float((noisy - clean).std()) * 255 == pytest.approx(25, rel=0.02)
    masked = apply_mask(torch.zeros(1, 3, 8, 8), center_mask(8, 4))
    assert masked[0, :, 4, 4].tolist() == [0.5] * 3 and masked[0, :, 0, 0].tolist() == [0.0] * 3


def test_inpainting_batches_are_seeded_windows_mirrored_only():
    photos = _small_colour()
    a, b = inpainting_crop_batches(photos, 8, 64, seed=3), inpainting_crop_batches(photos, 8, 64, seed=3)
    for _ in range(3):
        x, y = next(a), next(b)
        assert x.shape == (8, 3, 64, 64) and x.dtype == torch.float32 and torch.equal(x, y)
        assert 0 <= float(x.min()) and float(x.max()) <= 1
    # each window is a window of some photo, as it is or mirrored (never rotated)
    x = next(inpainting_crop_batches(photos[:1], 4, 64, seed=0))
    full = photos[0].float() / 255
    for w in x:
        found = any(torch.equal(v, full[:, r:r + 64, c:c + 64]) for v in (w, w.flip(-1))
                    for r in range(17) for c in range(17))
        assert found
    with pytest.raises(ValueError, match="at least"):
        next(inpainting_crop_batches(photos, 2, 96))


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
    """The train-or-load rule: retraining a few steps from scratch lowers the loss; the stored file loads back."""
    from course_lib.experiments import super_resolution as sr

    torch.set_num_threads(1)
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    # the paper's plain (non-residual) form starts from a random image, so a few steps lower its loss clearly;
    # the residual form starts at bicubic's error, which a few noisy batches cannot reliably improve
    cfg = sr.Config.make("fast", steps=(30, 30, 30, 30), patch_size=24, batch_size=8, lr=2e-3, residual=False)
    monkeypatch.setattr(sr, "caltech_sr_pairs", _small_sr_pairs)
    run = common.train(sr, cfg, seed=1, members=["x2"], progress=False)["x2"]
    assert run.meta["trained"] and (tmp_path / "srcnn_x2_fast_seed1.pt").is_file()
    loss = run.meta["history"]["loss"][::10]
    assert loss[-1] < 0.5 * loss[0], loss
    again = common.load(sr, cfg, seed=1, members=["x2"], retrain=False, progress=False)["x2"]
    assert not again.meta["trained"] and "python -m course_lib train super_resolution" in again.meta["command"]
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(again.net(x), run.net(x), atol=1e-2)  # fp16 storage
    with pytest.raises(ValueError, match="member"):
        sr.build(cfg, "x5")


def test_stored_srcnn_weights_beat_bicubic():
    """The committed weights (course_lib/weights/srcnn_x*.pt) load and beat bicubic on Kodak24 crops."""
    from course_lib.experiments import super_resolution as sr

    cfg = sr.Config.make("fast", eval_images=2, eval_crop=96)
    runs = common.load(sr, cfg, members=["x2", "x4"], retrain=False, progress=False)
    assert not any(r.meta["trained"] for r in runs.values())
    rows, _ = sr.evaluate(cfg, runs)
    assert [r["scale"] for r in rows] == ["x2", "x4"] and all(r["gain_db"] > 0 for r in rows), rows


def test_stored_restoration_weights_load():
    """Every committed restoration weight file fits its member's model, records the command that made it, and
    the weights README lists the command that makes it now."""
    from course_lib.experiments import denoising as dn
    from course_lib.experiments import inpainting as ip
    from course_lib.experiments import super_resolution as sr

    readme = (common.WEIGHTS_DIR / "README.md").read_text()
    assert sr.MEMBERS == ("x2", "x3", "x4", "x3_plain") and ip.MEMBERS == ("L2", "L2+adv") and dn.MEMBERS == ("dncnn", "s15", "s25", "s50")
    for module in (sr, ip, dn):
        name = module.__name__.rsplit(".", 1)[-1]
        cfg = module.Config.make("fast")
        for member, run in common.load(module, cfg, retrain=False, progress=False).items():
            assert not run.meta["trained"] and name in run.meta["command"], (member, run.meta)
            for stem in run.stored.values():
                assert (common.WEIGHTS_DIR / f"{stem}.pt").is_file() and f"`{stem}.pt`" in readme, stem
        assert f"python -m course_lib train {name}" in readme, name


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
    monkeypatch.setattr(common, "WEIGHTS_DIR", tmp_path)     # seed 0, fast: the "committed" files go to tmp_path
    monkeypatch.setattr(dn, "caltech_grey", lambda split, photos="caltech_photos": _camera_tiles())
    monkeypatch.setattr(ip, "caltech_small", _small_colour)
    cfg = dn.Config.make("fast", steps=40, patch_size=24, batch_size=8, depth=4, features=16)
    run = common.train(dn, cfg, members=["dncnn"], progress=False)["dncnn"]
    loss = run.meta["history"]["loss"][::10]
    assert run.meta["trained"] and (tmp_path / "dncnn.pt").is_file() and loss[-1] < 0.5 * loss[0], loss
    cfg = ip.Config.make("fast", steps=30, image_size=32, hole=16, side=40, base=8, batch_size=8, lr=2e-3)
    run = common.train(ip, cfg, members=["L2+adv"], progress=False)["L2+adv"]
    rec = run.meta["history"]["rec"][::5]
    assert run.meta["trained"] and (tmp_path / "ce_adv.pt").is_file() and np.mean(rec[-2:]) < 0.5 * rec[0], rec


def test_paper_numbers_are_the_tpami_table():
    from course_lib.experiments.super_resolution import PAPER_SET5

    assert PAPER_SET5 == {2: {"bicubic": 33.66, "SRCNN": 36.66}, 3: {"bicubic": 30.39, "SRCNN": 32.75},
                          4: {"bicubic": 28.42, "SRCNN": 30.49}}


# ----------------------------------------------------------------------------- the notebook's mechanism cells

def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("residual, f2", [(True, 5), (False, 5), (True, 1)])
def test_notebook_srcnn_forward_is_the_library_forward(residual, f2):
    forward = cell_namespace(NOTEBOOK, defines="srcnn_forward", preamble="import torch")["srcnn_forward"]
    torch.manual_seed(0)
    net = SRCNN(f2=f2, residual=residual)
    with torch.no_grad():
        net.conv3.weight.normal_(0, 0.05)          # a last layer far from zero, as after training
        net.conv3.bias.fill_(-0.02)
    x = torch.rand(2, 1, 17, 13)
    with torch.no_grad():
        assert torch.equal(forward(net, x), net(x))


def test_notebook_srcnn_train_step_is_the_library_step(monkeypatch):
    """Same batches, same seed: the notebook's step and sr.train_step give the same losses and the same
    weights, Adam moments and learning rates after every step."""
    from course_lib.experiments import super_resolution as sr

    torch.set_num_threads(1)
    monkeypatch.setattr(sr, "caltech_sr_pairs", _small_sr_pairs)
    ns = cell_namespace(NOTEBOOK, defines="srcnn_forward", preamble="import torch")
    step = cell_namespace(NOTEBOOK, defines="srcnn_train_step", namespace=ns)["srcnn_train_step"]
    cfg = sr.Config.make("fast", steps=(4, 4, 4, 4), patch_size=20, batch_size=4)
    nb_run, lib_run = sr.build(cfg, "x2", seed=1), sr.build(cfg, "x2", seed=1)
    start = {k: v.clone() for k, v in nb_run.net.state_dict().items()}
    for batch, _ in zip(nb_run.batches(), range(4)):
        assert step(nb_run, batch) == sr.train_step(lib_run, batch)
        assert _same_state(nb_run.net, lib_run.net)
        assert nb_run.sched.get_last_lr() == lib_run.sched.get_last_lr()
    assert not torch.equal(start["conv1.weight"], nb_run.net.conv1.weight)   # the steps did change the weights
    assert all(torch.equal(a["exp_avg_sq"], b["exp_avg_sq"]) for a, b in
               zip(nb_run.opt.state_dict()["state"].values(), lib_run.opt.state_dict()["state"].values()))


@pytest.mark.parametrize("member", ["L2", "L2+adv"])
def test_notebook_context_encoder_step_is_the_library_step(member, monkeypatch):
    from course_lib.experiments import inpainting as ip

    torch.set_num_threads(1)
    monkeypatch.setattr(ip, "caltech_small", _small_colour)
    preamble = ("import torch\nfrom course_lib.data import restoration as R\n"
                "from course_lib.losses import masked_l2_loss")
    step = cell_namespace(NOTEBOOK, defines="context_encoder_train_step", preamble=preamble)["context_encoder_train_step"]
    cfg = ip.Config.make("fast", steps=3, image_size=32, hole=16, side=40, base=4, batch_size=4)
    nb_run, lib_run = ip.build(cfg, member, seed=1), ip.build(cfg, member, seed=1)
    start = {k: v.clone() for k, v in nb_run.G.state_dict().items()}
    for x, _ in zip(nb_run.batches(), range(3)):
        logs = step(nb_run, x)
        assert logs == ip.train_step(lib_run, x) and set(logs) == ({"rec", "adv", "loss_D"} if member == "L2+adv"
                                                                    else {"rec"})
        assert all(_same_state(nb_run.models[r], lib_run.models[r]) for r in nb_run.models)
    assert set(nb_run.models) == ({"G", "D"} if member == "L2+adv" else {"G"})
    assert any(not torch.equal(v, nb_run.G.state_dict()[k]) for k, v in start.items() if v.is_floating_point())
