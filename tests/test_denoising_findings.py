"""Notebook 10, denoising: the findings the notebook states, checked on the stored weights (the blind DnCNN and the
three DnCNN-S nets against non-local means, issue 12's goal of >= 0.5 dB at every sigma), the grey conventions,
evaluation of any images (folder, tensor, list), the blind and per-sigma training batches, the stored score-vs-steps
curves, and the notebook's DnCNN forward pass and training step against the library's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.experiments import common
from course_lib.experiments import denoising as dn
from course_lib.models.dncnn import DnCNN
from notebook_cells import cell_namespace

NOTEBOOK = "10_restoration.ipynb"
NOTEBOOK_IMAGES, NOTEBOOK_CROP = 4, 256
"""The notebook's subset of Kodak24 (kodim01-04, centred 256 x 256 crops): the same evaluation code as the full table
(``python -m course_lib reproduce denoising``), on less of it so that it runs in seconds."""


@pytest.fixture(scope="module")
def stored():
    torch.set_num_threads(1)
    return dn.load_pretrained()


@pytest.fixture(scope="module")
def notebook_table(stored):
    """The notebook's own table (dn.evaluate on kodim01-04, centred 256 x 256 crops) of the four stored nets, loaded
    the notebook's way (common.load)."""
    cfg = dn.Config.make("fast")
    runs = common.load(dn, cfg, 0, retrain=False, progress=False)
    assert sorted(runs) == sorted(dn.MEMBERS) and not any(r.meta["trained"] for r in runs.values())
    return dn.evaluate(cfg.replace(eval_images=NOTEBOOK_IMAGES, eval_crop=NOTEBOOK_CROP), runs, progress=False)


def test_findings_are_what_the_notebook_says(notebook_table):
    """FINDINGS_STATED is what notebook 10's text says (of all 24 Kodak images); the notebook's four crops give the
    same, so a retrain or a refactor that changes a finding fails here until the text is revisited."""
    table, extras = notebook_table
    found = extras["findings"]
    assert found == dn.findings(table, extras["per_image"]) and [r["sigma"] for r in table] == [15, 25, 50]
    assert {k: found[k] for k in dn.FINDINGS_STATED} == dn.FINDINGS_STATED, found
    assert extras["images"] == "Kodak24 grey, kodim01-kodim04, centred 256 x 256 crops"
    assert set(extras["train"]) == set(dn.MEMBERS)


def test_stored_dncnn_against_nl_means_is_what_the_notebook_says(notebook_table):
    """The per-photo statements of notebook 10 on its four crops: the blind net is more than 0.5 dB above NL-means
    on the textured kodim01 at every sigma and below it on the smooth kodim04 at every sigma; the DnCNN-S nets
    lift kodim04 at every sigma."""
    table, extras = notebook_table
    found = extras["findings"]
    assert not found["beats_nl_means"] and found["min_margin_db"] < dn.MIN_MARGIN_DB, found
    textured, smooth = found["image_margin_db"][0], found["image_margin_db"][3]
    assert all(textured[s] >= dn.MIN_MARGIN_DB for s in (15, 25, 50)), textured
    assert all(smooth[s] < 0 for s in (15, 25, 50)), smooth
    s_smooth = found["dncnn_s_image_margin_db"][3]
    assert all(s_smooth[s] > smooth[s] for s in (15, 25, 50)), (s_smooth, smooth)
    assert all(r["dncnn_psnr"] > r["noisy_psnr"] + 5 and r["dncnn_s_psnr"] > r["noisy_psnr"] + 5 for r in table), table


def test_findings_are_computed_from_the_table():
    rows = [{"sigma": 15, "dncnn_psnr": 32.0, "nl_means_psnr": 31.4, "tv_psnr": 30.0},
            {"sigma": 50, "dncnn_psnr": 26.0, "nl_means_psnr": 25.6, "tv_psnr": 26.5}]
    per_image = [{"image": 0, "sigma": 15, "dncnn_psnr": 30.0, "nl_means_psnr": 31.0}]
    found = dn.findings(rows, per_image)
    assert found["margin_db"] == pytest.approx({15: 0.6, 50: 0.4}) and found["image_margin_db"] == {0: {15: -1.0}}
    assert not found["beats_nl_means"] and not found["beats_tv"]
    assert not any(k.startswith("dncnn_s") for k in found)            # no DnCNN-S column: no DnCNN-S findings
    rows[1]["dncnn_psnr"] = 27.0
    assert dn.findings(rows)["beats_nl_means"] and dn.findings(rows)["beats_tv"]


