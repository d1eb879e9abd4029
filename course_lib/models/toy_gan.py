"""The GAN minimax game on a 1-D toy: "generating 1-D points" (notebook 04; Goodfellow et al.,
"Generative Adversarial Nets", NeurIPS 2014, Fig. 1 and Algorithm 1).

Real data are numbers drawn from a Gaussian ``N(mean, std^2)``. The generator ``G`` maps noise
``z ~ N(0, 1)`` to a number; the discriminator ``D`` maps a number to a logit, ``D(x) = sigmoid(logit)``
being its belief that ``x`` is real. They take turns (one D step, one G step, as in Algorithm 1 with
k = 1) on :func:`course_lib.losses.discriminator_loss` and a generator loss -- the non-saturating
:func:`course_lib.losses.generator_loss` or the minimax game's own
:func:`course_lib.losses.saturating_generator_loss`. :func:`train_toy_gan` keeps snapshots (generated
samples and D's curve on a grid) so the notebook can show the alternation.

The 2-D toy of notebook 04's section 6 (mode collapse): eight Gaussians on a ring (:func:`ring_samples`, the
mixture Metz et al. 2017 and Srivastava et al. 2017 (VEEGAN) use), the way those papers and PacGAN (Lin et al.
2018) count what a generator covers (:func:`mode_coverage`), and PacGAN's remedy, a discriminator that judges
``m`` samples at once (:func:`pack`). The training itself is :mod:`course_lib.experiments.mode_collapse`.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..losses import discriminator_loss, generator_loss, saturating_generator_loss

G_LOSSES = {"non-saturating": generator_loss, "saturating": saturating_generator_loss}


def mlp(width: int = 32, depth: int = 2, in_features: int = 1, out_features: int = 1,
        negative_slope: float = 0.2) -> nn.Sequential:
    """``N x in_features -> N x out_features`` perceptron (float32) with ``depth`` hidden layers of ``width`` units,
    each followed by LeakyReLU(``negative_slope``) (``0``: ReLU). The 1-D toy uses the defaults; the 2-D toy
    ``mlp(128, 2, 256, 2, 0)`` for G (latent -> point) and ``mlp(128, 2, 2 * m, 1, 0)`` for D (``m`` packed points ->
    one logit).

    Raises:
        ValueError: a width, depth or feature count below 1 (depth 0 is allowed: one linear layer).
    """
    if width < 1 or depth < 0 or in_features < 1 or out_features < 1:
        raise ValueError(f"mlp needs width, in_features, out_features >= 1 and depth >= 0; got width={width}, "
                         f"depth={depth}, in_features={in_features}, out_features={out_features}")
    layers, cin = [], in_features
    for _ in range(depth):
        layers += [nn.Linear(cin, width), nn.ReLU() if negative_slope == 0 else nn.LeakyReLU(negative_slope)]
        cin = width
    return nn.Sequential(*layers, nn.Linear(cin, out_features))


def real_samples(n: int, mean: float = 3.0, std: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n x 1`` float32 draws from the toy's data distribution ``N(mean, std^2)``."""
    return mean + std * torch.randn(n, 1, generator=generator)


