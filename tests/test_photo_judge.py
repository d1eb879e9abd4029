"""The photo judge of issues 12 and 13 (course_lib.models.photo_judge, course_lib.experiments.photo_judge): input
checks, the degradations and the two-sample test it is validated with, a few training steps, and (slow) the
stored weights: accuracy above a floor and the ordering of the Fréchet distance that the notebooks state."""
from __future__ import annotations

import math
import warnings

import pytest
import torch

from course_lib.experiments import common
from course_lib.experiments import photo_judge as experiment
from course_lib.models import photo_judge as pj

ACCURACY_FLOOR = 0.55
"""The stored judge's 95-class top-1 accuracy on the 460 held-out caltech photos must exceed this (chance: 1/95;
the stored file measured 0.626, see course_lib/weights/README.md)."""
MOTORBIKE_FLOOR = 0.30
"""... and the share of the 100 held-out edges2motorbikes photos it reads as Motorbikes (measured 0.39: whole
bikes padded on white are framed unlike its centre-square training photos; the Fréchet distance is the score
for those, the class share only a sanity check)."""


def _photos(n=8, size=64, seed=0):
    """Smooth random colour images in [-1, 1] with dark and bright pixels (photo-like, not noise)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False).clamp(-1, 1)


# --- the judge's input and outputs ------------------------------------------------------------------

def test_judge_reads_64_and_128_pixel_colour_and_grey_photos():
    torch.manual_seed(0)
    net = pj.PhotoJudge(width=4).eval()
    x = _photos(3)
    logits, feats = net(x), net.features(x)
    assert logits.shape == (3, pj.NUM_CLASSES) and logits.dtype == torch.float32
    assert feats.shape == (3, pj.PhotoJudge.num_features) and (feats >= 0).all()
    big = _photos(3, size=128, seed=1)  # 128 x 128: read as its area resize (means of 2 x 2 blocks)
    small = big.reshape(3, 3, 64, 2, 64, 2).mean((3, 5))
    assert torch.allclose(net.features(big), net.features(small), atol=1e-6)
    grey = x.mean(1, keepdim=True)
    assert torch.allclose(net.features(grey), net.features(grey.expand(-1, 3, -1, -1)))
    assert pj.to_judge_input(x) is x  # 64 x 64 colour passes through untouched


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(2, 3, 32, 32), "64 x 64 or 128 x 128"),
    (torch.zeros(2, 3, 64, 48), "64 x 64 or 128 x 128"),
    (torch.zeros(2, 4, 64, 64), "N x 3 x H x W"),
    (torch.zeros(3, 64, 64), "N x 3 x H x W"),
    (torch.zeros(2, 3, 64, 64, dtype=torch.uint8), "uint8|float"),
    (torch.full((2, 3, 64, 64), 200.0), r"\[-1, 1\]"),
    (torch.full((2, 3, 64, 64), -1.5), r"\[-1, 1\]"),
])
def test_judge_rejects_bad_input_with_a_clear_message(bad, match):
    with pytest.raises(ValueError, match=match):
        pj.to_judge_input(bad)


def test_judge_warns_about_images_in_zero_one():
    x01 = (_photos(8) + 1) / 2
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        pj.to_judge_input(x01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pj.to_judge_input(_photos(8))            # real [-1, 1] photos: no warning
        pj.to_judge_input(x01[:2])               # too few images to tell: no warning


def test_photos_to_judge_range_is_the_area_resize_of_the_data_sets():
    u8 = torch.randint(0, 256, (2, 3, 128, 128), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    x = pj.photos_to_judge_range(u8)
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32 and -1 <= x.min() and x.max() <= 1
    block = u8[0, 1, 10:12, 20:22].double().mean().round()
    assert x[0, 1, 5, 10].item() == pytest.approx(block.item() / 127.5 - 1, abs=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        pj.photos_to_judge_range(u8.float())


def test_random_crop_flip_shifts_and_mirrors_whole_photos():
    x = _photos(16)
    g = torch.Generator().manual_seed(0)
    flipped = pj.random_crop_flip(x, 0, g)
    same = [(torch.equal(a, b), torch.equal(a, b.flip(-1))) for a, b in zip(flipped, x)]
    assert all(s or f for s, f in same) and any(f and not s for s, f in same) and any(s for s, _ in same)
    shifted = pj.random_crop_flip(x, 4, torch.Generator().manual_seed(1))
    assert shifted.shape == x.shape and not torch.equal(shifted, x)


def test_random_zoom_out_puts_smaller_whole_photos_on_white():
    x = _photos(16)
    before = x.clone()
    g = torch.Generator().manual_seed(0)
    assert torch.equal(pj.random_zoom_out(x, 0.0, 0.5, g), x)  # probability 0: unchanged
    assert torch.equal(pj.random_zoom_out(x, 1.0, 1.0, g), x)  # no shrinking: unchanged (pasted at 0, 0)
    out = pj.random_zoom_out(x, 1.0, 0.5, torch.Generator().manual_seed(1))
    assert torch.equal(x, before) and out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= -1 and out.max() <= 1
    white = (out == 1).all(1).float().mean((1, 2))  # share of white pixels per image
    assert (white > 0).all() and (white < 0.76).all()  # a border of white, at most 1 - 0.5^2 of the image
    half = pj.random_zoom_out(x, 0.5, 0.5, torch.Generator().manual_seed(2))
    kept = [torch.equal(a, b) for a, b in zip(half, x)]
    assert any(kept) and not all(kept)
    for bad in ((1.5, 0.5), (0.5, 0.0), (0.5, 1.2)):
        with pytest.raises(ValueError, match="probability must be in"):
            pj.random_zoom_out(x, *bad)


# --- degradations and the two-sample test -------------------------------------------------------------

def test_degradations_keep_shape_and_range_and_do_what_they_say():
    x = _photos(4)
    x[:, :, ::2, ::2] += 0.3 * torch.sign(x[:, :, ::2, ::2])  # some fine detail for the blur to remove
    x = x.clamp(-1, 1)
    out = {k: experiment.degrade(x, k, seed=0) for k in experiment.DEGRADATIONS}
    for k, y in out.items():
        assert y.shape == x.shape and y.dtype == torch.float32 and -1 <= y.min() and y.max() <= 1, k
    assert torch.equal(out["real"], x)

    def detail(y):
        return (y[..., 1:, :] - y[..., :-1, :]).abs().mean().item()

    assert detail(x) > detail(out["blur sigma 1"]) > detail(out["blur sigma 2"])
    grey = out["grey"]
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])
    assert torch.allclose(grey[:, 0], 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])
    noise = out["noise sigma 25"] - x
    assert 0.1 < noise.std().item() < 0.25  # 2 * 25 / 255 = 0.196 before clipping
    assert 0.005 < (out["JPEG q10"] - x).abs().mean().item() < 0.3
    # the tile shuffle moves whole 16 x 16 tiles: the same tiles, in other places
    shuffled = out["tiles shuffled"]

    def tiles(y):
        return sorted(tuple(y[:, :, 16 * i:16 * i + 16, 16 * j:16 * j + 16].flatten().tolist())
                      for i in range(4) for j in range(4))

    for a, b in zip(x, shuffled):
        assert tiles(a[None]) == tiles(b[None]) and not torch.equal(a, b)
    assert torch.equal(experiment.degrade(x, "tiles shuffled", seed=0), shuffled)  # seeded
    with pytest.raises(ValueError, match="unknown degradation"):
        experiment.degrade(x, "sepia")
    with pytest.raises(ValueError, match="N x 3"):
        experiment.degrade(x[:, :1], "grey")


def test_two_sample_accuracy_is_chance_for_one_distribution_and_high_for_two():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 8, generator=g), torch.randn(200, 8, generator=g)
    assert abs(experiment.two_sample_accuracy(a, b) - 0.5) < 0.1
    # means 1 apart in each of 8 dimensions: the best possible classifier is right with probability
    # Phi(sqrt(8) / 2) = 0.921; a logistic regression on 320 examples gets close to it
    bayes = 0.5 * (1 + math.erf(math.sqrt(8) / 2 / math.sqrt(2)))
    assert bayes - 0.05 < experiment.two_sample_accuracy(a, b + 1.0) <= bayes + 0.03
    with pytest.raises(ValueError, match="N x D"):
        experiment.two_sample_accuracy(a, b[:, :4])
    with pytest.raises(ValueError, match="at least 5"):
        experiment.two_sample_accuracy(a[:3], b)


# --- training -----------------------------------------------------------------------------------------

def test_a_few_training_steps_lower_the_loss(monkeypatch):
    x, y = _photos(32, seed=3), torch.arange(32) % 4
    monkeypatch.setattr(experiment, "training_photos", lambda n=None, seed=0: (x, y))
    cfg = experiment.Config.make("fast", n_train=32, batch_size=16, epochs=15, width=4, lr=1e-2)
    run = experiment.build(cfg, seed=0)
    assert run.steps == 30 and set(run.stored.values()) == {"photo_judge"}
    batches = run.batches()
    xb, yb = next(batches)
    assert xb.shape == (16, 3, 64, 64) and yb.dtype == torch.int64 and -1 <= xb.min() and xb.max() <= 1
    run.net.train()
    losses = [experiment.train_step(run, next(batches))["loss"] for _ in range(run.steps)]
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    with pytest.raises(ValueError, match="unknown photo_judge member"):
        experiment.build(cfg, "nope")


def test_the_judge_is_never_retrained_from_the_environment():
    assert experiment.RETRAIN_FROM_ENVIRONMENT is False and experiment.MEMBERS == ("photo_judge",)


def test_load_photo_judge_never_trains_and_says_how_to_restore(monkeypatch, tmp_path):
    from course_lib import checkpoints

    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m course_lib train photo_judge"):
        pj.load_photo_judge()


# --- the stored weights (slow: the held-out photos and every degradation) ------------------------------

class _Run:
    def __init__(self, net):
        self.net = net


@pytest.fixture(scope="module")
def stored_table():
    torch.set_num_threads(1)
    judge = pj.load_photo_judge()
    rows, extras = experiment.evaluate(experiment.Config.make("fast"), {"photo_judge": _Run(judge)})
    return judge, {r["photos"]: r for r in rows}, extras


@pytest.mark.slow
def test_stored_judge_loads_without_training_and_beats_the_accuracy_floor(stored_table, monkeypatch):
    judge, table, extras = stored_table
    assert judge.meta["trained"] is False and not any(p.requires_grad for p in judge.parameters())
    assert judge.meta["command"] == "python -m course_lib train photo_judge --profile fast --seed 0"
    assert extras["test_accuracy"] == table["caltech test: real"]["top1"] > ACCURACY_FLOOR
    assert table["motorbikes test: real"]["top1"] > MOTORBIKE_FLOOR
    # issue 12's semantic test needs room between grey and true colour: colour matters to the judge
    assert table["caltech test: grey"]["top1"] < table["caltech test: real"]["top1"] - 0.05
    from course_lib import checkpoints

    readme = (checkpoints.WEIGHTS_DIR / "README.md").read_text()
    assert "python -m course_lib train photo_judge --seed 0" in readme and "`photo_judge.pt`" in readme
    monkeypatch.setenv("COURSE_RETRAIN", "1")  # the judge is the scale: COURSE_RETRAIN does not retrain it
    runs = common.load(experiment, experiment.Config.make("fast"))
    assert runs["photo_judge"].meta["trained"] is False


@pytest.mark.slow
@pytest.mark.parametrize("photos", ["caltech test", "motorbikes test"])
def test_stored_judge_orders_real_blurred_and_shuffled_photos(stored_table, photos):
    """The finding the notebooks state: a second real sample is closest to the real reference, blurred photos
    farther (more blur, farther), tile-shuffled ones farther still; the two-sample test cannot tell real from
    real and tells the shuffled photos apart; damage lowers top-1 accuracy."""
    _, table, _ = stored_table
    row = {k: table[f"{photos}: {k}"] for k in experiment.DEGRADATIONS}
    fd = {k: r["frechet"] for k, r in row.items()}
    assert fd["real"] < fd["blur sigma 1"] < fd["blur sigma 2"]
    assert fd["real"] < fd["blur sigma 1"] < fd["tiles shuffled"]
    assert all(fd["real"] < fd[k] for k in experiment.DEGRADATIONS[1:])
    assert abs(row["real"]["two_sample"] - 0.5) < 0.1 < row["tiles shuffled"]["two_sample"] - 0.5
    assert row["blur sigma 2"]["top1"] < row["real"]["top1"] and row["tiles shuffled"]["top1"] < row["real"]["top1"]
