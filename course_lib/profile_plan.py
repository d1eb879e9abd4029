"""How the full profile's cost is estimated (the table :func:`course_lib.profile.full_plan` shows).

For every member an experiment trains, one fast-profile training step is timed on one CPU thread
(``tools/measure_fast_steps.py``, stored in :mod:`course_lib.profile_steps`); the estimate multiplies it by
the growth of the work per step from the fast to the full config (:data:`WORK`: image pixels, batch,
channel widths, read from the two configs) and by the full config's steps. On a GPU it is divided by
:func:`gpu_speedup`, anchored on the one GPU time a paper gives for the same step (:data:`PAPER_ANCHOR`).
Estimates, not measurements: no full run has been timed here.

``python tools/measure_fast_steps.py`` measures the steps and stores the computed table;
``python tools/measure_fast_steps.py --plan-only`` recomputes the table from the stored measurements
after a config changes.
"""
from __future__ import annotations

from .data import official
from .data.caltech import CALTECH_PHOTOS_FULL
from .experiments import common

CALTECH_DOWNLOAD = "Caltech-101, 9,145 images, from CaltechDATA by torchvision.datasets.Caltech101"
"""The full profile's download for the experiments that train on Caltech photos (``Config.photos``); the uncapped
colour-photo set is built from it on first use (:func:`course_lib.data.caltech.caltech_photos_full`)."""

NOTEBOOK_EXPERIMENTS: dict[str, tuple[str, ...]] = {
    "01": (), "02": ("dense_prediction",), "03": ("colorization",), "04": ("dcgan",), "05": ("vae",),
    "06": ("pix2pix_ablation",), "07": ("patchgan_sizes",), "08": ("cyclegan",),
    "09": ("diffusion",), "10": ("super_resolution", "inpainting", "denoising"),
}
"""The experiments (modules of :mod:`course_lib.experiments`) each notebook trains in the full profile.
The full profile's weights are not shipped, so a full run trains every one of them on first use."""

# How the work of one training step grows from the fast to the full config: (field, power) pairs, the
# work taken as proportional to the product of (full / fast) ** power. Pixels count twice (side ** 2),
# channel widths twice (a convolution's cost is in_channels x out_channels), batch and depth once.
# A member-specific entry ("experiment", "member") overrides the experiment's.
WORK: dict = {
    "dense_prediction": (("size", 2), ("dense_batch", 1), ("base_channels", 2)),
    ("dense_prediction", "sliding window"): (("sw_width", 2), ("sw_batch", 1), ("sw_hidden", 1)),
    "colorization": (("crop", 2), ("width", 2)),
    "pix2pix_ablation": (("size", 2), ("batch_size", 1), ("ngf", 2)),
    "patchgan_sizes": (("size", 2), ("batch_size", 1), ("ngf", 2)),
    "super_resolution": (("patch_size", 2), ("batch_size", 1)),
    "inpainting": (("image_size", 2), ("batch_size", 1), ("base", 2)),
    "denoising": (("patch_size", 2), ("batch_size", 1), ("features", 2), ("depth", 1)),
    # DnCNN-S has its own depth and patch side (the paper's 17 and 40 in every profile: denoising.member_config)
    **{("denoising", m): (("dncnn_s_patch_size", 2), ("batch_size", 1), ("features", 2), ("dncnn_s_depth", 1))
       for m in ("s15", "s25", "s50")},
}
_STEPS = {("dense_prediction", "sliding window"): "sw_steps", "dense_prediction": "dense_steps"}

PAPER_ANCHOR = ("pix2pix_ablation", "L1+cGAN", 2 * 3600, 80_000)
"""The one GPU time we rely on: Isola et al. 2017 train pix2pix on facades (80,000 steps of one 256 x 256
pair, 200 epochs) in under two hours on one Pascal Titan X. :func:`gpu_speedup` compares it with our CPU
estimate of the same step."""


def _steps_of(cfg, experiment: str, member: str, members: list[str]) -> int | None:
    module = common.experiment(experiment)
    if hasattr(module, "member_config"):  # members with their own config (denoising: the DnCNN-S nets)
        return module.member_config(cfg, member).steps
    field = _STEPS.get((experiment, member)) or _STEPS.get(experiment) or "steps"
    value = getattr(cfg, field, None)
    if isinstance(value, tuple):  # one entry per member (super-resolution: x2, x3, x4)
        value = value[members.index(member)]
    return value


