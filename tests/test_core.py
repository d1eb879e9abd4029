"""course_lib core: profile switch, device and seeding, image helpers, training loop."""
import numpy as np
import pytest
import torch

from course_lib import get_device, get_profile, seed_everything
from course_lib.imaging import image_grid, image_to_tensor, plot_losses, tensor_to_image, to_symmetric_range
from course_lib.train import train_loop


def test_profile_from_environment_and_argument(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert get_profile().name == "full" and get_profile().source == "environment"
    monkeypatch.setenv("COURSE_PROFILE", " FAST ")
    P = get_profile()
    assert P.is_fast and P.pick(fast=1, full=2) == 1
    assert get_profile("full").pick(fast=1, full=2) == 2


def test_profile_default_is_fast_on_any_device(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert get_profile().name == "fast"
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)  # a GPU (Colab's too) does not switch to full
    assert (get_profile().name, get_profile().source) == ("fast", "default")


def test_bad_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    with pytest.raises(ValueError, match="COURSE_PROFILE='quick'.*fast"):
        get_profile()
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("medium")


def test_device_choice(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    dev = get_device()
    assert dev.type in ("cuda", "mps", "cpu") and (expected is None or dev.type == expected)
    assert get_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            get_device("cuda")


def test_seed_everything_repeats_all_generators():
    g = seed_everything(123)
    a = (np.random.rand(3), torch.rand(3), torch.rand(2, generator=g))
    g = seed_everything(123)
    b = (np.random.rand(3), torch.rand(3), torch.rand(2, generator=g))
    assert all(np.allclose(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_image_round_trip_and_ranges():
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3) * 4
    t = image_to_tensor(rgb, value_range="-1,1")
    assert t.shape == (3, 4, 5) and t.dtype == torch.float32
    assert t.min() >= -1 and t.max() <= 1 and torch.isclose(t[0, 0, 0], torch.tensor(-1.0))
    back = tensor_to_image(t, value_range="-1,1")
    assert back.shape == (4, 5, 3) and np.allclose(back * 255, rgb, atol=1e-3)
    grey = tensor_to_image(image_to_tensor(rgb[:, :, 0]))
    assert grey.shape == (4, 5)
    assert torch.allclose(to_symmetric_range(torch.tensor([0.0, 0.5, 1.0])), torch.tensor([-1.0, 0.0, 1.0]))


def test_image_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="expected \\[0, 1\\]"):
        image_to_tensor(np.full((2, 2), 200.0))
    with pytest.raises(ValueError, match="batch of 2"):
        tensor_to_image(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="value_range"):
        image_to_tensor(np.zeros((2, 2), np.uint8), value_range="0,255")


def test_image_grid_uses_make_grid_layout():
    batch = torch.rand(6, 1, 8, 8)
    grid = image_grid(batch, nrow=3, padding=2)
    assert grid.shape == (2 * 10 + 2, 3 * 10 + 2, 3)
    assert 0 <= grid.min() and grid.max() <= 1


def test_train_loop_reduces_a_loss_and_records_samples():
    seed_everything(0)
    x = torch.randn(64, 4)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]

    def step(batch):
        xb, yb = batch
        loss = ((model(xb).squeeze(1) - yb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    shown = []
    history = train_loop(step, batches, steps=40, sample_fn=lambda s: torch.zeros(2, 1, 4, 4), sample_every=20,
                         show_samples=lambda imgs, s: shown.append(s), progress=False)
    assert len(history["loss"]) == 40
    assert history["loss"][-1] < 0.05 * history["loss"][0]
    assert shown == [20, 40] and [s for s, _ in history["_samples"]] == [20, 40]
    ax = plot_losses(history, smooth=5)
    assert len(ax.lines) == 1


def test_train_loop_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        train_loop(lambda b: {}, [1], steps=0)
    with pytest.raises(ValueError, match="dict"):
        train_loop(lambda b: 1.0, [1], steps=1, progress=False)
    with pytest.raises(ValueError, match="no batch"):
        train_loop(lambda b: {}, [], steps=1, progress=False)


def test_summarize_seeds_means_and_sds():
    import math

    from course_lib.experiments.common import summarize_seeds

    tables = [[{"objective": "L1", "acc": 0.5, "frd": 10.0, "note": "x", "ok": True},
               {"objective": "cGAN", "acc": 0.2, "frd": float("nan"), "note": "y", "ok": False}],
              [{"objective": "L1", "acc": 0.7, "frd": 14.0, "note": "x", "ok": True},
               {"objective": "cGAN", "acc": 0.4, "frd": 3.0, "note": "y", "ok": False}]]
    rows = summarize_seeds(tables)
    assert [r["objective"] for r in rows] == ["L1", "cGAN"]
    assert math.isclose(rows[0]["acc"], 0.6) and math.isclose(rows[0]["acc_sd"], 0.02 ** 0.5)
    assert math.isclose(rows[0]["frd"], 12.0) and math.isclose(rows[0]["frd_sd"], 8 ** 0.5)
    assert rows[1]["frd"] == 3.0 and math.isnan(rows[1]["frd_sd"])  # nan left out: one value, no sd
    assert "note" not in rows[0] and "ok" not in rows[0] and rows[0]["n_seeds"] == 2
    inf = float("inf")
    rows = summarize_seeds([[{"r": "real", "psnr": inf, "x": inf}], [{"r": "real", "psnr": inf, "x": 1.0}]])
    assert rows[0]["psnr"] == inf and rows[0]["psnr_sd"] == 0.0
    assert math.isnan(rows[0]["x"]) and math.isnan(rows[0]["x_sd"])
    with pytest.raises(ValueError, match="different rows"):
        summarize_seeds([tables[0], tables[1][::-1]])
    with pytest.raises(ValueError, match="at least one"):
        summarize_seeds([])
