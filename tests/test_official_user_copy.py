"""The official pix2pix sets as a user with a downloaded or hand-built copy uses them (issue 13): the copy is
used where it is (never fetched, unpacked over or recorded), its layout is checked with clear errors, the
published counts are required or only warned about (verify), files come in natural order, odd A|B widths
name the file, and pix2pix trains on it time-boxed and resumably through the experiments' fit. The copies
are small JPEGs the tests make, in the official layout (facades/train/1.jpg, A|B side by side)."""
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib import translation as T
from course_lib.data import official
from course_lib.data.official import (AlignedDataset, OfficialCountWarning, UnalignedDataset, download_official,
                                      natural_key)
from course_lib.data.paths import DatasetError
from course_lib.experiments import pix2pix_ablation as A
from course_lib.official_pix2pix import train_official_pix2pix


def _save_pair(path, side=16, left=0, right=255, width=None):
    """An A|B JPEG ``2 side x side``: A (left half) filled with ``left``, B with ``right``."""
    arr = np.empty((side, width or 2 * side, 3), np.uint8)
    arr[:, :side] = left
    arr[:, side:] = right
    Image.fromarray(arr).save(path, quality=95)


def _facades(root, counts=(("train", 3), ("val", 1), ("test", 2)), side=16):
    """A hand-built facades copy under ``root/facades``; file i's A half is grey level 10 i, its B half 250 - 10 i."""
    for split, n in counts:
        (root / "facades" / split).mkdir(parents=True, exist_ok=True)
        for i in range(1, n + 1):
            _save_pair(root / "facades" / split / f"{i}.jpg", side, left=10 * i, right=250 - 10 * i)
    return root / "facades"


@pytest.fixture
def offline(monkeypatch):
    """Any download attempt fails the test (and the host is unreachable anyway)."""
    def no_fetch(spec, archive):
        raise AssertionError(f"a download of {spec.name} was attempted to {archive}")
    monkeypatch.setattr(official, "_fetch", no_fetch)
    spec = official.DATASETS["facades"]
    monkeypatch.setitem(official.DATASETS, "facades", official.OfficialDataset(
        "facades", "aligned", "http://127.0.0.1:9/facades.tar.gz", spec.counts, spec.image_size, spec.paper_direction))


def _snapshot(folder):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_users_copy_is_used_as_it_is_never_fetched_or_overwritten(tmp_path, offline):
    folder = _facades(tmp_path)
    before = _snapshot(folder)
    with pytest.warns(OfficialCountWarning, match=r"train: expected 400 images, found 3"):
        assert download_official("facades", tmp_path, verify=False) == folder
    with pytest.warns(OfficialCountWarning):  # root may also be the set's own folder
        assert download_official("facades", folder, verify=False) == folder
    with pytest.raises(DatasetError, match="expected 400 images, found 3.*verify=False"):
        download_official("facades", tmp_path, verify=True)  # the published counts, required
    assert _snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facades"]  # no archive, no CHECKSUMS.json


@pytest.mark.parametrize("layout, message", [
    ({}, "holds none of the facades set's split folders"),                     # an empty folder
    ({"trainA": 2, "trainB": 2}, r"holds none of .*\['trainA/', 'trainB/'\]"),  # CycleGAN's layout
    ({"train": 0, "test": 2}, r"facades/train holds no images"),               # an empty split
])
def test_a_wrong_folder_is_a_clear_error_even_without_verify(tmp_path, offline, layout, message):
    folder = tmp_path / "facades"
    folder.mkdir()
    for split, n in layout.items():
        (folder / split).mkdir()
        for i in range(n):
            _save_pair(folder / split / f"{i}.jpg")
    with pytest.raises(DatasetError, match=message):
        download_official("facades", tmp_path, verify=False)
    with pytest.raises(DatasetError, match=message):
        T.load_pairs(A.Config.make("full", size=16), tmp_path, verify=False)


