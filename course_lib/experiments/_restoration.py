"""Shared pieces of the restoration experiments (notebook 10): optimiser, train-or-load paths, tables."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from ..checkpoints import WEIGHTS_DIR
from ..profile import Profile


def adam_cosine(params, lr: float, steps: int, betas=(0.9, 0.999)):
    """Adam with a cosine decay of the learning rate from ``lr`` to 0 over ``steps``."""
    opt = torch.optim.Adam(params, lr=lr, betas=betas)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    return opt, sched


def weight_path(stem: str, profile: Profile) -> Path:
    """``course_lib/weights/<stem>.pt`` for the fast profile (committed), ``<stem>_full.pt`` for the full
    one (trained on first use, on a GPU; not committed)."""
    return WEIGHTS_DIR / (f"{stem}.pt" if profile.is_fast else f"{stem}_full.pt")


def table_markdown(rows: Sequence[Mapping], columns: Sequence[str] | None = None, digits: int = 2) -> str:
    """A Markdown table of flat dicts (floats with ``digits`` decimals, None as a dash)."""
    columns = list(columns or rows[0].keys())

    def fmt(v):
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:.{digits}f}" if abs(v) >= 0.01 or v == 0 else f"{v:.2g}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
