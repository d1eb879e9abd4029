"""``python -m course_lib bench`` (course_lib/bench.py): the record has every field, the FLOP counter counts
known layers right, fp32 and the fast path both run through the experiments' own training steps, bad
devices are clear errors. Everything at the hidden test sizes (``tiny``: 32 x 32, tiny widths); the GPU
paths are checked with mocks here and run for real only where CUDA is available (skipped otherwise).

Times (2-core CPU, OMP_NUM_THREADS=1): the tiny benchmark of all four models about 2 s (once per module),
every other test well under a second.
"""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from course_lib import bench
from course_lib.__main__ import main

MODEL_FIELDS = {"model", "description", "images_per_step", "parameters", "matmul", "flops_per_step", "fp32", "fast",
                "speedup"}
RESULT_FIELDS = {"precision", "channels_last", "step_seconds", "step_seconds_median", "peak_memory_mib", "img_per_s",
                 "achieved_flop_per_s", "fraction_of_matmul"}
TOP_FIELDS = {"device", "device_name", "torch", "python", "threads", "OMP_NUM_THREADS", "cpu_count", "date",
              "load_average_before", "load_average_after", "fast_path", "warmup_steps", "timed_steps", "statistic",
              "tiny", "flop_counter", "memory_method", "matmul", "matmul_end", "models"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    code = main(["bench", "--device", "cpu", "--tiny", "--steps", "2", "--warmup", "1", "--matmul-n", "64",
                 "--out", str(out)])
    assert code == 0
    return json.loads(out.read_text())


def test_the_json_has_every_field(tiny_run):
    assert TOP_FIELDS | {"command"} <= set(tiny_run), sorted(TOP_FIELDS - set(tiny_run))
    assert tiny_run["command"].startswith("python -m course_lib bench --device cpu") and tiny_run["tiny"] is True
    assert [r["model"] for r in tiny_run["models"]] == list(bench.MODELS)
    assert tiny_run["warmup_steps"] == 1 and tiny_run["timed_steps"] == 2
    assert tiny_run["threads"] == torch.get_num_threads() and tiny_run["torch"] == torch.__version__
    assert tiny_run["matmul"]["fp32"]["n"] == 64 and tiny_run["matmul_end"]["fp32"]["flop_per_s"] > 0
    for row in tiny_run["models"]:
        assert MODEL_FIELDS <= set(row), (row["model"], sorted(MODEL_FIELDS - set(row)))
        assert row["flops_per_step"] > 0 and row["parameters"] > 0 and row["images_per_step"] >= 1
        for key in ("fp32", "fast"):
            res = row[key]
            assert RESULT_FIELDS <= set(res), (row["model"], key, sorted(RESULT_FIELDS - set(res)))
            assert len(res["step_seconds"]) == 2 and res["img_per_s"] > 0 and res["peak_memory_mib"] >= 0
            assert res["img_per_s"] == pytest.approx(row["images_per_step"] / res["step_seconds_median"])
            assert res["fraction_of_matmul"] == pytest.approx(
                res["achieved_flop_per_s"] / row["matmul"][res["precision"]])
        assert row["fp32"]["precision"] == "fp32" and not row["fp32"]["channels_last"] and row["fast"]["channels_last"]


def test_the_table_has_a_row_per_model(tiny_run):
    table = bench.markdown(tiny_run)
    assert "| model | GFLOP/step | fp32 img/s |" in table
    for name in bench.MODELS:
        assert f"| {name} |" in table


def test_flops_of_a_known_matmul_and_conv():
    a, b = torch.randn(8, 16), torch.randn(16, 4)
    assert bench.count_flops(lambda: a @ b) == 2 * 8 * 16 * 4
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=False)
    x = torch.randn(2, 3, 10, 10)
    forward = 2 * (2 * 5 * 10 * 10) * (3 * 3 * 3)  # 2 x output values x (kernel area x input channels)
    with torch.no_grad():
        assert bench.count_flops(lambda: conv(x)) == forward
    x.requires_grad_(True)  # backward: the input's and the weight's gradients, each as many as the forward
    assert bench.count_flops(lambda: conv(x).sum().backward()) == 3 * forward


