"""Losses shared by the course's generative models.

One place for the adversarial losses, so that DCGAN (notebook 04), pix2pix (06, 07), CycleGAN (08) and
the Context Encoder (10) use the same code. Task-specific losses (masked L2, class-rebalanced
cross-entropy, KL, cycle and identity losses) are added here by the notebooks that introduce them.

Conventions: a discriminator returns *raw scores* (logits for ``'vanilla'``), any shape -- one number
per image (DCGAN) or one per patch (PatchGAN, ``N x 1 x H' x W'``). Losses are means over every score,
so a PatchGAN's loss is the average over its patches (Isola et al. 2017, Sec. 3.2.2).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GAN_MODES = ("vanilla", "lsgan", "hinge")


class GANLoss(nn.Module):
    """Adversarial loss that hides the target tensors: ``criterion(scores, target_is_real)``.

    Modes:

    * ``'vanilla'`` -- binary cross-entropy on logits (Goodfellow et al. 2014). Called with
      ``target_is_real=True`` on the generator's fakes it is the *non-saturating* generator loss
      ``-log D(G(z))`` (Goodfellow et al. 2014, Sec. 3), which pix2pix and DCGAN use.
    * ``'lsgan'`` -- least squares to the targets 1 (real) and 0 (fake) (Mao et al. 2017); CycleGAN's
      choice (Zhu et al. 2017, Sec. 4).
    * ``'hinge'`` -- ``mean(relu(1 - s))`` for real and ``mean(relu(1 + s))`` for fake when training
      the discriminator; ``-mean(s)`` for the generator (Lim & Ye 2017; Miyato et al. 2018).

    Args:
        gan_mode: one of ``'vanilla'``, ``'lsgan'``, ``'hinge'``.
        target_real_label, target_fake_label: the targets of ``'vanilla'`` and ``'lsgan'``
            (e.g. 0.9 for one-sided label smoothing, Salimans et al. 2016).

    Call:
        ``forward(prediction, target_is_real, for_discriminator=True)``: ``prediction`` is a float
        tensor of any shape; returns a scalar tensor. ``for_discriminator`` matters only for
        ``'hinge'``, whose generator loss differs from its discriminator loss on real data.

    Raises:
        ValueError: for an unknown ``gan_mode`` or an empty ``prediction``.
    """

    def __init__(self, gan_mode: str = "vanilla", target_real_label: float = 1.0, target_fake_label: float = 0.0):
        super().__init__()
        if gan_mode not in GAN_MODES:
            raise ValueError(f"gan_mode must be one of {GAN_MODES}, got {gan_mode!r}")
        self.gan_mode = gan_mode
        # Buffers follow .to(device) and are not saved as parameters.
        self.register_buffer("real_label", torch.tensor(float(target_real_label)), persistent=False)
        self.register_buffer("fake_label", torch.tensor(float(target_fake_label)), persistent=False)

    def get_target_tensor(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """The target label broadcast to ``prediction``'s shape, dtype and device."""
        label = self.real_label if target_is_real else self.fake_label
        return label.to(prediction).expand_as(prediction)

    def forward(self, prediction: torch.Tensor, target_is_real: bool, for_discriminator: bool = True) -> torch.Tensor:
        if prediction.numel() == 0:
            raise ValueError("GANLoss got an empty prediction tensor")
        if self.gan_mode == "vanilla":
            return F.binary_cross_entropy_with_logits(prediction, self.get_target_tensor(prediction, target_is_real))
        if self.gan_mode == "lsgan":
            return F.mse_loss(prediction, self.get_target_tensor(prediction, target_is_real))
        # hinge
        if not for_discriminator:
            return -prediction.mean()
        return F.relu(1 - prediction).mean() if target_is_real else F.relu(1 + prediction).mean()

    def extra_repr(self) -> str:
        return f"gan_mode={self.gan_mode!r}"


# --- pix2pix and CycleGAN (notebooks 06-08) --------------------------------------------------------

def pix2pix_generator_loss(D: nn.Module, x: torch.Tensor, fake: torch.Tensor, target: torch.Tensor,
                           criterion: GANLoss, lambda_l1: float = 100.0, use_gan: bool = True,
                           use_l1: bool = True) -> tuple[torch.Tensor, dict]:
    """pix2pix's generator objective ``L_cGAN(G, D) + lambda * L_L1(G)`` (Isola et al. 2017, Eq. 4).

    The conditional discriminator sees the input and the output together, ``D(cat[x, G(x)])``
    (Eq. 1), and G wants it to answer "real"; the L1 term compares G(x) with the target ``y`` (Eq. 3).
    ``use_gan=False`` gives the paper's "L1" row of Table 1, ``use_l1=False`` its "cGAN" row.

    Args:
        D: conditional discriminator on ``in + out`` channels.
        x, fake, target: ``N x C x H x W`` input, G(x) (with its graph) and ground truth, in [-1, 1].
        criterion: a :class:`GANLoss`.

    Returns:
        ``(loss, {"G_gan": float, "G_l1": float})``.
    """
    zero = fake.new_zeros(())
    gan = criterion(D(torch.cat([x, fake], 1)), True, for_discriminator=False) if use_gan else zero
    l1 = F.l1_loss(fake, target) if use_l1 else zero
    return gan + lambda_l1 * l1, {"G_gan": gan.item(), "G_l1": l1.item()}


def cycle_consistency_loss(real: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """``|| F(G(x)) - x ||_1`` averaged over pixels (Zhu et al. 2017, Eq. 2): ``real`` is x, and
    ``reconstructed`` is x after a round trip through both generators. Scalar tensor."""
    if real.shape != reconstructed.shape:
        raise ValueError(f"shapes differ: {tuple(real.shape)} vs {tuple(reconstructed.shape)}")
    return (reconstructed - real).abs().mean()


def identity_loss(real_target_domain: torch.Tensor, mapped: torch.Tensor) -> torch.Tensor:
    """``|| G(y) - y ||_1`` for ``y`` already in G's output domain (Zhu et al. 2017, Sec. 5.2,
    after Taigman et al. 2017): a generator should leave such images alone. Scalar tensor."""
    if real_target_domain.shape != mapped.shape:
        raise ValueError(f"shapes differ: {tuple(real_target_domain.shape)} vs {tuple(mapped.shape)}")
    return (mapped - real_target_domain).abs().mean()