def train_toy_gan(steps: int = 400, batch_size: int = 128, g_loss: str = "non-saturating", lr: float = 2e-3,
                  d_head_start: int = 0, mean: float = 3.0, std: float = 0.5, seed: int = 0,
                  snapshot_steps=(0, 25, 50, 100, 200, 400), grid=None) -> dict:
    """Play the 1-D GAN game and record it.

    Args:
        steps: alternating updates (one D step then one G step each).
        g_loss: ``"non-saturating"`` (``-log D(G(z))``) or ``"saturating"`` (``log(1 - D(G(z)))``).
        d_head_start: D steps taken alone before the game starts, so that D rejects G's first samples
            confidently -- the situation in which the saturating loss stalls.
        mean, std: the real data's Gaussian.
        snapshot_steps: steps after which samples and D's curve are kept (0 = before any G step).
        grid: points where D's curve is evaluated (default ``linspace(-3, 7, 200)``).

    Returns:
        ``{"G", "D", "loss_D", "loss_G", "g_mean", "g_std"`` (per step: mean and std of 1,000 generated
        points), ``"snapshots"``: list of ``{"step", "fake"`` (1,000 samples), ``"d_prob"`` (D on ``grid``)``}``,
        ``"grid", "real"`` (1,000 real samples)``}``.

    Raises:
        ValueError: for an unknown ``g_loss``.
    """
    if g_loss not in G_LOSSES:
        raise ValueError(f"g_loss must be one of {tuple(G_LOSSES)}, got {g_loss!r}")
    loss_g_fn = G_LOSSES[g_loss]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    G, D = mlp(16, 2), mlp(32, 2)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    grid = torch.linspace(-3, 7, 200)[:, None] if grid is None else torch.as_tensor(grid, dtype=torch.float32).view(-1, 1)
    z_fixed = torch.randn(1000, 1, generator=torch.Generator().manual_seed(99))
    out = {"loss_D": [], "loss_G": [], "g_mean": [], "g_std": [], "snapshots": [], "grid": grid[:, 0],
           "real": real_samples(1000, mean, std, torch.Generator().manual_seed(98))[:, 0]}

    def d_step():
        real = real_samples(batch_size, mean, std, gen)
        fake = G(torch.randn(batch_size, 1, generator=gen)).detach()
        loss = discriminator_loss(D(real), D(fake))
        opt_D.zero_grad()
        loss.backward()
        opt_D.step()
        return loss.item()

    def snapshot(step):
        with torch.no_grad():
            out["snapshots"].append({"step": step, "fake": G(z_fixed)[:, 0].clone(),
                                     "d_prob": torch.sigmoid(D(grid))[:, 0].clone()})

    for _ in range(d_head_start):
        d_step()
    for step in range(steps + 1):
        if step in snapshot_steps:
            snapshot(step)
        with torch.no_grad():
            f = G(z_fixed)
            out["g_mean"].append(f.mean().item())
            out["g_std"].append(f.std().item())
        if step == steps:
            break
        out["loss_D"].append(d_step())
        loss = loss_g_fn(D(G(torch.randn(batch_size, 1, generator=gen))))
        opt_G.zero_grad()
        loss.backward()
        opt_G.step()
        out["loss_G"].append(loss.item())
    out["G"], out["D"] = G, D
    return out


def plot_toy_snapshots(result: dict, axes=None):
    """One panel per snapshot: histogram of real points, of generated points, and D's probability curve."""
    import matplotlib.pyplot as plt

    snaps = result["snapshots"]
    if axes is None:
        _, axes = plt.subplots(1, len(snaps), figsize=(2.6 * len(snaps), 2.4), sharey=True)
    bins = torch.linspace(float(result["grid"].min()), float(result["grid"].max()), 60)
    for ax, s in zip(axes, snaps):
        ax.hist(result["real"].numpy(), bins=bins.numpy(), density=True, alpha=0.5, label="real", color="tab:blue")
        ax.hist(s["fake"].numpy(), bins=bins.numpy(), density=True, alpha=0.5, label="G(z)", color="tab:orange")
        ax.plot(result["grid"].numpy(), s["d_prob"].numpy(), "k", lw=1.5, label="D(x)")
        ax.set_title(f"step {s['step']}", fontsize=9)
        ax.set_ylim(0, 1.2)
        ax.set_xlabel("x")
    axes[0].legend(fontsize=7, loc="upper left")
    return axes


# --- the 2-D toy: eight Gaussians on a ring (section 6, mode collapse) ----------------------------------

RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.02
"""The ring's number of modes, radius and per-coordinate standard deviation (the settings of the ring in Metz et al.
2017 and Srivastava et al. 2017)."""


def ring_centers(n_modes: int = RING_MODES, radius: float = RING_RADIUS) -> torch.Tensor:
    """``n_modes x 2`` float32: the modes' centres, evenly spaced on a circle of ``radius`` starting at ``(radius, 0)``.

    Raises:
        ValueError: ``n_modes < 1`` or ``radius <= 0``.
    """
    if n_modes < 1 or not radius > 0:
        raise ValueError(f"a ring needs n_modes >= 1 and radius > 0, got n_modes={n_modes}, radius={radius}")
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    return (radius * torch.stack([angles.cos(), angles.sin()], 1)).float()


