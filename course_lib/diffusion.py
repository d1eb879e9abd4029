"""Denoising diffusion: the noise schedule, the forward process, the loss and the samplers (notebook 09).

The pieces are kept apart, as in well-kept diffusion libraries: the *network* (any
``model(x_t, t[, cond]) -> eps``, e.g. :class:`course_lib.models.diffusion_unet.DiffusionUNet`),
the *schedule* (:class:`NoiseSchedule`: the numbers ``beta_t``, ``alpha_bar_t``, ...) and the
*samplers* (:func:`ancestral_sample`, :func:`ddim_sample`), which only call the network.

Notation of Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models" (NeurIPS 2020), with the
timesteps **0-based** as in code: the paper's ``t = 1 .. T`` is index ``t = 0 .. T-1`` here, so
``alphas_cumprod[0] = 1 - betas[0]`` is the paper's ``alpha_bar_1`` (one step of noise), and
``x_{-1}`` is the clean image ``x_0`` of the paper.

* forward process, closed form (Eq. 4): ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``,
  ``eps ~ N(0, I)`` -- :func:`q_sample`;
* the simple loss (Eq. 14, Algorithm 1): ``|| eps - eps_theta(x_t, t) ||^2`` with ``t`` uniform --
  :func:`diffusion_loss`;
* one ancestral reverse step (Eq. 11, Algorithm 2): ``x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t /
  sqrt(1 - alpha_bar_t) eps_theta) + sigma_t z``, with ``sigma_t^2 = beta_t`` and no noise at the last
  step -- :func:`p_sample`; the full chain of ``T`` steps -- :func:`ancestral_sample`;
* DDIM (Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021, Eq. 12): a
  deterministic (``eta = 0``) sampler on a subsequence of the timesteps, e.g. 50 instead of 1000 --
  :func:`ddim_sample`. Notebook 09 shows ancestral sampling on a few images and uses DDIM with 50 steps
  for its grids and scores in the fast profile.

Images are ``N x C x H x W`` float in [-1, 1].
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

Denoiser = Callable[..., torch.Tensor]
"""``model(x_t, t)`` or ``model(x_t, t, cond)`` -> predicted noise of ``x_t``'s shape."""


class NoiseSchedule:
    """The variance schedule of a DDPM and the quantities derived from it (all float64 on the CPU
    unless moved with :meth:`to`; index ``t = 0 .. T-1``).

    Args:
        num_timesteps: ``T`` (1000 in Ho et al. 2020).
        beta_start, beta_end: the linear schedule of Ho et al. (Sec. 4): ``beta`` rises linearly from
            ``1e-4`` to ``0.02``.
        betas: give the ``T`` betas directly instead (each in (0, 1)).

    Attributes:
        betas: ``beta_t``, the variance of the noise added at step ``t``.
        alphas: ``alpha_t = 1 - beta_t``.
        alphas_cumprod: ``alpha_bar_t = prod_{s <= t} alpha_s``: the share of the signal's variance
            left in ``x_t`` (Eq. 4); about 4e-5 at ``t = T-1`` for the default schedule.
        alphas_cumprod_prev: ``alpha_bar_{t-1}``, with 1 at ``t = 0``.
        sqrt_alphas_cumprod, sqrt_one_minus_alphas_cumprod: the two factors of :func:`q_sample`.
        posterior_variance: ``beta~_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)``, the variance
            of ``q(x_{t-1} | x_t, x_0)`` (Eq. 7); the other choice for ``sigma_t^2`` (Sec. 3.2).

    Raises:
        ValueError: for ``T < 1`` or betas outside (0, 1).
    """

    def __init__(self, num_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
                 betas: torch.Tensor | None = None):
        if betas is None:
            if num_timesteps < 1:
                raise ValueError(f"num_timesteps must be >= 1, got {num_timesteps}")
            betas = torch.linspace(beta_start, beta_end, num_timesteps, dtype=torch.float64)
        betas = torch.as_tensor(betas, dtype=torch.float64)
        if betas.ndim != 1 or len(betas) < 1 or (betas <= 0).any() or (betas >= 1).any():
            raise ValueError("betas must be a non-empty 1-D tensor with values in (0, 1)")
        self.num_timesteps = len(betas)
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.alphas_cumprod_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.sqrt_one_minus_alphas_cumprod = (1.0 - self.alphas_cumprod).sqrt()
        self.posterior_variance = betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)

    def __len__(self) -> int:
        return self.num_timesteps

    def __repr__(self) -> str:
        return (f"NoiseSchedule(T={self.num_timesteps}, beta {self.betas[0].item():.3g}..{self.betas[-1].item():.3g}, "
                f"alpha_bar_T={self.alphas_cumprod[-1].item():.3g})")

    def signal_to_noise(self) -> torch.Tensor:
        """``alpha_bar_t / (1 - alpha_bar_t)`` for every ``t`` (float64 ``T``)."""
        return self.alphas_cumprod / (1.0 - self.alphas_cumprod)


