"""The GAN minimax game on a 1-D toy: "generating 1-D points" (notebook 04; Goodfellow et al.,
"Generative Adversarial Nets", NeurIPS 2014, Fig. 1 and Algorithm 1).

Real data are numbers drawn from a Gaussian ``N(mean, std^2)``. The generator ``G`` maps noise
``z ~ N(0, 1)`` to a number; the discriminator ``D`` maps a number to a logit, ``D(x) = sigmoid(logit)``
being its belief that ``x`` is real. They take turns (one D step, one G step, as in Algorithm 1 with
k = 1) on :func:`course_lib.losses.discriminator_loss` and a generator loss -- the non-saturating
:func:`course_lib.losses.generator_loss` or the minimax game's own
:func:`course_lib.losses.saturating_generator_loss`. :func:`train_toy_gan` keeps snapshots (generated
samples and D's curve on a grid) so the notebook can show the alternation.
"""
from __future__ import annotations

import torch
from torch import nn

from ..losses import discriminator_loss, generator_loss, saturating_generator_loss

G_LOSSES = {"non-saturating": generator_loss, "saturating": saturating_generator_loss}


def mlp(width: int = 32, depth: int = 2) -> nn.Sequential:
    """``N x 1 -> N x 1`` perceptron with ``depth`` hidden layers of ``width`` units and LeakyReLU(0.2)."""
    layers, cin = [], 1
    for _ in range(depth):
        layers += [nn.Linear(cin, width), nn.LeakyReLU(0.2)]
        cin = width
    return nn.Sequential(*layers, nn.Linear(cin, 1))


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
