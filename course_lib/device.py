"""Device choice and seeding, shared by every notebook."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_ENV_VAR = "COURSE_DEVICE"


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device to train on: CUDA, then Apple's MPS, then the CPU.

    Args:
        prefer: force a device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
            ``None`` reads the ``COURSE_DEVICE`` environment variable, and without
            it picks the first available of cuda, mps, cpu.

    Raises:
        RuntimeError: if the forced device is not available on this machine.
    """
    prefer = prefer or os.environ.get(DEVICE_ENV_VAR) or None
    if prefer:
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"device {prefer!r} was asked for but CUDA is not available here; "
                f"unset {DEVICE_ENV_VAR} or use 'cpu'"
            )
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(
                f"device {prefer!r} was asked for but MPS is not available here; "
                f"unset {DEVICE_ENV_VAR} or use 'cpu'"
            )
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0, deterministic: bool = False) -> torch.Generator:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and all GPUs).

    Args:
        seed: any non-negative integer.
        deterministic: also ask PyTorch for deterministic kernels (slower on GPU;
            some operations then raise if they have no deterministic version).

    Returns:
        A ``torch.Generator`` seeded with ``seed``, handy for ``DataLoader`` and
        ``torch.randn(..., generator=g)``.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    g = torch.Generator()
    g.manual_seed(seed)
    return g