def extract(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` for a batch of timesteps, shaped ``N x 1 x 1 x 1`` (to broadcast over ``like``)
    with ``like``'s dtype and device.

    Args:
        values: a ``T`` tensor of the schedule (e.g. ``schedule.alphas_cumprod``).
        t: ``N`` int64 timesteps in ``[0, T)`` (or a scalar).
        like: the ``N x C x H x W`` tensor the result multiplies.
    """
    t = torch.as_tensor(t, device=values.device).long()
    if t.ndim == 0:
        t = t.expand(like.shape[0])
    if (t < 0).any() or (t >= len(values)).any():
        raise IndexError(f"timesteps must lie in [0, {len(values)}), got [{int(t.min())}, {int(t.max())}]")
    out = values[t].to(device=like.device, dtype=like.dtype)
    return out.reshape(-1, *([1] * (like.ndim - 1)))


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """Sample ``x_t ~ q(x_t | x_0)`` in closed form (Ho et al. 2020, Eq. 4):
    ``x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise``.

    Args:
        x0: clean images ``N x C x H x W`` in [-1, 1].
        t: ``N`` int64 timesteps in ``[0, T)`` (0-based: ``t = 0`` is one step of noise).
        noise: ``eps``, standard normal of ``x0``'s shape.
        schedule: the :class:`NoiseSchedule`.

    Returns:
        ``x_t``, ``x0``'s shape and dtype.
    """
    return (extract(schedule.sqrt_alphas_cumprod, t, x0) * x0
            + extract(schedule.sqrt_one_minus_alphas_cumprod, t, x0) * noise)


def predict_x0(x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """Invert :func:`q_sample` for ``x_0`` given the noise: ``(x_t - sqrt(1 - alpha_bar_t) eps) /
    sqrt(alpha_bar_t)`` (Ho et al. 2020, Eq. 15)."""
    return (x_t - extract(schedule.sqrt_one_minus_alphas_cumprod, t, x_t) * eps) / extract(
        schedule.sqrt_alphas_cumprod, t, x_t)


def diffusion_loss(model: Denoiser, x0: torch.Tensor, schedule: NoiseSchedule, cond: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """The simple DDPM loss (Ho et al. 2020, Eq. 14 and Algorithm 1), one Monte-Carlo sample per image.

    Draws ``t ~ Uniform{0, .., T-1}`` and ``eps ~ N(0, I)`` per image, makes ``x_t`` with
    :func:`q_sample` and returns ``mean((eps - model(x_t, t[, cond]))^2)`` over all pixels.

    Args:
        model: the noise predictor.
        x0: clean images ``N x C x H x W`` in [-1, 1].
        cond: the conditioning images for a conditional model (SR3 / Palette), else ``None``.
        generator: optional ``torch.Generator`` (on ``x0``'s device) for ``t`` and ``eps``.

    Returns:
        A scalar tensor (with gradient) >= 0; about 1 for a network that predicts 0.
    """
    t = torch.randint(0, len(schedule), (x0.shape[0],), device=x0.device, generator=generator)
    noise = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
    x_t = q_sample(x0, t, noise, schedule)
    eps = model(x_t, t) if cond is None else model(x_t, t, cond)
    return F.mse_loss(eps, noise)


@torch.no_grad()
def p_sample(model: Denoiser, x_t: torch.Tensor, t: int, schedule: NoiseSchedule, cond: torch.Tensor | None = None,
             generator: torch.Generator | None = None, variance: str = "beta") -> torch.Tensor:
    """One ancestral reverse step ``x_t -> x_{t-1} ~ p_theta(x_{t-1} | x_t)`` (Ho et al. 2020, Eq. 11,
    Algorithm 2)::

        mean    = (x_t - beta_t / sqrt(1 - alpha_bar_t) * eps_theta(x_t, t)) / sqrt(alpha_t)
        x_{t-1} = mean + sigma_t * z,   z ~ N(0, I), and no noise at t = 0

    Args:
        model: the noise predictor.
        x_t: ``N x C x H x W`` at step ``t``.
        t: the (0-based) step, an int in ``[0, T)``, the same for the whole batch.
        cond: the conditioning images of a conditional model.
        generator: optional ``torch.Generator`` for ``z``.
        variance: ``"beta"`` (``sigma_t^2 = beta_t``) or ``"posterior"`` (``sigma_t^2 = beta~_t``); Ho et al.
            found both to give similar results (Sec. 3.2).

    Returns:
        ``x_{t-1}``, ``x_t``'s shape (at ``t = 0``: the sample, the mean without noise).
    """
    if variance not in ("beta", "posterior"):
        raise ValueError(f"variance must be 'beta' or 'posterior', got {variance!r}")
    tt = torch.full((x_t.shape[0],), int(t), device=x_t.device, dtype=torch.long)
    eps = model(x_t, tt) if cond is None else model(x_t, tt, cond)
    coef = extract(schedule.betas / schedule.sqrt_one_minus_alphas_cumprod, tt, x_t)
    mean = (x_t - coef * eps) / extract(schedule.alphas.sqrt(), tt, x_t)
    if t == 0:
        return mean
    var = schedule.betas if variance == "beta" else schedule.posterior_variance
    z = torch.randn(x_t.shape, device=x_t.device, dtype=x_t.dtype, generator=generator)
    return mean + extract(var.sqrt(), tt, x_t) * z


def _progress(iterable, progress: bool, desc: str):
    if not progress:
        return iterable
    from .progress import progress_bar

    return progress_bar(iterable, desc=desc)


@torch.no_grad()
def ancestral_sample(model: Denoiser, shape: tuple[int, ...], schedule: NoiseSchedule,
                     cond: torch.Tensor | None = None, generator: torch.Generator | None = None,
                     device=None, keep_every: int | None = None, progress: bool = False,
                     variance: str = "beta") -> torch.Tensor | tuple[torch.Tensor, list]:
    """The full DDPM sampler (Ho et al. 2020, Algorithm 2): ``x_{T-1} ~ N(0, I)``, then :func:`p_sample`
    for ``t = T-1, .., 0`` -- ``T`` network evaluations.

    Args:
        shape: ``(N, C, H, W)`` of the samples.
        cond: conditioning images ``N x c x H x W`` for a conditional model.
        generator: a ``torch.Generator`` on ``device`` for reproducible samples.
        device: where to sample (default: the model's device).
        keep_every: also return the intermediate ``x_t`` every this many steps (for the notebook's
            film strip).

    Returns:
        Samples ``shape`` (float32; clamped to [-1, 1]), or ``(samples, [(t, x_t), ...])`` with
        ``keep_every``.
    """
    device = device or _model_device(model)
    x = torch.randn(shape, device=device, generator=generator)
    kept = []
    for t in _progress(range(len(schedule) - 1, -1, -1), progress, "DDPM sampling"):
        if keep_every and t % keep_every == 0:
            kept.append((t, x.clone().cpu()))
        x = p_sample(model, x, t, schedule, cond=cond, generator=generator, variance=variance)
    x = x.clamp(-1, 1)
    return (x, kept) if keep_every else x


def ddim_timesteps(num_timesteps: int, steps: int) -> list[int]:
    """``steps`` evenly spaced (0-based) timesteps from ``T-1`` down to 0, decreasing, no repeats."""
    if not 1 <= steps <= num_timesteps:
        raise ValueError(f"steps must lie in [1, {num_timesteps}], got {steps}")
    ts = torch.linspace(num_timesteps - 1, 0, steps).round().long().tolist()
    return list(dict.fromkeys(ts))


@torch.no_grad()
def ddim_sample(model: Denoiser, shape: tuple[int, ...], schedule: NoiseSchedule, steps: int = 50,
                eta: float = 0.0, cond: torch.Tensor | None = None, generator: torch.Generator | None = None,
                device=None, progress: bool = False, clip_x0: bool = True) -> torch.Tensor:
    """DDIM sampling (Song, Meng & Ermon 2021, Eq. 12) on ``steps`` of the ``T`` timesteps, with a network
    trained by the DDPM loss (no retraining: DDIM shares the DDPM's marginals ``q(x_t | x_0)``).

    For consecutive kept steps ``t > s``::

        x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)               (a = alpha_bar; predict_x0)
        sigma  = eta * sqrt((1 - a_s) / (1 - a_t) * (1 - a_t / a_s))
        x_s    = sqrt(a_s) x0_hat + sqrt(1 - a_s - sigma^2) eps + sigma z

    and after the last kept step (``t = 0``) the sample is ``x0_hat``. ``eta = 0`` is deterministic (the
    same noise gives the same image), ``eta = 1`` is close to the ancestral sampler on the subsequence.

    Args:
        steps: network evaluations (50 in the notebook's fast profile instead of 1000).
        eta: the stochasticity, >= 0.
        clip_x0: clamp ``x0_hat`` to [-1, 1] at every step (the usual practice; keeps a small, partly
            trained network on the image range).

    Returns:
        Samples of ``shape``, float32 in [-1, 1].
    """
    device = device or _model_device(model)
    x = torch.randn(shape, device=device, generator=generator)
    ts = ddim_timesteps(len(schedule), steps)
    abar = schedule.alphas_cumprod
    for i in _progress(range(len(ts)), progress, f"DDIM sampling ({len(ts)} steps)"):
        t = ts[i]
        tt = torch.full((shape[0],), t, device=device, dtype=torch.long)
        eps = model(x, tt) if cond is None else model(x, tt, cond)
        a_t = abar[t].item()
        x0 = predict_x0(x, tt, eps, schedule)
        if clip_x0:
            x0 = x0.clamp(-1, 1)
            eps = (x - a_t ** 0.5 * x0) / (1 - a_t) ** 0.5
        if i == len(ts) - 1:
            x = x0
            continue  # the last step (not break: the progress bar then ends at steps/steps)
        a_s = abar[ts[i + 1]].item()
        sigma = eta * ((1 - a_s) / (1 - a_t) * (1 - a_t / a_s)) ** 0.5
        x = a_s ** 0.5 * x0 + max(0.0, 1 - a_s - sigma ** 2) ** 0.5 * eps
        if sigma > 0:
            x = x + sigma * torch.randn(shape, device=device, generator=generator)
    return x.clamp(-1, 1)


def _model_device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device("cpu")
