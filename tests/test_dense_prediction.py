"""Fast tests of notebook 02's parts: the canvas dataset, the three models, training, metrics, the stored
weights, and the notebook's forward pass and training step against the library's."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from course_lib.checkpoints import load_weights
from course_lib.cost import count_macs
from course_lib.data.canvas import ITEM_SIZE, NUM_CLASSES, PatchSampler, make_canvases
from course_lib.data.fashion_mnist import load_fashion_mnist
from course_lib.device import seed_everything
from course_lib.experiments import common
from course_lib.experiments import dense_prediction as dp
from course_lib.experiments.plots import dense_prediction as dpp
from course_lib.metrics import accuracy_by_boundary_distance, boundary_distance
from course_lib.models.dense import (EncoderDecoder, SlidingWindowClassifier, UNet, convolutionalize, macs_per_image,
                                     redundancy, windows_containing)
from notebook_cells import cell_namespace

NOTEBOOK = "02_dense_prediction.ipynb"
PREAMBLE = "import torch\nimport torch.nn.functional as F\n"


@pytest.fixture(scope="module")
def small():
    return make_canvases("train", n=24, size=48, items=(2, 4), seed=3)


@pytest.fixture(scope="module")
def tiny():
    return make_canvases("train", n=16, size=32, items=(1, 2), seed=4, classes=(1, 8))


# ----------------------------------------------------------------------------- canvases

def test_canvas_shapes_dtypes_ranges(small):
    assert small.images.shape == (24, 1, 48, 48) and small.images.dtype == torch.float32
    assert small.labels.shape == (24, 48, 48) and small.labels.dtype == torch.int64
    assert 0.0 <= small.images.min() and small.images.max() <= 1.0
    assert 0 <= small.labels.min() and small.labels.max() < NUM_CLASSES
    counts = (small.source_index >= 0).sum(1)
    assert counts.min() >= 2 and counts.max() <= 4


def test_labels_consistent_with_pixels(small):
    fg = small.labels > 0
    assert torch.equal(fg, small.images[:, 0] > small.threshold)
    assert torch.all(small.images[:, 0][~fg] == 0)
    # every foreground label belongs to one of the canvas's items
    for i in range(len(small)):
        present = set((small.labels[i].unique() - 1).tolist()) - {-1}
        assert present <= set(small.source_class[i].tolist())


def test_last_item_is_pasted_on_top(small):
    """The last item's visible pixels equal the source image exactly (nothing occludes it)."""
    images, classes = load_fashion_mnist("train")
    for i in range(len(small)):
        j = int((small.source_index[i] >= 0).sum()) - 1
        src = int(small.source_index[i, j])
        top, left = small.positions[i, j].tolist()
        item = torch.from_numpy(images[src].astype(np.float32) / 255.0)
        mask = item > small.threshold
        window = small.images[i, 0, top:top + ITEM_SIZE, left:left + ITEM_SIZE]
        labels = small.labels[i, top:top + ITEM_SIZE, left:left + ITEM_SIZE]
        assert torch.equal(window[mask], item[mask])
        assert torch.all(labels[mask] == 1 + int(classes[src]))
        assert int(small.source_class[i, j]) == int(classes[src])


def test_held_out_uses_test_split():
    test = make_canvases("test", n=6, size=48, items=(1, 1), seed=0)
    assert test.split == "test"
    assert int(test.source_index.max()) < 10_000
    test_images, _ = load_fashion_mnist("test")
    train_images, _ = load_fashion_mnist("train")
    for i in range(len(test)):
        src = int(test.source_index[i, 0])
        top, left = test.positions[i, 0].tolist()
        window = test.images[i, 0, top:top + ITEM_SIZE, left:left + ITEM_SIZE]
        item = torch.from_numpy(test_images[src].astype(np.float32) / 255.0)
        mask = item > test.threshold
        assert torch.equal(window[mask], item[mask])
        other = torch.from_numpy(train_images[src].astype(np.float32) / 255.0)
        assert not torch.equal(window, torch.where(other > test.threshold, other, 0.0))


def test_canvases_deterministic_by_seed():
    a = make_canvases("train", n=5, size=48, seed=7)
    torch.manual_seed(123)
    np.random.seed(123)
    b = make_canvases("train", n=5, size=48, seed=7)
    c = make_canvases("train", n=5, size=48, seed=8)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_class_subset_relabels():
    c = make_canvases("test", n=20, size=48, items=(2, 3), seed=5, classes=(9, 1))
    assert c.num_classes == 3 and c.class_names == ("background", "Ankle boot", "Trouser")
    assert set(c.source_class[c.source_index >= 0].tolist()) <= {9, 1}
    assert set(c.labels.unique().tolist()) <= {0, 1, 2}
    images, classes = load_fashion_mnist("test")
    for i in range(len(c)):
        j = int((c.source_index[i] >= 0).sum()) - 1  # the top item is fully visible
        src = int(c.source_index[i, j])
        top, left = c.positions[i, j].tolist()
        mask = torch.from_numpy(images[src] > c.threshold * 255)
        window = c.labels[i, top:top + ITEM_SIZE, left:left + ITEM_SIZE]
        assert torch.all(window[mask] == 1 + (9, 1).index(int(classes[src])))