def test_dncnn_s_findings_are_computed_from_the_table():
    rows = [{"sigma": 15, "dncnn_psnr": 30.9, "dncnn_s_psnr": 31.6, "nl_means_psnr": 31.1, "tv_psnr": 30.3},
            {"sigma": 50, "dncnn_psnr": 25.8, "dncnn_s_psnr": 25.7, "nl_means_psnr": 25.2, "tv_psnr": 25.5}]
    per_image = [{"image": 0, "sigma": 15, "dncnn_psnr": 30.0, "dncnn_s_psnr": 31.5, "nl_means_psnr": 31.0}]
    found = dn.findings(rows, per_image)
    assert found["dncnn_s_margin_db"] == pytest.approx({15: 0.5, 50: 0.5}) and found["dncnn_s_beats_nl_means"]
    assert found["dncnn_s_gain_over_blind_db"] == pytest.approx({15: 0.7, 50: -0.1}) and not found["dncnn_s_beats_blind"]
    assert found["dncnn_s_image_margin_db"] == {0: {15: pytest.approx(0.5)}} and not found["beats_nl_means"]
    rows[1]["dncnn_s_psnr"] = 25.69                                     # 0.49 dB: the goal is missed
    assert not dn.findings(rows)["dncnn_s_beats_nl_means"]
    rows[1]["dncnn_s_psnr"] = None                                      # a sigma without a DnCNN-S net
    assert "dncnn_s_beats_nl_means" not in dn.findings(rows)


def test_members_dncnn_s_train_at_one_sigma_with_the_papers_size_in_every_profile():
    for profile in ("fast", "full"):
        cfg = dn.Config.make(profile)
        assert dn.member_config(cfg, "dncnn") is cfg
        for i, (member, sigma) in enumerate(dn.SPECIFIC.items()):
            mcfg = dn.member_config(cfg, member)
            assert mcfg.train_sigma == (sigma, sigma) and (mcfg.depth, mcfg.patch_size) == (17, 40), mcfg
            assert (mcfg.steps, mcfg.batch_size, mcfg.photos) == (cfg.dncnn_s_steps[i], cfg.batch_size, cfg.photos)
            assert dn.curve_sigma(cfg, member) == sigma and dn.stored_name(member) == f"dncnn_{member}"
        assert dn.curve_sigma(cfg) == cfg.curve_sigma and dn.stored_name("dncnn") == "dncnn"
    assert dn.Config.make("fast").dncnn_s_steps == (5_000, 5_000, 3_000)       # s50: the session ran out of time
    with pytest.raises(ValueError, match="one number per DnCNN-S member"):
        dn.Config.make("fast", dncnn_s_steps=(5_000, 5_000))
    with pytest.raises(ValueError, match="unknown member 's20'"):
        dn.member_config(cfg, "s20")
    photos = (torch.arange(3 * 48 * 48) % 251).to(torch.uint8).view(3, 1, 48, 48)
    noise = next(dn.crop_batches(photos, 64, 40, dn.member_config(cfg, "s50").train_sigma, seed=0))[1]
    assert torch.allclose(255 * noise.flatten(1).std(1), torch.full((64,), 50.0), rtol=0.05)   # every patch at sigma 50


def test_load_pretrained_names_the_sigmas_it_has():
    with pytest.raises(ValueError, match=r"no DnCNN-S net for sigma = 20.*\[15, 25, 50\]"):
        dn.load_pretrained(sigma=20)


def test_per_sigma_nets_are_scored_at_their_own_sigma_only():
    clean = [np.random.default_rng(3).random((24, 28)).astype(np.float32) for _ in range(2)]
    torch.manual_seed(0)
    blind, s25 = DnCNN(depth=3, features=4).eval(), DnCNN(depth=3, features=4).eval()
    table, extras = dn.denoise_table(blind, clean, sigmas=(15, 25), classical=False, per_sigma={25: s25})
    assert table[0]["dncnn_s_psnr"] is None and table[1]["dncnn_s_psnr"] is not None
    expected = np.mean([dn.psnr(dn.denoise(s25, dn.noisy_version(c, 25, 0, i)), c, data_range=1.0)
                        for i, c in enumerate(clean)])
    assert table[1]["dncnn_s_psnr"] == pytest.approx(expected) and table[1]["dncnn_s_psnr"] != table[1]["dncnn_psnr"]
    assert "dncnn_s" in extras["examples"][25] and "dncnn_s" not in extras["examples"][15]
    assert table == dn.denoise_table(blind, clean, sigmas=(15, 25), classical=False, per_sigma={25: s25})[0]
    alone, _ = dn.denoise_table(None, clean, sigmas=(25,), classical=False, per_sigma={25: s25})
    assert alone[0]["dncnn_psnr"] is None and alone[0]["dncnn_s_psnr"] == pytest.approx(expected)