def test_fp32_and_the_fast_path_both_run():
    device = torch.device("cpu")
    path = bench.fast_path(device)
    work = bench.build_workload("pix2pix", device, tiny=True)
    fp32 = bench.time_steps(work, device, bench.FP32, warmup=1, steps=1, count=True)
    assert fp32["flops_per_step"] > 0
    work.channels_last()
    convs = [m for m in work.run.G.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    fast = bench.time_steps(work, device, path, warmup=1, steps=1)
    assert fast["step_seconds_median"] > 0
    conv = nn.Conv2d(3, 4, 3)
    with path.autocast():
        out = conv(torch.randn(1, 3, 8, 8))
    assert out.dtype == (path.dtype if path.name != "fp32" else torch.float32)
    if path.name == "fp32":
        pytest.skip("this CPU has no bf16: the fast path is fp32 + channels_last")


def test_the_fp32_step_is_the_experiments_own():
    """The benchmarked fp32 step is the experiment's train_step on its own build: the same losses."""
    from course_lib.experiments import denoising as E

    work = bench.build_workload("dncnn", "cpu", tiny=True)
    cfg = E.Config.make("full", depth=3, features=8, patch_size=16, batch_size=4)
    run = E.build(cfg, "dncnn", 0)
    assert work.step() == E.train_step(run, work.batch)


def test_bad_devices_are_clear_errors(capsys, monkeypatch):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        bench.resolve_device("tpu")
    with pytest.raises(ValueError, match="not benchmarked"):
        bench.resolve_device("meta")
    assert main(["bench", "--device", "gpu0", "--tiny"]) == 2
    assert "unknown device 'gpu0'" in capsys.readouterr().err
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        bench.resolve_device("cuda")
    with pytest.raises(ValueError, match="unknown benchmark models"):
        bench.benchmark("cpu", models=["resnet50"])
    with pytest.raises(ValueError, match="steps and warmup"):
        bench.benchmark("cpu", models=["ddpm"], steps=0)


def test_cuda_device_choice_with_a_mock(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert bench.resolve_device("cuda:0") == torch.device("cuda:0")
    assert bench.resolve_device(None) == torch.device("cuda")
    with pytest.raises(ValueError, match="there are 1 CUDA devices"):
        bench.resolve_device("cuda:1")
    assert "max_memory_allocated" in bench.memory_method(torch.device("cuda"))


def test_build_leaves_the_device_setting_alone(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    bench.build_workload("pix2pix", "cpu", tiny=True)
    import os

    assert os.environ["COURSE_DEVICE"] == "cpu"
    monkeypatch.delenv("COURSE_DEVICE")
    bench.build_workload("dncnn", "cpu", tiny=True)
    assert "COURSE_DEVICE" not in os.environ


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_tiny_benchmark_on_cuda():
    result = bench.benchmark("cuda", steps=1, warmup=1, tiny=True, matmul_n=256)
    assert result["fast_path"]["autocast_dtype"] in ("bf16", "fp16")
    for row in result["models"]:
        assert row["fp32"]["peak_memory_mib"] > 0 and row["fast"]["img_per_s"] > 0


def test_explain_breaks_a_step_down():
    result = bench.benchmark("cpu", models=["dncnn"], steps=1, warmup=1, tiny=True, matmul_n=64, explain=["dncnn"])
    parts = result["models"][0]["breakdown"]
    for key in ("fp32", "fast"):
        assert set(parts[key]["milliseconds"]) == set(bench.BREAKDOWN_GROUPS)
        assert parts[key]["milliseconds"]["convolution"] > 0 and parts[key]["milliseconds"]["optimizer"] > 0
        assert parts[key]["profiled_step_ms"] == pytest.approx(sum(parts[key]["milliseconds"].values()), abs=0.6)
    with pytest.raises(ValueError, match="unknown benchmark models"):
        bench.benchmark("cpu", models=["dncnn"], explain=["vgg"])
