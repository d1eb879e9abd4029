"""One switch between a laptop-sized run and the papers' scale.

Every notebook and experiment asks :func:`get_profile` for its sizes instead of
hard-coding them. The profile comes from the ``COURSE_PROFILE`` environment
variable (``fast`` or ``full``); without it, ``full`` is chosen when a CUDA GPU
is visible and ``fast`` otherwise.

* ``fast`` -- small images, few steps, a few thousand examples: each notebook
  runs in about two minutes on two CPU cores.
* ``full`` -- the settings the papers report (image size, steps, data size);
  meant for a GPU.

Example::

    from course_lib import get_profile
    P = get_profile()
    steps = P.pick(fast=300, full=20_000)
"""
from __future__ import annotations

import os
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
            (the ``COURSE_PROFILE`` variable) or ``"default"`` (GPU present or not).
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


def _gpu_available() -> bool:
    import torch

    return torch.cuda.is_available()


def get_profile(name: str | None = None) -> Profile:
    """Return the active :class:`Profile`.

    Args:
        name: ``"fast"`` or ``"full"`` to force a profile. ``None`` reads the
            ``COURSE_PROFILE`` environment variable, and without it picks
            ``full`` on a CUDA machine and ``fast`` elsewhere.

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
        return Profile(env, "environment")
    return Profile("full" if _gpu_available() else "fast", "default")