def test_load_pairs_reads_a_copy_under_root_in_the_papers_direction(tmp_path, offline):
    _facades(tmp_path, counts=(("train", 3), ("test", 2)))
    cfg = A.Config.make("full", size=8, n_train=2)
    with pytest.warns(OfficialCountWarning, match="val: expected 100 images, found 0"):
        x, y, (xt, yt) = T.load_pairs(cfg, tmp_path, verify=False)
    assert x.shape == y.shape == (2, 3, 8, 8) and xt.shape == yt.shape == (2, 3, 8, 8)
    # BtoA (labels -> photo): the input is the right half B = 250 - 10 i, the target the left half A = 10 i
    to_grey = lambda t: (t.mean().item() + 1) * 127.5  # noqa: E731
    assert [round(to_grey(t)) for t in x] == pytest.approx([240, 230], abs=2)
    assert [round(to_grey(t)) for t in y] == pytest.approx([10, 20], abs=2)
    with pytest.raises(DatasetError, match="expected 400 images"):
        T.load_pairs(cfg, tmp_path)  # verify=True by default: a subset is refused, with the way out named
    with pytest.raises(ValueError, match="bundled"):
        T.load_pairs(A.Config.make("fast", dataset="shoes"), tmp_path)
    with pytest.raises(ValueError, match="unknown dataset 'horse2zebra'"):
        T.load_pairs(A.Config.make("full", dataset="horse2zebra"), tmp_path)


def test_files_come_in_natural_order(tmp_path):
    names = ["10.jpg", "2.jpg", "100.jpg", "1.jpg", "b_3.png", "a_20.png", "a_3.png"]
    assert sorted(names, key=natural_key) == ["1.jpg", "2.jpg", "10.jpg", "100.jpg", "a_3.png", "a_20.png", "b_3.png"]
    split = tmp_path / "train"
    split.mkdir()
    for i in (1, 2, 10, 100):
        _save_pair(split / f"{i}.jpg", left=i, right=200)
    data = AlignedDataset(split, direction="AtoB", size=None)
    assert [p.name for p in data.files] == ["1.jpg", "2.jpg", "10.jpg", "100.jpg"]
    assert [round((data[i][0].mean().item() + 1) * 127.5) for i in range(4)] == pytest.approx([1, 2, 10, 100], abs=2)
    for sub in ("trainA", "trainB"):
        (tmp_path / "h2z" / sub).mkdir(parents=True)
        for i in (1, 10, 9):
            Image.fromarray(np.full((4, 4, 3), i, np.uint8)).save(tmp_path / "h2z" / sub / f"{i}.png")
    unaligned = UnalignedDataset(tmp_path / "h2z", "train", size=None)
    assert [p.name for p in unaligned.files_a] == ["1.png", "9.png", "10.png"]


def test_an_odd_width_names_the_file(tmp_path, offline):
    folder = _facades(tmp_path, counts=(("train", 7), ("test", 1)))
    _save_pair(folder / "train" / "2.jpg", width=33)  # checked by download_official (among the first 5)
    with pytest.raises(DatasetError, match=r"train/2\.jpg: an A\|B image must have an even width.*got 33"):
        download_official("facades", tmp_path, verify=False)
    _save_pair(folder / "train" / "2.jpg")
    _save_pair(folder / "train" / "7.jpg", width=31)  # past the first 5: the loader finds it when it reads it
    data = AlignedDataset(folder / "train", direction="BtoA", size=8)
    assert data[5][0].shape == (3, 8, 8)
    with pytest.raises(DatasetError, match=r"train/7\.jpg: .*even width.*got 31"):
        data[6]
    with pytest.warns(OfficialCountWarning), pytest.raises(DatasetError, match=r"7\.jpg"):
        T.load_pairs(A.Config.make("full", size=8), tmp_path, verify=False)


@pytest.fixture
def cpu(monkeypatch):
    """Bit-for-bit comparisons need the CPU in fp32 (CUDA's convolutions may differ from run to run)."""
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setenv("COURSE_PRECISION", "fp32")


def _tiny_cfg(steps):
    """The full profile's facades settings (batch 1, Adam 2e-4 / 0.5, lambda_L1 100, 70 x 70 PatchGAN) at 32 px."""
    return A.Config.make("full", size=32, generator="unet_32", ngf=4, ndf=4, steps=steps)


