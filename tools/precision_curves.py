"""bf16 vs fp32 training on this CPU: loss curves and img/s of pix2pix, the colorization net and the DDPM U-Net.

    OMP_NUM_THREADS=1 python tools/precision_curves.py [--steps 400] [--out docs/results/speed/precision.json]

For each of pix2pix (``pix2pix_ablation``, objective L1+cGAN), the colorization net (``colorization``,
``rebalanced``) and the DDPM U-Net (``diffusion``, ``ddpm``), fast-profile configuration with the steps
(and so the learning-rate schedules) cut to ``--steps``: the same seeded run trained with
``common.fit(..., precision="fp32")`` and ``precision="bf16"`` (:mod:`course_lib.precision`), plus fp32 with
seed 1 as the yardstick of ordinary run-to-run variation. Stored: the losses averaged over windows of
``--window`` steps, the mean of the main loss (pix2pix: G's L1 term; the others: their one loss) over
the last 100 steps, its relative bf16-vs-fp32 difference against the tolerance ``--tolerance`` (stated
before the run: 5 %), the seed-to-seed difference beside it, and img/s (training images per second of
the train steps after the first 10, batch size x steps / seconds, timed around ``train_step``).

A measurement, not a test. The file lives in ``docs/results/speed/``, beside (not among) the experiments'
``docs/results/*.json`` that ``tools/results_page.py`` reads as ``measure`` outputs. Source of the mixed-precision recipe: Micikevicius et al. 2018; PyTorch autocast.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.device import seed_everything  # noqa: E402
from course_lib.experiments import common  # noqa: E402

CASES = [  # (experiment, member, main loss, config fields that hold the steps)
    ("pix2pix_ablation", "L1+cGAN", "G_l1", ("steps",)),
    ("colorization", "rebalanced", "loss", ("steps",)),
    ("diffusion", "ddpm", "loss", ("steps_ddpm",)),
]


def one_run(name: str, member: str, steps_fields, steps: int, precision: str, seed: int) -> dict:
    module = common.experiment(name)
    cfg = module.Config.make("fast", **{f: steps for f in steps_fields})
    seed_everything(seed)
    run = module.build(cfg, member, seed)
    stamps = []

    def timed_step(r, batch):
        stamps.append(time.perf_counter())
        out = module.train_step(r, batch)
        stamps.append(time.perf_counter())
        return out

    timed = types.SimpleNamespace(train_step=timed_step, __name__=module.__name__,
                                  PRECISION_HELPER=getattr(module, "PRECISION_HELPER", False))
    history = common.fit(timed, run, steps=steps, precision=precision, progress=False)
    seconds = sum(stamps[i + 1] - stamps[i] for i in range(20, len(stamps), 2))  # steps 11.. (warm)
    return {"history": {k: v for k, v in history.items() if not k.startswith("_")},
            "img_per_s": round((steps - 10) * cfg.batch_size / seconds, 1), "batch_size": cfg.batch_size,
            "seconds": round(history["_seconds"][0], 1), "precision": run.precision.describe()}


def windows(values: list[float], width: int) -> list[float]:
    return [round(statistics.fmean(values[i:i + width]), 5) for i in range(0, len(values) - width + 1, width)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--window", type=int, default=25)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--out", default=str(ROOT / "docs" / "results" / "speed" / "precision.json"))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    out = {"command": "OMP_NUM_THREADS={} python tools/precision_curves.py --steps {} --window {} --tolerance {}".format(
               os.environ.get("OMP_NUM_THREADS", "unset"), args.steps, args.window, args.tolerance),
           "date": datetime.date.today().isoformat(), "torch": torch.__version__, "threads": torch.get_num_threads(),
           "machine": platform.processor() or platform.machine(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
           "load_average_before": [round(x, 2) for x in load_before], "steps": args.steps, "window": args.window,
           "tolerance": args.tolerance,
           "criterion": "bf16 passes when the mean of the main loss over the last 100 steps is within `tolerance` "
                        "(relative) of fp32's, same seed and batches; fp32 seed 1 vs seed 0 is shown as the yardstick",
           "runs": []}
    for name, member, main_loss, fields in CASES:
        runs = {label: one_run(name, member, fields, args.steps, prec, seed)
                for label, prec, seed in (("fp32", "fp32", 0), ("bf16", "bf16", 0), ("fp32_seed1", "fp32", 1))}
        last = {label: statistics.fmean(r["history"][main_loss][-100:]) for label, r in runs.items()}
        rel = abs(last["bf16"] - last["fp32"]) / abs(last["fp32"])
        seed_rel = abs(last["fp32_seed1"] - last["fp32"]) / abs(last["fp32"])
        wf, wb = windows(runs["fp32"]["history"][main_loss], args.window), windows(runs["bf16"]["history"][main_loss], args.window)
        entry = {"experiment": name, "member": member, "main_loss": main_loss,
                 "last100_mean": {k: round(v, 5) for k, v in last.items()},
                 "relative_difference_bf16": round(rel, 4), "relative_difference_seed1": round(seed_rel, 4),
                 "max_window_relative_difference_bf16": round(max(abs(b - f) / abs(f) for f, b in zip(wf, wb)), 4),
                 "within_tolerance": rel <= args.tolerance,
                 "img_per_s": {k: r["img_per_s"] for k, r in runs.items() if k != "fp32_seed1"},
                 "speedup": round(runs["bf16"]["img_per_s"] / runs["fp32"]["img_per_s"], 2),
                 "precision": {k: r["precision"] for k, r in runs.items()},
                 "curves": {label: {k: windows(v, args.window) for k, v in r["history"].items()}
                            for label, r in runs.items()}}
        out["runs"].append(entry)
        print(f"{name} {member}: {main_loss} last-100 mean fp32 {last['fp32']:.4f}, bf16 {last['bf16']:.4f} "
              f"({100 * rel:.2f} %; seed 1: {100 * seed_rel:.2f} %) -> "
              f"{'within' if entry['within_tolerance'] else 'OUTSIDE'} {100 * args.tolerance:.0f} %; "
              f"img/s fp32 {entry['img_per_s']['fp32']}, bf16 {entry['img_per_s']['bf16']} ({entry['speedup']}x)",
              flush=True)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
