"""Issue 12, "usable on a user's own images": colorization and inpainting score any images (a folder, a list of
arrays, a tensor batch) with the conventions of their notebooks' tables, and each stored network loads in one call."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.data.caltech import kodak24
from course_lib.experiments import colorization as cz
from course_lib.experiments import inpainting as ip


@pytest.fixture(scope="module")
def photos():
    """Two Kodak photographs shrunk to 192 x 128 (uint8 H x W x 3): small, real, colour."""
    from course_lib.data.colorization import resize_photo

    return [resize_photo(im, 128) for im in kodak24()[:2]]


@pytest.mark.slow   # the class-rebalanced AuC needs the training photos' colour prior (about 20 s, once a process)
def test_colorization_scores_a_folder_a_list_and_a_batch_alike(tmp_path, photos):
    for i, im in enumerate(photos):
        Image.fromarray(im).save(tmp_path / f"{i}.png")
    batch = torch.from_numpy(np.stack(photos)).permute(0, 3, 1, 2)
    tables = [[{k: v for k, v in r.items() if k != "judge_top1"} for r in
               cz.evaluate_images(src, members=("L2",), image_side=None)] for src in (tmp_path, photos, batch)]
    assert tables[0] == tables[1] == tables[2]   # without the judge column (NaN: no classes), which NaN != NaN hides
    rows = {r["model"]: r for r in tables[0]}
    assert set(rows) == {"grey", "L2", "ground truth"}
    assert rows["ground truth"]["mse"] == 0 and rows["grey"]["chroma"] == 0
    assert 0 < rows["L2"]["chroma_vs_truth"] < 1.5 and rows["L2"]["mse"] > 0


def test_colorization_load_pretrained_and_refusals(monkeypatch, tmp_path, photos):
    net = cz.load_pretrained("rebalanced")
    assert not net.training and net.kind == "classification" and "colorization" in net.meta["command"]
    with pytest.raises(ValueError, match="unknown member"):
        cz.load_pretrained("L1")
    with pytest.raises(ValueError, match="is grey"):
        cz.evaluate_images([photos[0][..., 0]])
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="python -m course_lib train colorization --profile fast --seed 3"):
        cz.load_pretrained("L2", seed=3)


def test_inpainting_scores_any_images_at_the_networks_size(photos):
    grey = photos[1][..., 1]
    table, outputs = ip.inpaint_images({"colour": photos[0], "grey": grey})
    assert outputs["names"] == ["colour", "grey"] and outputs["clean"].shape == (2, 3, 64, 64)
    assert torch.equal(outputs["clean"][1, 0], outputs["clean"][1, 2])          # grey repeated into R = G = B
    hole = ip.center_mask(64, 32, 2).expand(2, 3, 64, 64) == 0
    for name in ("biharmonic", "CE (L2)", "CE (L2+adv)"):
        assert torch.equal(outputs[name][hole], outputs["clean"][hole]), name   # only the hole is painted
    by = {r["method"]: r for r in table}
    assert list(by) == list(ip.METHODS) and by["mid-grey fill"]["grad_energy_vs_truth"] == 0
    assert all(r["hole_psnr"] > by["mid-grey fill"]["hole_psnr"] for r in table[1:])
    again, _ = ip.inpaint_images([photos[0]], members=("L2",))
    assert again[2]["method"] == "CE (L2)" and len(again) == 3


def test_inpainting_load_pretrained_and_refusals():
    G = ip.load_pretrained("L2+adv")
    assert not G.training and "inpainting" in G.meta["command"]
    with pytest.raises(ValueError, match="unknown member"):
        ip.load_pretrained("adv")
    with pytest.raises(ValueError, match="too small"):
        ip.inpaint_images([np.zeros((4, 20, 3), np.uint8)])
