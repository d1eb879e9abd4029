# MUTANT: hands the work to course_lib's diffusion_loss
def diffusion_loss(model, x0, schedule, generator=None):
    """The simple DDPM loss: mean((eps - model(x_t, t))^2) with t ~ U{0..T-1}, eps ~ N(0, I).

    model(x_t, t) -> N x C x H x W; x0: N x C x H x W. Returns a scalar tensor with gradient.
    """
    ### BEGIN SOLUTION
    return reference.diffusion_loss(model, x0, schedule, generator=generator)
    ### END SOLUTION
