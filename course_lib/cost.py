"""What a network costs to run: multiply-accumulates counted layer by layer, and wall-clock per image.

Multiply-accumulates (MACs) do not depend on the machine: :func:`count_macs` hooks every convolution
and fully connected layer and counts, for one forward pass, ``output values x (kernel area x input
channels per group)`` -- one multiply and one add per weight applied. Wall-clock
(:func:`seconds_per_image`, :func:`timed_per_image`) depends on the machine and on what else runs on
it: compare numbers measured in the same run only.

Used by notebook 02 (sliding window vs fully convolutional nets; Long, Shelhamer & Darrell, "Fully
Convolutional Networks for Semantic Segmentation", CVPR 2015, sec. 3.1, count the same redundancy).
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn


def count_macs(model: nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass of ``model`` on ``example``, summed over its batch.

    The model is run once in eval mode under ``torch.no_grad`` (its mode is restored). Counts ``Conv2d``,
    ``ConvTranspose2d`` and ``Linear`` layers (bias, norms, activations and pooling are ignored: they are a
    small share).

    Args:
        model: any module; ``example`` must fit its ``forward`` (e.g. ``1 x C x H x W``).

    Returns:
        The count (an ``int``, >= 0).
    """
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total += output.numel() * k
        elif isinstance(module, nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
            total += inputs[0].numel() * k
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return int(total)


def synchronize(device: torch.device | str) -> None:
    """Wait for the GPU's queued work (CUDA kernels run asynchronously); nothing on a CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timed_per_image(predict: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor,
                    device: torch.device | str = "cpu", min_seconds: float = 2.0) -> tuple[torch.Tensor, float]:
    """``predict(images)`` and its wall-clock seconds per image, in one go.

    A warm-up call on the first two images, then one timed pass whose result is returned; when that pass
    took less than ``min_seconds``, two more passes are timed and the fastest of the three counts (a
    short pass is easily slowed by something else; a long one is not worth repeating).

    Returns:
        ``(predict(images), seconds per image)``.
    """
    predict(images[:2])
    synchronize(device)
    start = time.perf_counter()
    out = predict(images)
    synchronize(device)
    seconds = (time.perf_counter() - start) / len(images)
    if seconds * len(images) < min_seconds:
        seconds = min(seconds, seconds_per_image(predict, images, repeats=2, device=device))
    return out, seconds


def seconds_per_image(predict: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, repeats: int = 1,
                      device: torch.device | str = "cpu") -> float:
    """Wall-clock seconds per image of ``predict(images)`` (the best of ``repeats`` passes), after one
    warm-up call on the first two images.

    Args:
        predict: labels or scores a batch of images, e.g. ``lambda x: predict(model, x, 64)``
            (:func:`course_lib.models.dense.predict`).
        images: ``N x C x H x W``.
        repeats: passes timed (>= 1); the fastest counts (the others were slowed by something else).
        device: where ``predict`` runs (on a GPU the clock waits for its queued work).

    Returns:
        Seconds per image (float > 0). Depends on the machine and its load: compare models measured
        in the same run only.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    predict(images[:2])
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        predict(images)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best / len(images)
