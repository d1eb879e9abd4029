# MUTANT: hands the work to course_lib's pix2pix_generator_loss
def generator_loss(D, x, fake, target, lambda_l1=100.0):
    """pix2pix's generator loss L_cGAN + lambda * L1 (Isola et al. 2017, Eq. 4), a scalar tensor.

    D: conditional discriminator returning raw scores (logits) for cat([input, output], dim=1);
    x: the input, fake: G(x), target: the true output -- all N x C x H x W in [-1, 1].
    """
    ### BEGIN SOLUTION
    from course_lib.losses import GANLoss, pix2pix_generator_loss as reference
    loss, _ = reference(D, x, fake, target, GANLoss("vanilla"), lambda_l1=lambda_l1)
    return loss
    ### END SOLUTION
