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


# --- GAN losses written out (notebook 04, assignment a04) and the VAE's ELBO (notebook 05, a05) ------------

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss of the original GAN (Goodfellow et al. 2014, Eq. 1, negated):

    ``-mean log D(x) - mean log(1 - D(G(z)))`` with ``D = sigmoid(logit)``, i.e. binary cross-entropy
    with target 1 on real and 0 on fake scores, **each term a mean over its scores, the two summed**.
    Written with ``softplus`` (``-log sigmoid(s) = softplus(-s)``, ``-log(1 - sigmoid(s)) = softplus(s)``),
    which stays finite for large logits.

    Args:
        real_logits: raw scores of real images, any shape (e.g. ``N`` or ``N x 1``).
        fake_logits: raw scores of generated images, any shape; detach them from the generator when
            training D (``D(G(z).detach())``).

    Returns:
        A scalar tensor >= 0; ``2 log 2 ~ 1.386`` when D outputs 1/2 everywhere.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The **non-saturating** generator loss ``-mean log D(G(z))`` (Goodfellow et al. 2014, Sec. 3),
    used by DCGAN (Radford et al. 2015) and pix2pix.

    The minimax game asks G to minimise ``mean log(1 - D(G(z)))`` (:func:`saturating_generator_loss`).
    Early in training D rejects fakes confidently (logit ``s << 0``), where that loss is flat: its
    gradient with respect to the logit is ``-sigmoid(s) ~ 0``. The non-saturating loss has the same fixed
    point but gradient ``-(1 - sigmoid(s)) ~ -1`` there, so G learns most where it is worst.

    Args:
        fake_logits: D's raw scores of generated images (not detached), any shape.

    Returns:
        A scalar tensor >= 0 (``softplus(-s)`` averaged).
    """
    return F.softplus(-fake_logits).mean()


def saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's side of the minimax game, ``mean log(1 - D(G(z))) = -mean softplus(s)``
    (Goodfellow et al. 2014, Eq. 1). A scalar <= 0 to *minimise*; kept to show why it saturates
    (see :func:`generator_loss`), not for training."""
    return -F.softplus(fake_logits).mean()


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The reparameterization trick (Kingma & Welling 2014, Sec. 2.4): ``z = mu + exp(logvar / 2) * eps``,
    ``eps ~ N(0, I)``, so that ``z ~ N(mu, diag(exp(logvar)))`` and gradients reach ``mu`` and ``logvar``.

    Args:
        mu, logvar: ``N x D`` (any equal shapes), the encoder's mean and **log-variance** (not the
            variance, not the standard deviation: ``std = exp(0.5 * logvar)``).
        generator: optional ``torch.Generator`` for ``eps`` (on ``mu``'s device).

    Returns:
        ``z`` with ``mu``'s shape, dtype and device.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} must have the same shape")
    eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device, generator=generator)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL( N(mu, diag(exp(logvar))) || N(0, I) )`` per example, in nats (Kingma & Welling 2014,
    Appendix B): ``-1/2 * sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))``.

    Args:
        mu, logvar: ``N x D`` (or ``N x ...``: every axis after the first is summed).

    Returns:
        ``N`` float tensor, each >= 0 (0 exactly when ``mu = 0`` and ``logvar = 0``).
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(1)


def vae_loss(recon_logits: torch.Tensor, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0) -> dict:
    """The negative ELBO of a VAE with a Bernoulli decoder (Kingma & Welling 2014, Eq. 10; notebook 05):

    ``loss = mean over examples of [ reconstruction + beta * KL ]`` with

    * reconstruction ``= -log p(x | z) = sum over pixels of BCE(recon_logits, target)``, in nats per image;
    * KL ``=`` :func:`gaussian_kl` ``(mu, logvar)`` per image.

    Sums over pixels and latent dimensions, means over the batch: a per-pixel mean would weigh the KL
    term 1024 times more at 32 x 32 and blur the samples further.

    Args:
        recon_logits: decoder output ``N x C x H x W``, logits of pixel intensities.
        target: the images ``N x C x H x W`` in **[0, 1]** (grey levels used as Bernoulli targets).
        mu, logvar: encoder outputs ``N x D``.
        beta: weight of the KL term (1 = the ELBO; beta-VAE, Higgins et al. 2017, for others).

    Returns:
        ``{"loss", "recon", "kl"}``: scalar tensors (means over the batch), ``loss = recon + beta * kl``.

    Raises:
        ValueError: for shape mismatches or targets outside [0, 1].
    """
    if recon_logits.shape != target.shape:
        raise ValueError(f"recon_logits {tuple(recon_logits.shape)} and target {tuple(target.shape)} differ")
    if target.numel() and (target.min() < 0 or target.max() > 1):
        raise ValueError("vae_loss wants targets in [0, 1]: convert [-1, 1] images with (x + 1) / 2")
    recon = F.binary_cross_entropy_with_logits(recon_logits, target, reduction="none").flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}

# --- pix2pix and CycleGAN (notebooks 06-08) --------------------------------------------------------

def pix2pix_generator_loss(D: nn.Module, x: torch.Tensor, fake: torch.Tensor, target: torch.Tensor,
                           criterion: GANLoss, lambda_l1: float = 100.0, use_gan: bool = True,
                           use_l1: bool = True, conditional: bool = True) -> tuple[torch.Tensor, dict]:
    """pix2pix's generator objective ``L_cGAN(G, D) + lambda * L_L1(G)`` (Isola et al. 2017, Eq. 4).

    The conditional discriminator sees the input and the output together, ``D(cat[x, G(x)])``
    (Eq. 1), and G wants it to answer "real"; the L1 term compares G(x) with the target ``y`` (Eq. 3).
    ``use_gan=False`` gives the paper's "L1" row of Table 1, ``use_l1=False`` its "cGAN" row;
    ``conditional=False`` its unconditional "GAN" / "L1 + GAN" rows (Eq. 2: ``D(G(x))``, the output alone).

    Args:
        D: discriminator on ``in + out`` channels (conditional) or on the ``out`` channels alone.
        x, fake, target: ``N x C x H x W`` input, G(x) (with its graph) and ground truth, in [-1, 1].
        criterion: a :class:`GANLoss`.
        conditional: whether D sees the input beside the output.

    Returns:
        ``(loss, {"G_gan": float, "G_l1": float})``.
    """
    zero = fake.new_zeros(())
    seen = torch.cat([x, fake], 1) if conditional else fake
    gan = criterion(D(seen), True, for_discriminator=False) if use_gan else zero
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