def ring_samples(n: int, n_modes: int = RING_MODES, radius: float = RING_RADIUS, std: float = RING_STD,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """``n x 2`` float32 draws from the ring: a mode chosen uniformly, plus isotropic Gaussian noise of ``std``
    (data units; the modes are ``2 radius sin(pi / n_modes)`` = 1.53 apart with the defaults).

    Raises:
        ValueError: ``n < 0`` or ``std < 0`` (and what :func:`ring_centers` raises).
    """
    if n < 0 or std < 0:
        raise ValueError(f"ring_samples needs n >= 0 and std >= 0, got n={n}, std={std}")
    centers = ring_centers(n_modes, radius)
    k = torch.randint(0, n_modes, (n,), generator=generator)
    return centers[k] + std * torch.randn(n, 2, generator=generator)


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN's packing (Lin et al. 2018): ``N x d -> (N / m) x (m d)``, rows ``i m, ..., i m + m - 1`` side
    by side, so that the discriminator judges ``m`` samples of one source (all real or all fake) at once. ``m = 1``
    returns ``x`` unchanged. A view when ``x`` is contiguous; gradients flow through it.

    Raises:
        ValueError: ``x`` is not 2-D, ``m < 1``, or ``m`` does not divide ``N`` (pick a batch size that it divides).
    """
    if x.dim() != 2:
        raise ValueError(f"pack expects an N x d tensor of samples, got shape {tuple(x.shape)}")
    if m < 1 or x.shape[0] % m:
        raise ValueError(f"pack needs m >= 1 dividing the batch, got m={m} for {x.shape[0]} samples")
    return x.reshape(x.shape[0] // m, m * x.shape[1])


def mode_coverage(samples: torch.Tensor, centers: torch.Tensor | None = None, std: float = RING_STD,
                  min_count: int = 20) -> dict:
    """What a generator's samples cover, counted the way Srivastava et al. (2017, VEEGAN) and Lin et al. (2018,
    PacGAN) count it on the ring (the ``min_count`` rule is ours).

    A sample is of **high quality** when it lies within ``3 std`` of its nearest centre; a mode is **covered** when at
    least ``min_count`` high-quality samples fall on it (20 of 2,500 is a sixteenth of a mode's fair share).

    Args:
        samples: ``N x 2`` points (any float dtype, any device; not modified).
        centers: ``K x 2`` mode centres (default :func:`ring_centers`).
        std: the modes' standard deviation, in data units.
        min_count: high-quality samples a mode needs to count as covered.

    Returns:
        ``{"modes_covered"`` (int, 0..K), ``"high_quality"`` (fraction of samples, 0..1), ``"kl_to_uniform"``
        (KL divergence in nats of the share of samples nearest each mode from the uniform 1 / K: 0 when balanced,
        ``log K`` = 2.08 when every sample is nearest one mode), ``"counts"`` (high-quality samples per mode, a list)``}``.

    Raises:
        ValueError: ``samples`` not ``N x 2`` with ``N >= 1``, or ``centers`` not ``K x 2``.
    """
    centers = ring_centers() if centers is None else centers
    if samples.dim() != 2 or samples.shape[1] != 2 or samples.shape[0] < 1:
        raise ValueError(f"mode_coverage expects N x 2 points (N >= 1), got shape {tuple(samples.shape)}")
    if centers.dim() != 2 or centers.shape[1] != 2:
        raise ValueError(f"centers must be K x 2, got shape {tuple(centers.shape)}")
    x = samples.detach().float().cpu()
    c = centers.detach().float().cpu()
    dist, nearest = torch.cdist(x, c).min(dim=1)
    k = c.shape[0]
    good = dist < 3 * std
    counts = torch.bincount(nearest[good], minlength=k)
    share = torch.bincount(nearest, minlength=k).double() / x.shape[0]
    kl = float((share[share > 0] * (share[share > 0] * k).log()).sum())
    return {"modes_covered": int((counts >= min_count).sum()), "high_quality": float(good.double().mean()),
            "kl_to_uniform": kl, "counts": counts.tolist()}