def test_stored_weights_record_the_paper_size_the_command_and_the_held_out_curve(stored):
    cfg = dn.Config.make("fast")
    assert (cfg.depth, cfg.features) == (17, 64) and cfg.train_sigma == (0.0, 55.0)
    assert sum(p.numel() for p in stored.parameters()) > 550_000
    meta = stored.meta
    assert meta["command"] == common.train_command("denoising", "fast", 0, "dncnn", "bf16") and meta["steps"] == cfg.steps
    curve = meta["held_out_curve"]
    assert curve["step"] == sorted(curve["step"]) and curve["step"][-1] == cfg.steps and len(curve["step"]) >= 5
    assert curve["sigma"] == 25 and "Caltech test" in curve["images"]
    # the last point is the stored net itself, on the held-out Caltech photos (never Kodak24)
    assert dn.held_out_psnr(stored, cfg) == pytest.approx(curve["psnr"][-1], abs=0.01)
    assert curve["psnr"][-1] > curve["nl_means_psnr"] + dn.MIN_MARGIN_DB, curve


@pytest.mark.parametrize("member", ["s15", "s25", "s50"])
def test_stored_dncnn_s_weights_record_their_sigma_command_and_held_out_curve(member):
    """Each DnCNN-S file: the paper's size, its own command (``--member``), its steps, and a held-out curve at its own
    sigma whose last point is the stored net; it is above NL-means on the held-out Caltech photos at that sigma."""
    torch.set_num_threads(1)
    cfg, sigma = dn.Config.make("fast"), dn.SPECIFIC[member]
    net = dn.load_pretrained(sigma=sigma)
    assert (len([m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]), net.receptive_field) == (17, 35)
    meta, mcfg = net.meta, dn.member_config(cfg, member)
    assert meta["command"] == common.train_command("denoising", "fast", 0, member, "bf16"), meta["command"]
    assert meta["member"] == member and meta["steps"] == mcfg.steps and "bf16" in meta["precision"]
    curve = meta["held_out_curve"]
    assert curve["sigma"] == sigma and curve["step"] == sorted(curve["step"]) and curve["step"][-1] == mcfg.steps
    assert len(curve["step"]) >= 5 and "Caltech test" in curve["images"]
    assert dn.held_out_psnr(net, cfg, sigma=sigma) == pytest.approx(curve["psnr"][-1], abs=0.01)
    assert curve["psnr"][-1] > curve["nl_means_psnr"], curve


def test_load_pretrained_without_weights_says_how_to_make_them(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="python -m course_lib train denoising --profile full --seed 0 --member dncnn"):
        dn.load_pretrained("full")
    with pytest.raises(FileNotFoundError, match="DnCNN-S weights for sigma = 25.*--member s25"):
        dn.load_pretrained("full", sigma=25)


# ----------------------------------------------------------------------------- conventions, any images

def test_to_grey_is_bt601_rounded_for_uint8_and_leaves_grey_alone():
    rgb = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    grey = dn.to_grey(rgb)
    expected = np.round(rgb @ np.array([0.299, 0.587, 0.114])) / 255
    assert grey.shape == (1, 1, 2, 2) and grey.dtype == torch.float32
    assert np.allclose(grey[0, 0].numpy(), expected, atol=1e-7)
    floats = dn.to_grey(torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)       # float: not rounded
    assert np.allclose(floats[0, 0].numpy(), (rgb @ np.array([0.299, 0.587, 0.114])) / 255, atol=1e-6)
    g = np.random.default_rng(0).random((5, 7)).astype(np.float32)
    assert torch.equal(dn.to_grey(g)[0, 0], torch.from_numpy(g))                      # grey: as it is
    with pytest.raises(ValueError, match="divide by 255"):
        dn.to_grey(np.full((4, 4), 200.0))
    with pytest.raises(ValueError, match="C = 1 or 3"):
        dn.to_grey(torch.zeros(1, 2, 4, 4))


