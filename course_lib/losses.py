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


# --- masked reconstruction loss (notebook 10, Context Encoder) -------------------------------------

def masked_l2_loss(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared error averaged over the *hidden* pixels only: the reconstruction loss of the Context
    Encoder (Pathak et al., CVPR 2016, Eq. 1, ``|| M ⊙ (x - F((1 - M) ⊙ x)) ||_2^2``), normalised by
    the number of masked values so that its scale does not depend on the hole size.

    Args:
        prediction, target: float tensors ``N x C x H x W``.
        mask: ``N x 1 x H x W`` or ``N x C x H x W``, 1 (or True) where the pixel was hidden and must be
            reconstructed, 0 where it was visible; broadcast over the channels.

    Returns:
        A scalar tensor ``sum(M * (prediction - target)^2) / (C * sum(M))`` (mean over masked
        values), differentiable in ``prediction``.

    Raises:
        ValueError: for shapes that do not match or an all-zero mask.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape")
    if mask.ndim != prediction.ndim or mask.shape[0] != prediction.shape[0] or mask.shape[2:] != prediction.shape[2:] \
            or mask.shape[1] not in (1, prediction.shape[1]):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit prediction {tuple(prediction.shape)}: "
                         "use N x 1 x H x W or N x C x H x W")
    m = mask.to(prediction.dtype).expand_as(prediction)
    count = m.sum()
    if count.item() == 0:
        raise ValueError("masked_l2_loss got an all-zero mask: nothing is hidden")
    return (m * (prediction - target) ** 2).sum() / count
