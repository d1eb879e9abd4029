# MUTANT: D gets cat([fake, x]): output first, input second
def generator_loss(D, x, fake, target, lambda_l1=100.0):
    """pix2pix's generator loss L_cGAN + lambda * L1 (Isola et al. 2017, Eq. 4), a scalar tensor.

    D: conditional discriminator returning raw scores (logits) for cat([input, output], dim=1);
    x: the input, fake: G(x), target: the true output -- all N x C x H x W in [-1, 1].
    """
    ### BEGIN SOLUTION
    scores = D(torch.cat([fake, x], dim=1))
    gan = F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
    return gan + lambda_l1 * F.l1_loss(fake, target)
    ### END SOLUTION
