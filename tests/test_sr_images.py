"""Super-resolution on a user's own images (issue 12, "usable on a user's own images"):
course_lib.experiments.super_resolution.read_images / benchmark_luma / evaluate_images / load_srcnn."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.data.photos import load_photo
from course_lib.experiments import super_resolution as SR
from course_lib.metrics import rgb_to_y
from course_lib.models.srcnn import SRCNN


class Identity(torch.nn.Module):
    """A "super-resolution net" that returns its bicubic input (so SR == bicubic)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x + 0 * self.w


@pytest.fixture(scope="module")
def chelsea():
    return load_photo("chelsea")[:120, :150]  # uint8 H x W x 3, a held-out photo of the course


def test_read_images_from_a_folder_keeps_grey_files_grey(tmp_path, chelsea):
    Image.fromarray(chelsea).save(tmp_path / "b_colour.png")
    grey = chelsea[..., 1]
    Image.fromarray(grey).save(tmp_path / "a_grey.png")
    Image.fromarray(np.dstack([chelsea, np.full(grey.shape, 255, np.uint8)])).save(tmp_path / "c_alpha.png")
    (tmp_path / "notes.txt").write_text("not an image")
    images = SR.read_images(tmp_path)
    assert list(images) == ["a_grey", "b_colour", "c_alpha"]
    assert images["a_grey"].shape == grey.shape and images["b_colour"].shape == chelsea.shape
    np.testing.assert_allclose(images["a_grey"], grey / 255.0)
    np.testing.assert_allclose(images["c_alpha"], chelsea / 255.0)  # alpha dropped
    assert all(im.dtype == np.float64 and 0 <= im.min() and im.max() <= 1 for im in images.values())


def test_read_images_from_tensors_and_lists(chelsea):
    batch = torch.from_numpy(chelsea).permute(2, 0, 1)[None].float() / 255
    batch = torch.cat([batch, batch.flip(-1)])
    before = batch.clone()
    images = SR.read_images(batch)
    assert list(images) == ["0", "1"] and images["0"].shape == chelsea.shape
    np.testing.assert_allclose(images["1"], chelsea[:, ::-1] / 255.0, atol=1e-6)
    assert torch.equal(batch, before)  # the input is left as it was
    grey = SR.read_images({"g": torch.from_numpy(chelsea[..., 0])})["g"]
    assert grey.shape == chelsea.shape[:2]
    assert SR.read_images([chelsea[..., :1]])["0"].shape == chelsea.shape[:2]  # H x W x 1 -> grey


@pytest.mark.parametrize("bad, match", [
    ([], "no images given"),
    ([np.full((8, 8), 2.0)], "outside \\[0, 1\\]"),
    ([np.zeros((8, 8, 4), np.uint8)], "alpha channel"),
    ([np.zeros((8, 8, 2))], "must be H x W"),
    ([np.zeros((8, 8), np.int64)], "dtype int64"),
    (torch.zeros(2, 2, 8, 8), "N x C x H x W with C = 1 or 3"),
    (42, "takes a folder"),
])
def test_read_images_refuses_what_it_cannot_score(bad, match):
    with pytest.raises(ValueError, match=match):
        SR.read_images(bad)


def test_read_images_errors_for_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        SR.read_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no images"):
        SR.read_images(tmp_path)


def test_benchmark_luma_converts_only_colour_images(chelsea):
    rgb = chelsea / 255.0
    np.testing.assert_allclose(SR.benchmark_luma(rgb, round_8bit=False), rgb_to_y(chelsea) / 255.0)
    assert np.allclose(SR.benchmark_luma(rgb) * 255, np.round(rgb_to_y(chelsea)))
    grey = chelsea[..., 1] / 255.0
    np.testing.assert_array_equal(SR.benchmark_luma(grey), grey)  # grey values as they are: 0..1, not 16..235
    studio = SR.benchmark_luma(np.dstack([grey] * 3))
    assert studio.min() >= 16 / 255 - 1e-9 and abs(studio - grey).max() > 0.02


def test_evaluate_images_conventions_with_an_identity_net(chelsea):
    odd = load_photo("chelsea")[:122, :152]  # cropped to 120 x 150, multiples of the scale
    rows, mean = SR.evaluate_images([odd, odd[..., 1]], 3, net=Identity())
    for r in rows:
        assert r["srcnn_psnr"] == pytest.approx(r["bicubic_psnr"]) and r["gain_db"] == pytest.approx(0)
        assert (r["height"], r["width"]) == (120, 150)
    assert rows[0]["bicubic_psnr"] == pytest.approx(SR.evaluate_images([chelsea], 3, net=Identity())[0][0]["bicubic_psnr"])
    assert mean["bicubic_psnr"] == pytest.approx(np.mean([r["bicubic_psnr"] for r in rows]))
    # the grey image is scored on its own values (full range): its error is larger than that of the same
    # content put on the studio scale (R = G = B -> luma 16..235), which scores higher
    rows_rgb, _ = SR.evaluate_images([np.dstack([chelsea[..., 1]] * 3)], 3, net=Identity())
    assert rows_rgb[0]["bicubic_psnr"] > rows[1]["bicubic_psnr"] + 0.5


def test_evaluate_images_with_the_stored_srcnn(chelsea):
    rows, mean = SR.evaluate_images({"chelsea": chelsea}, 2)
    assert rows[0]["image"] == "chelsea"
    assert mean["gain_db"] > 0.5, mean  # the stored x2 SRCNN beats bicubic on a photo it never saw
    assert mean["srcnn_ssim"] > mean["bicubic_ssim"]
    with pytest.raises(ValueError, match="too small for x4"):
        SR.evaluate_images([chelsea[:10, :10]], 4, net=Identity())
    with pytest.raises(ValueError, match="integer >= 2"):
        SR.evaluate_images([chelsea], 1, net=Identity())


def test_load_srcnn_is_one_call(monkeypatch, tmp_path):
    net = SR.load_srcnn(3, device="cpu")
    assert isinstance(net, SRCNN) and not net.training and "command" in net.meta
    assert SR.load_srcnn("x3", device="cpu").state_dict()["conv1.weight"].equal(net.state_dict()["conv1.weight"])
    with pytest.raises(ValueError, match="unknown scale 5"):
        SR.load_srcnn(5)
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="python -m course_lib train super_resolution"):
        SR.load_srcnn(2, seed=7)
