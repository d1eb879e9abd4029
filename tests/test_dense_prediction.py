"""Fast tests of notebook 02's parts: the canvas dataset, the three models, training and metrics."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from course_lib.data.canvas import ITEM_SIZE, NUM_CLASSES, make_canvases
from course_lib.data.fashion_mnist import load_fashion_mnist
from course_lib.experiments import dense_prediction as dp
from course_lib.metrics import accuracy_by_boundary_distance, boundary_distance
from course_lib.models.dense import EncoderDecoder, SlidingWindowClassifier, UNet


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
    assert dp.redundancy(m) == 81 and dp.redundancy(UNet(1, 2, 4)) == 1
    assert dp.windows_containing(8, 8, 16, 9) == 81
    assert dp.windows_containing(0, 0, 16, 9) == 25


def test_segment_matches_patch_classification_and_convolutionalized():
    torch.manual_seed(0)
    m = SlidingWindowClassifier(1, NUM_CLASSES, patch_size=9, width=4, hidden=8).eval()
    images = torch.rand(2, 1, 16, 16)
    seg = m.segment(images)
    sampler = dp.PatchSampler(make_canvases("train", n=1, size=32, seed=0), 9, 1)
    # the patch centred on pixel (5, 7) of image 1, cut with the sampler's indexing
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    patch = padded[1:2, :, 5:14, 7:16]
    assert torch.allclose(m(patch)[0], seg[1, :, 5, 7], atol=1e-5)
    assert sampler.sample()[0].shape == (1, 1, 9, 9)
    fcn = dp.convolutionalize(m).eval()
    with torch.no_grad():
        assert torch.allclose(fcn(images), seg, atol=1e-5)


def test_patch_sampler_labels_are_centre_labels(small):
    sampler = dp.PatchSampler(small, 15, 64, seed=0)
    patches, labels = sampler.sample()
    assert patches.shape == (64, 1, 15, 15) and labels.shape == (64,)
    centre = patches[:, 0, 7, 7]
    assert torch.equal(centre > small.threshold, labels > 0)


def test_count_macs():
    conv = torch.nn.Conv2d(2, 3, 3, padding=1)
    assert dp.count_macs(conv, torch.zeros(1, 2, 5, 5)) == 5 * 5 * 3 * 2 * 9
    sw = SlidingWindowClassifier(1, 4, patch_size=7, width=2, hidden=3)
    per_patch = 5 * 5 * 2 * 9 + 3 * 3 * 2 * 2 * 9 + 1 * 2 * 2 * 9 + 2 * 3 + 3 * 4
    assert dp.macs_per_image(sw, 8) == per_patch * 64


# ----------------------------------------------------------------------------- training

@pytest.mark.parametrize("name", ["encoder-decoder", "U-Net"])
def test_dense_training_reduces_loss(tiny, name):
    cfg = dp.make_config("fast", base_channels=4, classes=tiny.classes)
    model = dp.build_model(name, cfg, seed=0)
    x, y = tiny.images[:8], tiny.labels[:8]
    with torch.no_grad():
        before = torch.nn.functional.cross_entropy(model.eval()(x), y).item()
    hist = dp.train_dense(model, tiny, steps=60, batch_size=8, lr=1e-2, seed=0, progress=False)
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(model.eval()(x), y).item()
    assert len(hist["loss"]) == 60
    assert np.mean(hist["loss"][-5:]) < 0.7 * np.mean(hist["loss"][:5])  # training batches
    assert after < before  # eval mode (BatchNorm running statistics), fixed canvases


def test_sliding_window_training_reduces_loss(tiny):
    model = SlidingWindowClassifier(1, tiny.num_classes, patch_size=9, width=8, hidden=16)
    patches, labels = dp.PatchSampler(tiny, 9, 512, seed=99).sample()
    with torch.no_grad():
        before = torch.nn.functional.cross_entropy(model(patches), labels).item()
    hist = dp.train_sliding_window(model, tiny, steps=80, batch_size=128, lr=3e-3, seed=0, progress=False)
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(model.eval()(patches), labels).item()
    assert np.mean(hist["loss"][-5:]) < 0.7 * np.mean(hist["loss"][:5])
    assert after < 0.8 * before


def test_evaluate_scores_a_perfect_and_a_wrong_model(small):
    class Oracle(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.in_channels = 1

        def forward(self, x):  # labels from the canvas itself are not available: use a lookup
            return torch.nn.functional.one_hot(self.labels, NUM_CLASSES).permute(0, 3, 1, 2).float()

    oracle = Oracle()
    oracle.labels = small.labels
    scores = dp.evaluate(oracle, small, batch_size=len(small))
    assert scores["pixel_accuracy"] == 1.0 and scores["mean_iou"] == 1.0 and scores["boundary_accuracy"] == 1.0
    oracle.labels = torch.zeros_like(small.labels)
    scores = dp.evaluate(oracle, small, batch_size=len(small))
    assert scores["pixel_accuracy"] < 1.0 and scores["boundary_accuracy"] < 0.6


def test_disagreement_and_compare():
    target = torch.tensor([[[0, 1, 1, 2]]])
    a = torch.tensor([[[0, 1, 1, 0]]])
    b = torch.tensor([[[0, 0, 1, 2]]])
    assert dp.disagreement(a, b, target) == (1, 1)
    assert dp.disagreement(a, target, target) == (0, 1)
    assert dp.disagreement(a, b, target, where=torch.tensor([[[True, True, False, False]]])) == (1, 0)
    base = dict(pixel_accuracy=0.8, mean_iou=0.5, boundary_accuracy=0.6, seconds_per_image=0.001,
                macs_per_image=20e6, redundancy=1)
    rows = [dict(base, model="sliding window", mean_iou=0.6, seconds_per_image=0.05, macs_per_image=1e9,
                 redundancy=225),
            dict(base, model="encoder-decoder", mean_iou=0.3, macs_per_image=16e6),
            dict(base, model="U-Net", boundary_accuracy=0.7)]
    lines = dp.compare(rows)
    assert "Highest mean IoU: sliding window (0.600)." in lines
    assert "Highest boundary accuracy: U-Net (0.700)." in lines
    assert any("mean IoU +0.200" in line and "+25% multiply-adds" in line for line in lines)
    assert any("50x the time per image" in line and "225 times" in line for line in lines)
    with pytest.raises(ValueError):
        dp.compare(rows[:2])


def test_run_returns_plain_data():
    out = dp.run("fast", seed=0, progress=False, n_train=16, n_test=2, size=32, items=(1, 2), base_channels=4,
                 dense_steps=2, dense_batch=4, patch_size=7, sw_width=4, sw_hidden=8, sw_steps=2, sw_batch=16)
    json.dumps(out, allow_nan=False)  # plain data only, valid JSON
    assert [r["model"] for r in out["rows"]] == list(dp.MODEL_NAMES)
    assert [tuple(r) for r in out["table"]] == [dp.TABLE_COLUMNS] * 3
    assert out["rows"][0]["redundancy"] == 49 and out["rows"][2]["redundancy"] == 1
    assert out["config"]["dense_steps"] == 2 and out["profile"] == "fast"
    for r in out["rows"]:
        assert 0 <= r["pixel_accuracy"] <= 1 and 0 <= r["mean_iou"] <= 1 and r["seconds_per_image"] > 0


def test_boundary_distance():
    t = torch.zeros(1, 7, 7, dtype=torch.long)
    t[0, :, 4:] = 1
    d = boundary_distance(t, max_distance=3)
    assert d[0, 0].tolist() == [3, 2, 1, 0, 0, 1, 2]
    pred = t.clone()
    pred[0, :, 3] = 1  # wrong on one boundary column only
    acc = accuracy_by_boundary_distance(pred, t, max_distance=3)
    assert acc[0] == pytest.approx(0.5) and acc[1] == 1.0 and acc[2] == 1.0


def test_make_config_profiles():
    fast, full = dp.make_config("fast"), dp.make_config("full")
    assert fast.size % 8 == 0 and full.size % 8 == 0
    assert full.n_train > fast.n_train and full.dense_steps > fast.dense_steps
    with pytest.raises(ValueError):
        dp.make_config("fast", size=50)
    with pytest.raises(ValueError):
        dp.make_config("fast", nonsense=1)