def test_time_boxed_and_resumed_training_equals_one_run_and_keeps_d_and_the_optimisers(tmp_path, offline, cpu):
    _facades(tmp_path, counts=(("train", 5), ("test", 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OfficialCountWarning)
        whole = train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, progress=False,
                                         checkpoint=tmp_path / "whole.ckpt")
        ckpt = tmp_path / "boxed.ckpt"
        first = train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, progress=False, steps=2,
                                         checkpoint=ckpt, checkpoint_every=None)
        assert first.meta["step"] == 2 and not first.meta["finished"] and len(first.meta["history"]["G_l1"]) == 2
        assert torch.load(ckpt, weights_only=False)["step"] == 2
        second = train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, progress=False, steps=2,
                                          checkpoint=ckpt, checkpoint_every=None)
        assert second.meta["step"] == 4 and not second.meta["finished"]
        last = train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, progress=False, steps=10,
                                        checkpoint=ckpt, checkpoint_every=None)
        assert last.meta["step"] == 5 and last.meta["finished"]
        stamp = ckpt.stat().st_mtime_ns
        again = train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, progress=False, steps=3,
                                         checkpoint=ckpt)  # a finished run: nothing trained, the file untouched
    assert ckpt.stat().st_mtime_ns == stamp and again.meta["step"] == 5
    assert last.meta["history"] == whole.meta["history"] == again.meta["history"]
    assert set(whole.meta["history"]) == {"D", "G_gan", "G_l1"} and len(whole.meta["history"]["D"]) == 5
    for run in (last, again):
        for role in ("G", "D"):
            mine, ref = run.models[role].state_dict(), whole.models[role].state_dict()
            assert all(torch.equal(mine[k], ref[k]) for k in ref), role
        for opt in ("opt_G", "opt_D"):
            mine, ref = run.state[opt].state_dict()["state"], whole.state[opt].state_dict()["state"]
            assert mine.keys() == ref.keys() and all(float(s["step"]) == 5 for s in mine.values())
            assert all(torch.equal(mine[k]["exp_avg"], ref[k]["exp_avg"]) for k in ref)
    assert not again.G.training and not again.D.training
    with pytest.warns(OfficialCountWarning):
        _, _, test = T.load_pairs(_tiny_cfg(5).replace(dataset="facades"), tmp_path, verify=False)
    scores = T.evaluate_pairs(again.G, test)
    assert 0 < scores["l1"] < 2 and np.isfinite(scores["psnr"])


def test_training_without_a_checkpoint_and_bad_arguments(tmp_path, offline):
    _facades(tmp_path, counts=(("train", 2), ("test", 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OfficialCountWarning)
        run = train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(50), verify=False, progress=False, steps=2,
                                       objective="L1")
        assert run.meta["step"] == 2 and len(run.meta["history"]["G_l1"]) == 2 and "D" not in run.meta["history"]
        with pytest.raises(ValueError, match="not an aligned official set"):
            train_official_pix2pix("horse2zebra", tmp_path)
        with pytest.raises(ValueError, match="steps must be >= 1"):
            train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, steps=0)
        with pytest.raises(ValueError, match="GAN!"):
            train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5), verify=False, objective="GAN!")
    with pytest.raises(DatasetError, match="expected 400 images"):
        train_official_pix2pix(root=tmp_path, cfg=_tiny_cfg(5))  # verify=True by default


def test_one_step_of_the_full_profile_at_256(tmp_path, offline):
    """The paper's settings unchanged (256 x 256, unet_256 with ngf 64, the 70 x 70 PatchGAN, batch 1) on
    official-size files (512 x 256 A|B JPEGs): one step from the loader to finite losses (about 3 s on one thread)."""
    _facades(tmp_path, counts=(("train", 2), ("test", 1)), side=256)
    cfg = A.Config.make("full", steps=1)
    assert (cfg.size, cfg.generator, cfg.ngf, cfg.discriminator, cfg.batch_size) == (256, "unet_256", 64, "basic", 1)
    with pytest.warns(OfficialCountWarning, match="train: expected 400 images, found 2"):
        run = train_official_pix2pix(root=tmp_path, cfg=cfg, verify=False, progress=False)
    assert run.meta["finished"] and all(np.isfinite(v[0]) for v in run.meta["history"].values())
    assert set(run.meta["history"]) == {"D", "G_gan", "G_l1"}
    assert len(run.opt_G.state) == len(list(run.G.parameters()))  # both optimisers kept, with their moments
    assert len(run.opt_D.state) == len(list(run.D.parameters()))
    assert T.translate(run.G, torch.zeros(1, 3, 256, 256)).shape == (1, 3, 256, 256)