def test_any_images_folder_tensor_and_list_give_the_same_scores(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    colour = [(rng.random((24, 30, 3)) * 255).astype(np.uint8) for _ in range(2)]
    for i, im in enumerate(colour):
        Image.fromarray(im).save(tmp_path / f"im{i}.png")
    (tmp_path / "notes.txt").write_text("not an image: skipped")
    torch.manual_seed(0)
    net = DnCNN(depth=3, features=4).eval()
    batch = torch.from_numpy(np.stack(colour)).permute(0, 3, 1, 2)
    tables = [dn.denoise_table(net, src, sigmas=(25,), classical=False)[0]
              for src in (tmp_path, batch, colour, [dn.to_grey(c)[0, 0].numpy() for c in colour])]
    assert all(t == tables[0] for t in tables[1:]), tables
    assert tables[0][0]["nl_means_psnr"] is None and tables[0][0]["dncnn_psnr"] is not None
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        dn.denoise_table(net, tmp_path / "empty", classical=False)
    with pytest.raises(FileNotFoundError, match="no folder"):
        dn.denoise_table(net, tmp_path / "missing", classical=False)


def test_classical_scores_do_not_depend_on_the_net_and_noise_is_seeded():
    clean = np.random.default_rng(2).random((40, 48)).astype(np.float32)
    a = dn.noisy_version(clean, 25, 0, 3)
    assert np.array_equal(a, dn.noisy_version(clean, 25, 0, 3)) and not np.array_equal(a, dn.noisy_version(clean, 25, 1, 3))
    assert abs(float(np.std(a - clean)) - 25 / 255) < 0.1 * 25 / 255
    t1, _ = dn.denoise_table(None, [clean], sigmas=(15,))
    t2, _ = dn.denoise_table(DnCNN(depth=3, features=4).eval(), [clean], sigmas=(15,))
    assert t1[0]["nl_means_psnr"] == t2[0]["nl_means_psnr"] and t1[0]["tv_psnr"] == t2[0]["tv_psnr"]


def test_crop_batches_are_seeded_blind_and_unclipped():
    photos = (torch.arange(3 * 20 * 20) % 251).to(torch.uint8).view(3, 1, 20, 20)
    a = dn.crop_batches(photos, 64, 8, (0.0, 55.0), seed=5)
    b = dn.crop_batches(photos, 64, 8, (0.0, 55.0), seed=5)
    noisy, noise = next(a)
    assert noisy.shape == noise.shape == (64, 1, 8, 8) and noisy.dtype == torch.float32
    assert all(torch.equal(x, y) for x, y in zip((noisy, noise), next(b)))
    clean = noisy - noise
    assert float(clean.min()) >= -1e-6 and float(clean.max()) <= 1 + 1e-6 and (noisy < 0).any()  # noise not clipped
    sigmas = 255 * noise.flatten(1).std(1)
    assert float(sigmas.max()) < 70 and float(sigmas.min()) < 20 and float(sigmas.max()) > 35   # a level per patch
    with pytest.raises(ValueError, match="at least 24 x 24"):
        next(dn.crop_batches(photos, 4, 24, (0, 55)))


# ----------------------------------------------------------------------------- the notebook's mechanism cells

def test_notebook_dncnn_forward_is_the_library_forward():
    ns = cell_namespace(NOTEBOOK, defines="dncnn_forward", preamble="import torch")
    forward, noise = ns["dncnn_forward"], ns["dncnn_noise"]
    torch.manual_seed(0)
    net = DnCNN(depth=5, features=8)
    for m in net.modules():                     # BatchNorm statistics far from their start, as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.5, 2)
    x = torch.rand(2, 1, 15, 11)
    with torch.no_grad():
        for mode in (net.eval, net.train):
            mode()
            assert torch.equal(noise(net, x), net.noise(x)) and torch.allclose(forward(net, x), net(x), atol=1e-6)


def test_notebook_dncnn_train_step_is_the_library_step(monkeypatch):
    ns = cell_namespace(NOTEBOOK, defines="dncnn_forward", preamble="import torch")
    step = cell_namespace(NOTEBOOK, defines="dncnn_train_step", namespace=ns)["dncnn_train_step"]
    torch.set_num_threads(1)
    monkeypatch.setattr(dn, "caltech_grey", lambda split, photos="caltech_photos": (torch.arange(4 * 32 * 32) % 256).to(torch.uint8).view(4, 1, 32, 32))
    cfg = dn.Config.make("fast", steps=3, depth=4, features=8, patch_size=16, batch_size=4)
    nb_run, lib_run = dn.build(cfg, "dncnn", seed=1), dn.build(cfg, "dncnn", seed=1)
    start = {k: v.clone() for k, v in nb_run.net.state_dict().items()}
    for batch, _ in zip(nb_run.batches(), range(3)):
        logs = step(nb_run, batch)
        assert logs == dn.train_step(lib_run, batch)
        assert all(torch.equal(a, b) for a, b in zip(nb_run.net.state_dict().values(), lib_run.net.state_dict().values()))
        assert nb_run.sched.get_last_lr() == lib_run.sched.get_last_lr()
    assert any(not torch.equal(v, nb_run.net.state_dict()[k]) for k, v in start.items() if v.is_floating_point())