@pytest.mark.parametrize("kwargs", [dict(split="val"), dict(n=0), dict(size=20), dict(items=(3, 2)),
                                    dict(threshold=1.5), dict(seed=-1), dict(classes=(1, 1)),
                                    dict(classes=(10,)), dict(classes=())])
def test_canvas_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_canvases(**{"n": 2, **kwargs})


# ----------------------------------------------------------------------------- models

@pytest.mark.parametrize("cls", [EncoderDecoder, UNet])
def test_dense_model_shapes(cls):
    m = cls(1, NUM_CLASSES, base_channels=4)
    assert m(torch.zeros(2, 1, 48, 40)).shape == (2, NUM_CLASSES, 48, 40)
    with pytest.raises(ValueError):
        m(torch.zeros(1, 1, 44, 48))


def test_sliding_window_shapes_and_redundancy():
    m = SlidingWindowClassifier(1, NUM_CLASSES, patch_size=9, width=4, hidden=8)
    assert m(torch.zeros(5, 1, 9, 9)).shape == (5, NUM_CLASSES)
    assert m.segment(torch.rand(2, 1, 16, 16)).shape == (2, NUM_CLASSES, 16, 16)
    assert redundancy(m) == 81 and redundancy(UNet(1, 2, 4)) == 1
    assert windows_containing(8, 8, 16, 9) == 81
    assert windows_containing(0, 0, 16, 9) == 25


def test_segment_matches_patch_classification_and_convolutionalized():
    torch.manual_seed(0)
    m = SlidingWindowClassifier(1, NUM_CLASSES, patch_size=9, width=4, hidden=8).eval()
    images = torch.rand(2, 1, 16, 16)
    seg = m.segment(images)
    sampler = PatchSampler(make_canvases("train", n=1, size=32, seed=0), 9, 1)
    # the patch centred on pixel (5, 7) of image 1, cut with the sampler's indexing
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    patch = padded[1:2, :, 5:14, 7:16]
    assert torch.allclose(m(patch)[0], seg[1, :, 5, 7], atol=1e-5)
    assert sampler.sample()[0].shape == (1, 1, 9, 9)
    fcn = convolutionalize(m).eval()
    with torch.no_grad():
        assert torch.allclose(fcn(images), seg, atol=1e-5)


def test_patch_sampler_labels_are_centre_labels(small):
    sampler = PatchSampler(small, 15, 64, seed=0)
    patches, labels = sampler.sample()
    assert patches.shape == (64, 1, 15, 15) and labels.shape == (64,)
    centre = patches[:, 0, 7, 7]
    assert torch.equal(centre > small.threshold, labels > 0)


def test_count_macs():
    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    assert count_macs(conv, torch.zeros(1, 2, 5, 5)) == 5 * 5 * 3 * 2 * 9
    sw = SlidingWindowClassifier(1, 4, patch_size=7, width=2, hidden=3)
    per_patch = 5 * 5 * 2 * 9 + 3 * 3 * 2 * 2 * 9 + 1 * 2 * 2 * 9 + 2 * 3 + 3 * 4
    assert macs_per_image(sw, 8) == per_patch * 64


# ----------------------------------------------------------------------------- training

def tiny_config(**overrides):
    """The ``tiny`` fixture's canvases as a config's training set (``cfg.canvases("train", 4)``)."""
    return dp.Config.make("fast", n_train=16, n_test=4, size=32, items=(1, 2), classes=(1, 8), **overrides)


@pytest.mark.parametrize("name", ["encoder-decoder", "U-Net"])
def test_dense_training_reduces_loss(tiny, name):
    cfg = tiny_config(base_channels=4, dense_steps=60, dense_batch=8, lr=1e-2)
    run = dp.build(cfg, name, seed=4)
    assert torch.equal(cfg.canvases("train", 4).images, tiny.images)
    x, y = tiny.images[:8], tiny.labels[:8]
    with torch.no_grad():
        before = torch.nn.functional.cross_entropy(run.net.eval()(x), y).item()
    hist = common.fit(dp, run, progress=False)
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(run.net.eval()(x), y).item()
    assert len(hist["loss"]) == 60
    assert np.mean(hist["loss"][-5:]) < 0.7 * np.mean(hist["loss"][:5])  # training batches
    assert after < before  # eval mode (BatchNorm running statistics), fixed canvases