def cpu_step_seconds(experiment: str, member: str, measured: dict) -> tuple[float, int] | None:
    """Estimated CPU seconds of one full-profile step of ``member`` on one thread, and the fast run's steps.

    The measured fast step (``measured["experiment/member"] = (seconds, steps)``) times the growth of the
    work per step (:data:`WORK`). A member the fast profile does not train under that name (patchgan_sizes' 256-px
    discriminators) takes the mean of its experiment's measured members. ``None`` when nothing of the experiment was measured.
    """
    module = common.experiment(experiment)
    fast, full = module.Config.make("fast"), module.Config.make("full")
    own = measured.get(f"{experiment}/{member}")
    if own is None:
        mine = [v for k, v in measured.items() if k.split("/", 1)[0] == experiment]
        if not mine:
            return None
        own = (sum(v[0] for v in mine) / len(mine), round(sum(v[1] for v in mine) / len(mine)))
    ratio = 1.0
    for field, power in WORK.get((experiment, member), WORK.get(experiment, ())):
        ratio *= (getattr(full, field) / getattr(fast, field)) ** power
    return own[0] * ratio, own[1]


def gpu_speedup(measured: dict) -> float | None:
    """How much faster than one CPU thread a GPU runs the full profile: our CPU estimate of the
    :data:`PAPER_ANCHOR` step divided by the paper's time per step. The anchor is a batch-1 run, which uses
    a GPU poorly, and GPUs have become faster, so GPU times err long."""
    experiment, member, seconds, steps = PAPER_ANCHOR
    cpu = cpu_step_seconds(experiment, member, measured)
    return None if cpu is None else cpu[0] / (seconds / steps)


def _three_digits(x: float) -> float:
    return float(f"{x:.3g}")


def plan_rows(measured: dict) -> list[dict]:
    """The full profile's plan, one row per notebook and experiment it trains.

    Args:
        measured: ``{"experiment/member": (CPU seconds per fast step, fast steps)}`` as
            ``tools/measure_fast_steps.py`` measures it.

    Returns:
        Rows ``{"notebook", "experiment", "download", "trains", "cpu_hours", "gpu_hours"}`` (hours to three
        significant digits; ``None`` where nothing is trained, the profile refuses, or nothing was measured).
    """
    speedup = gpu_speedup(measured)
    rows = []
    for notebook, experiments in NOTEBOOK_EXPERIMENTS.items():
        if not experiments:
            rows.append(dict(notebook=notebook, experiment="-", download="nothing", trains="nothing",
                             cpu_hours=None, gpu_hours=None))
        for experiment in experiments:
            module = common.experiment(experiment)
            full = module.Config.make("full")
            if experiment.startswith("cyclegan"):
                rows.append(dict(notebook=notebook, experiment=experiment, download="an official unpaired set, by hand",
                                 trains="refused (no paired test set)", cpu_hours=None, gpu_hours=None))
                continue
            dataset = getattr(full, "dataset", None)
            download = (f"{dataset}, {sum(official.DATASETS[dataset].counts.values())} images, from "
                        f"{official.DATASETS[dataset].url}" if dataset in official.DATASETS else "nothing")
            if getattr(full, "photos", None) == CALTECH_PHOTOS_FULL:
                download = CALTECH_DOWNLOAD
            members = common.members_of(module, full)
            seconds, steps = 0.0, []
            for member in members:
                cpu = cpu_step_seconds(experiment, member, measured)
                if cpu is None:
                    seconds = None
                    break
                n = _steps_of(full, experiment, member, members) or cpu[1]
                seconds += cpu[0] * n
                steps.append(n)
            side = next((getattr(full, f) for f in ("size", "crop", "image_size", "patch_size") if hasattr(full, f)),
                        None)
            each = (f"{steps[0]:,} steps" if len(set(steps)) == 1 else "/".join(f"{s:,}" for s in steps) + " steps")
            hours = None if seconds is None else seconds / 3600
            rows.append(dict(notebook=notebook, experiment=experiment, download=download,
                             trains=f"{len(members)} x {each}" + (f", {side} px" if side else ""),
                             cpu_hours=None if hours is None else _three_digits(hours),
                             gpu_hours=None if hours is None or not speedup else _three_digits(hours / speedup)))
    return rows
