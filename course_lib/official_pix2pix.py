"""pix2pix on an official aligned set (facades, ...) from a copy a user already has: time-boxed, resumable,
with G, D and both optimisers kept (issue 13; docs/instructors.md, section 10).

:func:`train_official_pix2pix` is a thin driver, not a new training loop: the data are
:func:`course_lib.translation.load_pairs` with a ``root`` (a copy used where it is, never downloaded over;
:mod:`course_lib.data.official`), the networks, optimisers and the training step are the experiment's own
(:mod:`course_lib.experiments.pix2pix_ablation`: ``build`` and ``train_step``, Isola et al. 2017, Eq. 4), and
the loop with its checkpoints is :func:`course_lib.experiments.common.fit`. It lives in a module of its own
because it imports the experiment, which imports :mod:`course_lib.translation` (no import cycles,
tests/test_layout.py).
"""
from __future__ import annotations

import time
import types
from pathlib import Path

import torch

from . import distributed
from .data.official import DATASETS
from .experiments import common
from .experiments import pix2pix_ablation as A
from .translation import TranslationConfig, load_pairs


class _BudgetSpent(Exception):
    """Raised by :func:`train_official_pix2pix`'s step when this call's steps are done (caught there)."""


def train_official_pix2pix(name: str = "facades", root: str | Path | None = None, *,
                           cfg: TranslationConfig | None = None, objective: str = "L1+cGAN", seed: int = 0,
                           steps: int | None = None, checkpoint: str | Path | None = None,
                           checkpoint_every: int | None = 1000, verify: bool = True,
                           precision: str | None = None, progress: bool = True):
    """Train pix2pix on an official aligned set (a copy under ``root``, or downloaded there), time-boxed
    and resumable; return the run with G, D and both optimisers.

    The experiment's own pieces do the work: :func:`course_lib.experiments.pix2pix_ablation.build` and its
    ``train_step`` (Isola et al. 2017, Eq. 4: D on real and fake pairs, then G on cGAN + lambda L1),
    driven by :func:`course_lib.experiments.common.fit` with its checkpoints (models, optimisers, random
    generators, batch order, loss history). The data are :func:`load_pairs` ``(cfg, root, verify=verify)``:
    the ``train`` split in the paper's direction (facades: labels -> photo).

    A run has ``cfg.steps`` steps in all (full profile: 200 epochs of facades' 400 images at batch 1 =
    80,000). ``steps`` time-boxes *this call*: with a ``checkpoint`` file, the call continues from the
    file (if it exists), trains at most ``steps`` more and writes the file where it stopped; the next call
    with the same arguments goes on, and the stops change nothing (on the CPU the result is identical to
    one uninterrupted run, checked by tests/test_official_user_copy.py). A call on a finished run's file
    trains nothing and returns the finished run. The file is also written every ``checkpoint_every`` steps,
    so an interrupted call (a killed process) loses at most that many. Without a checkpoint the call trains
    ``steps`` (default ``cfg.steps``) from scratch and returns the run; continue it in the same session with
    ``common.fit(pix2pix_ablation, run, steps=...)``.

    Args:
        name: an aligned official set (``"facades"``; any aligned key of ``data.official.DATASETS``).
        root: the folder holding ``<name>/`` (or that folder itself); see :func:`load_pairs`.
        cfg: sizes (default ``pix2pix_ablation.Config.make("full")``: 256 x 256, ``unet_256``, the 70 x 70
            PatchGAN ``"basic"``, batch 1, Adam 2e-4 / 0.5, lambda_L1 = 100); its ``dataset`` is set to ``name``.
        objective: a pix2pix_ablation member: ``"L1"``, ``"cGAN"`` or ``"L1+cGAN"`` (the paper's).
        seed: seeds G's and D's initialisation and the batch order.
        steps: steps to train in this call (``None``: to the end of the run).
        checkpoint: the resumable checkpoint file (``None``: none).
        checkpoint_every: also write the checkpoint every this many steps (``None``: only where the call stops).
        verify: require the set's published counts (``False``: warn for a subset or a copy of one's own).
        precision: ``"auto"``, ``"fp32"``, ``"bf16"``, ``"fp16"`` (see ``common.fit``); a checkpoint continues
            only in the precision it was written in.
        progress: show a progress bar.

    Returns:
        A :class:`course_lib.experiments.common.Run` in eval mode: ``run.G``, ``run.D``, ``run.opt_G``,
        ``run.opt_D``; ``run.meta``: ``step`` (steps done in all), ``steps`` (the run's length),
        ``finished``, ``train_seconds`` (in all), ``history`` (every step's losses since the start).
        Score it with ``translation.evaluate_pairs(run.G, translation.load_pairs(cfg, root)[2])`` (pixel
        L1 and PSNR).

    Raises:
        ValueError: not an aligned official set, an unknown objective, ``steps < 1``, or a checkpoint of
            another run length or precision (``common.fit``); under torchrun (use
            ``torchrun ... -m course_lib train pix2pix_ablation --profile full`` there).
        course_lib.data.paths.DatasetError: the data (see :func:`load_pairs`).
    """
    spec = DATASETS.get(name)
    if spec is None or spec.kind != "aligned":
        raise ValueError(f"{name!r} is not an aligned official set; known: "
                         f"{sorted(k for k, d in DATASETS.items() if d.kind == 'aligned')}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be >= 1 (the steps to train in this call), got {steps}")
    if distributed.active():
        raise ValueError("train_official_pix2pix runs in one process; under torchrun use "
                         "python -m course_lib train pix2pix_ablation --profile full")
    cfg = (cfg or A.Config.make("full")).replace(dataset=name)
    x, y, _ = load_pairs(cfg, root, verify=verify)
    # the experiment's build knows the official sets' channels (RGB -> RGB) under the name "facades"
    run = A.build(cfg.replace(dataset="facades"), objective, seed)
    run.batches = lambda: common.random_batches(x, y, batch_size=cfg.batch_size, seed=seed)
    total = run.steps

    if checkpoint is None:
        history = common.fit(A, run, steps=steps or total, precision=precision, progress=progress,
                             desc=f"pix2pix {name} {objective}")
        done = steps or total
        run.meta = {"step": done, "steps": done, "finished": True, "train_seconds": round(history["_seconds"][0], 1),
                    "history": {k: v for k, v in history.items() if not k.startswith("_")}}
        return run

    checkpoint = Path(checkpoint)
    done, before, seconds_before = 0, {}, 0.0
    if checkpoint.is_file():  # where the last call stopped (fit reads the whole file again to continue)
        saved = torch.load(checkpoint, map_location="cpu", weights_only=False, mmap=True)  # our own file
        done, before, seconds_before = saved["step"], saved["history"], saved["seconds"]
        del saved
    stop = total if steps is None else min(total, done + steps)
    logged: dict[str, list] = {}
    clock = {"n": 0, "start": None, "end": None}

    # fit has no switch to stop early, so the step counts itself and raises once this call's steps are done --
    # before any work of the next step, so the random generators are those after the last step -- and the
    # checkpoint is written below with common.save_checkpoint, the file fit resumes from
    def train_step(run_, batch):
        if clock["start"] is None:
            clock["start"] = time.perf_counter()
        if clock["n"] == stop - done:
            clock["end"] = time.perf_counter()
            raise _BudgetSpent
        clock["n"] += 1
        logs = A.train_step(run_, batch)
        for k, v in logs.items():
            logged.setdefault(k, []).append(float(v))
        return logs

    boxed = types.ModuleType(f"{A.__name__}_official")
    boxed.train_step, boxed.PRECISION_HELPER = train_step, getattr(A, "PRECISION_HELPER", False)
    try:
        out = common.fit(boxed, run, steps=total, precision=precision, progress=progress, checkpoint=checkpoint,
                         checkpoint_every=checkpoint_every, resume=True, desc=f"pix2pix {name} {objective}")
        history = {k: v for k, v in out.items() if not k.startswith("_")}
        seconds = out["_seconds"][0]
        step = total
    except _BudgetSpent:
        run.eval()
        history = {k: list(before.get(k, [])) + logged.get(k, []) for k in dict.fromkeys([*before, *logged])}
        seconds = seconds_before + clock["end"] - clock["start"]
        step = stop
    if step > done:  # a finished run's file is left as it is
        common.save_checkpoint(checkpoint, run, step, total, history, seconds)
    run.meta = {"step": step, "steps": total, "finished": step == total, "history": history,
                "train_seconds": round(seconds, 1), "checkpoint": str(checkpoint)}
    return run