def test_sliding_window_training_reduces_loss(tiny):
    cfg = tiny_config(patch_size=9, sw_width=8, sw_hidden=16, sw_steps=80, sw_batch=128, sw_lr=3e-3)
    run = dp.build(cfg, "sliding window", seed=4)
    patches, labels = PatchSampler(tiny, 9, 512, seed=99).sample()
    with torch.no_grad():
        before = torch.nn.functional.cross_entropy(run.net(patches), labels).item()
    hist = common.fit(dp, run, progress=False)
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(run.net.eval()(patches), labels).item()
    assert np.mean(hist["loss"][-5:]) < 0.7 * np.mean(hist["loss"][:5])
    assert after < 0.8 * before


def test_evaluate_scores_a_perfect_and_a_wrong_model():
    class Oracle(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.in_channels = 1

        def forward(self, x):  # labels from the canvas itself are not available: use a lookup
            return torch.nn.functional.one_hot(self.labels, NUM_CLASSES).permute(0, 3, 1, 2).float()

    cfg = dp.Config.make("fast", n_test=24, size=48, items=(2, 4), classes=tuple(range(10)), eval_batch=24)
    test = cfg.canvases("test", seed=0)
    oracle = Oracle()
    run = common.Run(models={"net": oracle}, stored={}, steps=0, batches=lambda: iter(()))
    oracle.labels = test.labels
    rows, extras = dp.evaluate(cfg, {"U-Net": run})
    scores = rows[0]
    assert scores["model"] == "U-Net" and len(rows) == 1 and torch.equal(extras["predictions"]["U-Net"], test.labels)
    assert scores["pixel_accuracy"] == 1.0 and scores["mean_iou"] == 1.0 and scores["boundary_accuracy"] == 1.0
    oracle.labels = torch.zeros_like(test.labels)
    scores = dp.evaluate(cfg, {"U-Net": run})[0][0]
    assert scores["pixel_accuracy"] < 1.0 and scores["boundary_accuracy"] < 0.6


def test_disagreement_and_compare():
    target = torch.tensor([[[0, 1, 1, 2]]])
    a = torch.tensor([[[0, 1, 1, 0]]])
    b = torch.tensor([[[0, 0, 1, 2]]])
    assert dpp.disagreement(a, b, target) == (1, 1)
    assert dpp.disagreement(a, target, target) == (0, 1)
    assert dpp.disagreement(a, b, target, where=torch.tensor([[[True, True, False, False]]])) == (1, 0)
    base = dict(pixel_accuracy=0.8, mean_iou=0.5, boundary_accuracy=0.6, seconds_per_image=0.001,
                macs_per_image=20e6, redundancy=1)
    rows = [dict(base, model="sliding window", mean_iou=0.6, seconds_per_image=0.05, macs_per_image=1e9,
                 redundancy=225),
            dict(base, model="encoder-decoder", mean_iou=0.3, macs_per_image=16e6),
            dict(base, model="U-Net", boundary_accuracy=0.7)]
    lines = dpp.compare(rows)
    assert "Highest mean IoU: sliding window (0.600)." in lines
    assert "Highest boundary accuracy: U-Net (0.700)." in lines
    assert any("mean IoU +0.200" in line and "+25% multiply-adds" in line for line in lines)
    assert any("50x the time per image" in line and "225 times" in line for line in lines)
    with pytest.raises(ValueError):
        dpp.compare(rows[:2])


def test_train_then_load_returns_plain_data(tmp_path, monkeypatch):
    """Train-or-load round trip at a tiny size (seed 1: the files go to COURSE_WEIGHTS_DIR, never to the
    committed weights): the loaded float16 weights give the same labels as the trained models, up to a
    few pixels."""
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    cfg = dp.Config.make("fast", n_train=16, n_test=2, size=32, items=(1, 2), base_channels=4, dense_steps=2,
                         dense_batch=4, patch_size=7, sw_width=4, sw_hidden=8, sw_steps=2, sw_batch=16)
    trained = common.train(dp, cfg, seed=1, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s}_fast_seed1.pt" for s in dp.STEMS.values())
    rows, extras = dp.evaluate(cfg, trained, seed=1)
    json.dumps(rows, allow_nan=False)  # plain data only, valid JSON
    json.dumps({k: v for k, v in extras.items() if k != "predictions"}, allow_nan=False)
    assert [r["model"] for r in rows] == list(dp.MEMBERS)
    assert [tuple(r) for r in rows] == [dp.TABLE_COLUMNS] * 3
    assert rows[0]["redundancy"] == 49 and rows[2]["redundancy"] == 1
    assert [r["train_steps"] for r in extras["rows"]] == [2, 2, 2]
    for r in rows:
        assert 0 <= r["pixel_accuracy"] <= 1 and 0 <= r["mean_iou"] <= 1 and r["seconds_per_image"] > 0
    loaded = common.load(dp, cfg, seed=1)
    assert not any(run.meta["trained"] for run in loaded.values())
    rows_loaded, extras_loaded = dp.evaluate(cfg, loaded, seed=1)
    for name in dp.MEMBERS:
        same = (extras_loaded["predictions"][name] == extras["predictions"][name]).float().mean().item()
        assert same > 0.99, (name, same)


def test_boundary_distance():
    t = torch.zeros(1, 7, 7, dtype=torch.long)
    t[0, :, 4:] = 1
    d = boundary_distance(t, max_distance=3)
    assert d[0, 0].tolist() == [3, 2, 1, 0, 0, 1, 2]
    pred = t.clone()
    pred[0, :, 3] = 1  # wrong on one boundary column only
    acc = accuracy_by_boundary_distance(pred, t, max_distance=3)
    assert acc[0] == pytest.approx(0.5) and acc[1] == 1.0 and acc[2] == 1.0


def test_config_profiles():
    fast, full = dp.Config.make("fast"), dp.Config.make("full")
    assert fast.size % 8 == 0 and full.size % 8 == 0
    assert full.n_train > fast.n_train and full.dense_steps > fast.dense_steps
    assert fast.classes == dp.FAST_CLASSES and fast.num_classes == 6 and full.num_classes == 11
    with pytest.raises(ValueError):
        dp.Config.make("fast", size=50)
    with pytest.raises(ValueError):
        dp.Config.make("fast", nonsense=1)
    with pytest.raises(ValueError):
        dp.build(fast, "transformer")


# ----------------------------------------------------------------------------- stored weights

@pytest.mark.parametrize("name", dp.MEMBERS)
def test_stored_weights_load_and_name_their_command(name):
    cfg = dp.Config.make("fast")
    path = common.weights_path(dp.STEMS[name])
    assert path.is_file(), f"{path} is missing: run `{common.train_command('dense_prediction')}`"
    assert path.stat().st_size < 0.5e6
    meta = load_weights(dp.build(cfg, name).net, path)
    assert meta["command"] == common.train_command("dense_prediction", "fast", 0, name)
    assert len(meta["loss_curve"]["loss"]) == 100 and meta["loss_curve"]["step"][-1] == meta["steps"]
    assert meta["seed"] == 0 and meta["member"] == name
    assert meta["steps"] == (cfg.sw_steps if name == "sliding window" else cfg.dense_steps)


# ----------------------------------------------------------------------------- the notebook's mechanism cells

def test_notebook_unet_forward_is_the_library_forward():
    ns = cell_namespace(NOTEBOOK, defines="unet_forward", preamble=PREAMBLE)
    torch.manual_seed(0)
    net = UNet(1, 6, base_channels=4)
    x = torch.rand(3, 1, 32, 40)
    for mode in ("train", "eval"):  # BatchNorm: batch statistics, then running statistics
        getattr(net, mode)()
        with torch.no_grad():
            assert torch.equal(ns["unet_forward"](net, x), net(x)), mode
    run = dp.build(dp.Config.make("fast"), "U-Net", seed=0)
    load_weights(run.net, common.weights_path(dp.STEMS["U-Net"]))
    x = dp.Config.make("fast", n_test=4).canvases("test").images.to(memory_format=torch.channels_last)
    with torch.no_grad():
        assert torch.equal(ns["unet_forward"](run.net.eval(), x), run.net(x))


@pytest.mark.parametrize("name", dp.MEMBERS)
def test_notebook_train_step_is_the_library_train_step(name):
    ns = cell_namespace(NOTEBOOK, defines="dense_train_step", preamble=PREAMBLE)
    cfg = dp.Config.make("fast", n_train=32, size=32, base_channels=4, dense_batch=8, dense_steps=5, sw_width=4,
                         sw_hidden=8, sw_batch=32, sw_steps=5)
    seed_everything(3)
    a = dp.build(cfg, name, seed=3)
    seed_everything(3)
    b = dp.build(cfg, name, seed=3)
    start = {k: v.clone() for k, v in a.net.state_dict().items()}
    batches_a, batches_b = a.batches(), b.batches()
    for _ in range(3):
        batch_a, batch_b = next(batches_a), next(batches_b)
        assert all(torch.equal(u, v) for u, v in zip(batch_a, batch_b))
        assert ns["dense_train_step"](a, batch_a) == dp.train_step(b, batch_b)
    state_a, state_b = a.net.state_dict(), b.net.state_dict()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_b)
    assert not all(torch.equal(start[k], state_a[k]) for k in start)  # the steps did train
    assert a.sched.get_last_lr() == b.sched.get_last_lr()
