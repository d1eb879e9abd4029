"""Why pix2pix's bf16 step at the paper's batch size reaches only a small fraction of the bf16 matrix-multiply
rate: the same step at batch 1, 2, 4 and 8.

    python tools/bench_batch_scaling.py [--batches 1 2 4 8] [--steps 3] [--out docs/results/speed/batch_scaling.json]

Issue 15 asks for the fast path of the pix2pix training step (``unet_256`` + 70 x 70 PatchGAN, 256 x 256,
batch 1: Isola et al. 2017's facades setting) to reach half of the measured bf16 matrix-multiply rate on this
CPU. ``python -m course_lib bench`` measures about a tenth. This tool tests one explanation: at batch 1 most
of the generator's layers do little arithmetic per byte they move (the innermost U-Net levels apply 512 x 512
x 4 x 4 weights to 1 x 1 .. 8 x 8 feature maps, and the optimiser touches every one of the 57 M parameters
once per image), so the step is bound by memory traffic, not by the matrix units. If so, the fraction of the
matmul rate grows with the batch (the weights and the update are shared by more images) while the same code
runs.

For each batch size: the workload :func:`course_lib.bench.build_workload` builds (the experiment's own
``build`` and ``train_step``), its synthetic batch replaced by one of that size, on the fast path exactly as
``bench`` times it (bf16 autocast, channels_last, fused optimiser); one warm-up and ``--steps`` timed steps
(median). FLOPs: :func:`course_lib.bench.count_flops` of one fp32 step at batch 1, times the batch size
(convolutions are linear in the batch). The bf16 matmul rate is measured in the same run, before and after.

A measurement, not a test; the file lives in ``docs/results/speed/`` beside ``bench.json``'s companions.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import bench  # noqa: E402


def _batch(n: int, device, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return tuple((torch.rand(n, 3, 256, 256, generator=g) * 2 - 1).to(device) for _ in range(2))


def measure(batches, steps: int, device) -> dict:
    path = bench.fast_path(device)
    if path.name == "fp32":
        raise SystemExit("this device has no bf16/fp16 fast path: nothing to measure")
    before = bench.matmul_rate(device, path.dtype)
    work = bench.build_workload("pix2pix", device)
    flops_1 = bench.count_flops(work.step)
    del work
    rows = []
    for n in batches:
        work = bench.build_workload("pix2pix", device)
        work.batch = _batch(n, device)
        work.channels_last()
        work.fuse_optimizers()
        res = bench.time_steps(work, device, path, 1, steps)
        seconds = res["step_seconds_median"]
        rows.append({"batch": n, "step_seconds": res["step_seconds"], "step_seconds_median": seconds,
                     "img_per_s": n / seconds, "achieved_flop_per_s": n * flops_1 / seconds,
                     "fraction_of_matmul": n * flops_1 / seconds / before["flop_per_s"],
                     "peak_memory_mib": res["peak_memory_mib"]})
        print(f"batch {n}: {seconds:.3f} s/step, {n / seconds:.2f} img/s, "
              f"{rows[-1]['fraction_of_matmul']:.1%} of the {path.name} matmul rate", flush=True)
        del work
    after = bench.matmul_rate(device, path.dtype)
    return {"tool": "tools/bench_batch_scaling.py", "device": str(device), "device_name": bench.device_name(device),
            "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "fast_path": f"{path.name} autocast, channels_last, fused optimizer",
            "flops_per_image": flops_1, "matmul_before": before, "matmul_after": after, "rows": rows,
            "statistic": f"median of {steps} timed steps after 1 warm-up step"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--device", default=None)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "speed" / "batch_scaling.json")
    args = p.parse_args(argv)
    if any(b < 1 for b in args.batches) or args.steps < 1:
        p.error("batch sizes and --steps must be >= 1")
    start = time.perf_counter()
    result = measure(args.batches, args.steps, bench.resolve_device(args.device))
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["command"] = "python tools/bench_batch_scaling.py " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
