"""Walking in a generator's latent space (notebooks 04 and 05).

* :func:`lerp` and :func:`slerp` -- straight-line and spherical interpolation between two latents.
  In high dimensions Gaussian latents lie near a sphere of radius ``sqrt(D)``; the midpoint of a straight
  line is shorter (``|z| ~ sqrt(D / 2)`` for independent ``z0, z1``), a latent the generator rarely saw in
  training, while slerp keeps the norm (White, "Sampling Generative Networks", 2016).
* :func:`attribute_vector` -- "vector arithmetic" (Radford et al. 2015, Sec. 6.3, "smiling woman - neutral
  woman + neutral man"): average the latents of generated images that the course's recognizer assigns to
  one class, subtract the average of another class, and add the difference to new latents.
"""
from __future__ import annotations

from typing import Callable

import torch


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    """Linear interpolation ``(1 - t) z0 + t z1``.

    Args:
        z0, z1: latents of the same shape ``... x D``.
        t: a float, or a 1-D tensor of ``T`` values; then the result has a leading axis ``T``.
    """
    t = _as_t(t, z0)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t, eps: float = 1e-7) -> torch.Tensor:
    """Spherical linear interpolation (Shoemake 1985; White 2016):

    ``sin((1 - t) w) / sin(w) * z0 + sin(t w) / sin(w) * z1``, with ``w`` the angle between ``z0`` and ``z1``
    (``cos w = z0.z1 / (|z0| |z1|)``) computed along the last axis. For (nearly) parallel vectors
    (``sin w < eps``) it returns :func:`lerp`.

    Args:
        z0, z1: latents of the same shape ``... x D``.
        t: a float, or a 1-D tensor of ``T`` values (then a leading axis ``T`` is added).

    Returns:
        A tensor like ``z0`` (with the leading ``T`` axis for tensor ``t``); ``t = 0`` gives ``z0``, ``t = 1`` ``z1``.
    """
    if z0.shape != z1.shape:
        raise ValueError(f"z0 {tuple(z0.shape)} and z1 {tuple(z1.shape)} must have the same shape")
    t = _as_t(t, z0)
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True)).clamp_min(eps)
    omega = torch.acos(cos.clamp(-1, 1))
    sin = torch.sin(omega)
    safe = sin.abs() > eps
    s = torch.where(safe, sin, torch.ones_like(sin))
    spherical = torch.sin((1 - t) * omega) / s * z0 + torch.sin(t * omega) / s * z1
    return torch.where(safe, spherical, (1 - t) * z0 + t * z1)


def _as_t(t, like: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    if t.ndim == 0:
        return t
    if t.ndim != 1:
        raise ValueError(f"t must be a number or a 1-D tensor, got shape {tuple(t.shape)}")
    return t.view(-1, *([1] * like.ndim))


@torch.no_grad()
def classify_samples(generate: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, recognizer,
                     batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate images from latents ``z`` (``N x D``) and classify them with ``recognizer``.

    Returns:
        ``(labels, confidence)``: ``N`` int64 predicted classes and ``N`` float top probabilities.
    """
    labels, conf = [], []
    for i in range(0, len(z), batch_size):
        probs = recognizer(generate(z[i:i + batch_size])).softmax(1).cpu()
        c, l = probs.max(1)
        labels.append(l)
        conf.append(c)
    return torch.cat(labels), torch.cat(conf)


@torch.no_grad()
def attribute_vector(generate: Callable[[torch.Tensor], torch.Tensor], recognizer, from_class: int, to_class: int,
                     z_dim: int, n: int = 4000, min_confidence: float = 0.9, seed: int = 0, device=None) -> dict:
    """The latent direction from one class to another: ``mean z[to_class] - mean z[from_class]``.

    Draws ``n`` latents ``z ~ N(0, I)``, generates images with ``generate``, keeps the ones that ``recognizer``
    assigns to ``from_class`` or ``to_class`` with probability >= ``min_confidence``, and subtracts the
    class means of their latents. Adding the vector to a latent of a ``from_class`` image should turn it into a
    ``to_class`` image (Radford et al. 2015, Sec. 6.3 use the average of three latents per concept; averaging
    many makes the direction more stable).

    Args:
        generate: latents ``N x z_dim`` -> images ``N x 1 x H x W`` in [-1, 1] (e.g. ``G`` in eval mode).
        recognizer: classifier returning logits ``N x K`` (e.g. :func:`course_lib.models.recognizer.load_recognizer`).
        from_class, to_class: class indices.

    Returns:
        ``{"vector": z_dim tensor, "mean_from", "mean_to", "n_from", "n_to", "z", "labels", "confidence"}``.

    Raises:
        ValueError: if fewer than 5 confident samples of either class were found (raise ``n`` or lower
            ``min_confidence``).
    """
    device = torch.device(device or "cpu")
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    labels, conf = classify_samples(generate, z, recognizer)
    z = z.cpu()
    keep_from = (labels == from_class) & (conf >= min_confidence)
    keep_to = (labels == to_class) & (conf >= min_confidence)
    for cls, keep in ((from_class, keep_from), (to_class, keep_to)):
        if keep.sum() < 5:
            raise ValueError(f"only {int(keep.sum())} of {n} samples were assigned to class {cls} with confidence "
                             f">= {min_confidence}: raise n or lower min_confidence")
    mean_from, mean_to = z[keep_from].mean(0), z[keep_to].mean(0)
    return {"vector": mean_to - mean_from, "mean_from": mean_from, "mean_to": mean_to,
            "n_from": int(keep_from.sum()), "n_to": int(keep_to.sum()), "z": z, "labels": labels, "confidence": conf}
