"""One switch between a laptop-sized run and the papers' scale.

Every notebook and experiment asks :func:`get_profile` for its sizes instead of
hard-coding them. The profile is ``fast`` unless it is asked for: the
``COURSE_PROFILE`` environment variable (``fast`` or ``full``) or a
``--profile`` option. A GPU does not change the profile (Colab's included): the
fast profile simply runs faster on it.

* ``fast`` -- small images, few steps, a few thousand examples: each notebook
  runs in about two minutes on two CPU cores.
* ``full`` -- the settings the papers report (image size, steps, data size);
  it downloads official data sets and trains for hours even on a GPU. When it
  is chosen, :func:`announce_full` says first what it will download and roughly
  how long it will train on the device it sees (:func:`full_plan`).

Example::

    from course_lib import get_profile
    P = get_profile()
    steps = P.pick(fast=300, full=20_000)
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TypeVar

ENV_VAR = "COURSE_PROFILE"
PROFILES = ("fast", "full")

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """The active run profile.

    Attributes:
        name: ``"fast"`` or ``"full"``.
        source: where the choice came from: ``"argument"``, ``"environment"``
            (the ``COURSE_PROFILE`` variable) or ``"default"`` (always ``fast``).
    """

    name: str
    source: str = "default"

    def __post_init__(self):
        if self.name not in PROFILES:
            raise ValueError(
                f"unknown profile {self.name!r}: use one of {PROFILES}, e.g. "
                f"`export {ENV_VAR}=fast`"
            )

    @property
    def is_fast(self) -> bool:
        return self.name == "fast"

    @property
    def is_full(self) -> bool:
        return self.name == "full"

    def pick(self, *, fast: T, full: T) -> T:
        """Return ``fast`` in the fast profile and ``full`` in the full one."""
        return fast if self.is_fast else full

    def __str__(self) -> str:
        return f"{self.name} (from {self.source})"


def get_profile(name: str | None = None) -> Profile:
    """Return the active :class:`Profile`.

    Args:
        name: ``"fast"`` or ``"full"`` to force a profile. ``None`` reads the
            ``COURSE_PROFILE`` environment variable, and without it picks
            ``fast`` (on any device: a GPU runs the fast profile faster).

    When the environment asks for ``full``, the first call in a process prints
    :func:`announce_full`'s plan (downloads and estimated training time), so a
    notebook says it before it starts. An explicit ``name`` prints nothing: the
    caller (e.g. ``python -m course_lib train --profile full``) announces it.

    Raises:
        ValueError: if the name (or the environment variable) is neither
            ``fast`` nor ``full``.
    """
    if name is not None:
        return Profile(name.strip().lower(), "argument")
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env:
        if env not in PROFILES:
            raise ValueError(
                f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not a profile: set it to one of "
                f"{PROFILES} or unset it"
            )
        profile = Profile(env, "environment")
        if profile.is_full:
            announce_full(once=True)
        return profile
    return Profile("fast", "default")


# --- what the full profile costs ----------------------------------------------------------------------

_announced = False


def full_plan(device=None) -> list[dict]:
    """What the full profile downloads and roughly how long it trains, one row per notebook and experiment,
    with the time for ``device`` (default: the device :func:`course_lib.device.get_device` picks).

    The table is computed by :mod:`course_lib.profile_plan` and stored, with the measurements it rests on,
    in :mod:`course_lib.profile_steps` (``python tools/measure_fast_steps.py`` regenerates both; a test
    checks that the stored table is what the configs give today).

    Returns:
        Rows ``{"notebook", "experiment", "download", "trains", "hours"}``; ``hours`` is ``None`` where the
        full profile trains nothing or refuses to run.
    """
    import torch

    from .device import get_device
    from .profile_steps import FULL_PLAN

    device = torch.device(device) if device is not None else get_device()
    column = "gpu_hours" if device.type in ("cuda", "mps") else "cpu_hours"
    return [dict(notebook=r["notebook"], experiment=r["experiment"], download=r["download"], trains=r["trains"],
                 hours=r[column]) for r in FULL_PLAN]


def _hours(h: float | None) -> str:
    if h is None:
        return "-"
    if h < 1:
        return f"~{max(1, round(h * 60))} min"
    return f"~{h:.0f} h" if h < 48 else f"~{h / 24:.0f} days"


def describe_full(device=None, only=None) -> str:
    """:func:`full_plan` as a text table with its basis, for people about to start the full profile.

    Args:
        device: as in :func:`full_plan`.
        only: notebook numbers (``"06"``) or experiment names to list (default: all).
    """
    import torch

    from .device import get_device
    from .profile_steps import GPU_SPEEDUP

    device = torch.device(device) if device is not None else get_device()
    rows = full_plan(device)
    if only is not None:
        only = set(only)
        rows = [r for r in rows if r["notebook"] in only or r["experiment"] in only]
        if not rows:
            return (f"COURSE_PROFILE=full: {', '.join(sorted(only))} trains nothing of its own in the full profile "
                    f"(it scores other experiments' weights); `python -m course_lib info --full` lists the rest.")
    known = [r["hours"] for r in rows if r["hours"] is not None]
    gpu = device.type in ("cuda", "mps")
    width = max(len(r["download"]) for r in rows)
    lines = [f"COURSE_PROFILE=full: the papers' settings. What each notebook downloads and trains on {device} "
             f"(weights are trained on first use and kept in the weights cache):",
             f"  {'nb':3} {'experiment':17} {'download':{width}}  {'trains':34} time (estimate)"]
    for r in rows:
        lines.append(f"  {r['notebook']:3} {r['experiment']:17} {r['download']:{width}}  {r['trains']:34} "
                     f"{_hours(r['hours'])}")
    lines += [f"  total: {_hours(sum(known))} of training (scoring adds minutes). Basis: each fast training step "
              f"timed on one CPU thread (tools/measure_fast_steps.py), scaled by pixels x batch x width^2 per step "
              f"and by the full steps"
              + (f", divided by {GPU_SPEEDUP:.0f} for a GPU (pix2pix on facades trains in under two hours on one "
                 f"Titan X, Isola et al. 2017)" if gpu else " (more threads divide it, a GPU by tens)")
              + "; an estimate, not a measurement.",
              "  For the fast profile (every notebook in minutes, on any device) unset COURSE_PROFILE or use "
              "--profile fast."]
    return "\n".join(lines)


def announce_full(device=None, *, only=None, once: bool = False, file=None) -> None:
    """Print :func:`describe_full` (to ``file``, default stdout); with ``once``, only the first time in this
    process."""
    global _announced
    if once and _announced:
        return
    _announced = True
    print(describe_full(device, only), file=file or sys.stdout, flush=True)
