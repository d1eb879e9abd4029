"""A small, explicit training loop (no framework).

The loop owns only the bookkeeping -- counting steps, cycling over the data,
progress bars, loss history and periodic sample grids. What happens in one
step (forward, loss, backward, optimizer) stays in the notebook or the model's
module, where the student can read it::

    def step(batch):
        x, y = batch
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad(); loss.backward(); opt.step()
        return {"loss": loss.item()}

    history = train_loop(step, loader, steps=500)
    plot_losses(history)
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator, Mapping

import torch

from .progress import progress_bar


def infinite_batches(batches: Iterable) -> Iterator:
    """Cycle over an iterable of batches (e.g. a ``DataLoader``) forever, reshuffling each pass."""
    while True:
        n = 0
        for batch in batches:
            n += 1
            yield batch
        if n == 0:
            raise ValueError("the data iterable yielded no batch: is the dataset empty?")


def train_loop(
    step_fn: Callable[[object], Mapping[str, float]],
    batches: Iterable,
    steps: int,
    *,
    sample_fn: Callable[[int], torch.Tensor] | None = None,
    sample_every: int | None = None,
    show_samples: Callable[[torch.Tensor, int], None] | None = None,
    desc: str = "train",
    progress: bool = True,
) -> dict[str, list]:
    """Run ``step_fn`` on ``steps`` batches and record what it returns.

    Args:
        step_fn: called once per step with one batch; does forward, backward and
            the optimizer step, and returns a mapping of scalar floats to log
            (e.g. ``{"loss_G": 0.7, "loss_D": 0.6}``).
        batches: an iterable of batches, cycled as often as needed.
        steps: number of optimisation steps (> 0).
        sample_fn: optional; called as ``sample_fn(step)`` every ``sample_every``
            steps and after the last one. It returns a batch of images
            ``N x C x H x W`` that is stored in ``history["_samples"]`` and
            passed to ``show_samples``.
        sample_every: period of ``sample_fn`` in steps (default: ``steps // 4``).
        show_samples: called as ``show_samples(images, step)``; default shows a
            grid with :func:`course_lib.imaging.show_grid` (images taken in [0, 1]).
        desc: label of the progress bar.
        progress: show a progress bar (:func:`course_lib.progress.progress_bar`).

    Returns:
        ``history``: one list per logged name (one value per step), plus
        ``"_seconds"`` (wall-clock of the whole loop, a one-element list) and
        ``"_samples"`` (list of ``(step, images)``).

    Raises:
        ValueError: for ``steps <= 0`` or a ``step_fn`` that returns no mapping.
    """
    if steps <= 0:
        raise ValueError(f"steps must be positive, got {steps}")
    if sample_fn is not None and sample_every is None:
        sample_every = max(1, steps // 4)
    history: dict[str, list] = {"_samples": []}
    data = infinite_batches(batches)
    start = time.perf_counter()
    bar = progress_bar(range(1, steps + 1), desc=desc, disable=not progress)
    for step in bar:
        logs = step_fn(next(data))
        if not isinstance(logs, Mapping):
            raise ValueError(f"step_fn must return a dict of floats, got {type(logs).__name__}")
        for name, value in logs.items():
            history.setdefault(name, []).append(float(value))
        if step % 10 == 0 or step == steps:
            latest = {k: f"{v[-1]:.4g}" for k, v in history.items() if not k.startswith("_")}
            bar.set_postfix(latest, refresh=False)
        if sample_fn is not None and (step % sample_every == 0 or step == steps):
            with torch.no_grad():
                images = sample_fn(step)
            history["_samples"].append((step, images.detach().cpu()))
            if show_samples is not None:
                show_samples(images, step)
            else:
                _default_show(images, step)
    bar.close()
    history["_seconds"] = [time.perf_counter() - start]
    return history


def _default_show(images: torch.Tensor, step: int) -> None:
    import matplotlib.pyplot as plt

    from .imaging import show_grid

    show_grid(images.cpu(), nrow=min(8, len(images)), title=f"step {step}")
    plt.show()
