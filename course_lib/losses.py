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


# --- colorization (notebook 03) ---------------------------------------------------------------

def rebalanced_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None,
                             target_index: torch.Tensor | None = None) -> torch.Tensor:
    """Class-rebalanced multinomial cross-entropy of colorization (Zhang et al. 2016, Sec. 2.1-2.2, Eq. 2-3).

    ``L = mean over pixels of  v(Z) * ( - sum_q Z_q log softmax(logits)_q )`` where ``Z`` is the soft-encoded
    ground truth and ``v(Z) = weights[argmax_q Z_q]`` is the rebalancing weight of the pixel's nearest bin
    (1 everywhere when ``weights`` is None: plain soft cross-entropy). The paper sums over pixels; the mean
    keeps the loss's scale independent of the image size (the weights average to about 1).

    Args:
        logits: ``float N x Q x H x W``.
        target: ``float N x Q x H x W`` distributions (e.g. :func:`course_lib.color.soft_encode`).
        weights: ``float Q`` per-bin weights (:func:`course_lib.color.rebalancing_weights`) or None.
        target_index: optional ``int64 N x H x W`` nearest bin of each pixel (default: ``target.argmax(1)``).

    Returns:
        A scalar tensor.

    Raises:
        ValueError: if the shapes of ``logits``, ``target`` and ``weights`` disagree.
    """
    if logits.shape != target.shape or logits.ndim != 4:
        raise ValueError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)} must both be N x Q x H x W")
    per_pixel = -(target * F.log_softmax(logits, dim=1)).sum(1)            # N x H x W
    if weights is None:
        return per_pixel.mean()
    if weights.shape != (logits.shape[1],):
        raise ValueError(f"weights must have one entry per bin ({logits.shape[1]}), got {tuple(weights.shape)}")
    index = target.argmax(1) if target_index is None else target_index
    return (weights.to(logits)[index] * per_pixel).mean()


def rebalanced_cross_entropy_sparse(logits: torch.Tensor, index: torch.Tensor, weight: torch.Tensor,
                                    weights: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`rebalanced_cross_entropy` with the soft target given sparsely, as its ``k`` non-zero entries
    per pixel (what :func:`course_lib.color.soft_encode_sparse` returns): the same value, without
    building the ``N x Q x H x W`` target.

    Args:
        logits: ``float N x Q x H x W``.
        index: ``int64 N x k x H x W`` bins, the nearest first (its bin gives the pixel's rebalancing weight).
        weight: ``float N x k x H x W`` target probabilities of those bins (summing to 1 over dimension 1).
        weights: ``float Q`` per-bin rebalancing weights, or None for plain soft cross-entropy.
    """
    if index.shape != weight.shape or index.ndim != 4 or index.shape[0] != logits.shape[0] \
            or index.shape[2:] != logits.shape[2:]:
        raise ValueError(f"index {tuple(index.shape)} and weight {tuple(weight.shape)} must be N x k x H x W "
                         f"matching logits {tuple(logits.shape)}")
    per_pixel = -(weight.to(logits) * F.log_softmax(logits, dim=1).gather(1, index)).sum(1)
    if weights is None:
        return per_pixel.mean()
    return (weights.to(logits)[index[:, 0]] * per_pixel).mean()
