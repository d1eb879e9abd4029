# MUTANT: noise drawn uniformly in [0, 1) instead of standard normal
def diffusion_loss(model, x0, schedule, generator=None):
    """The simple DDPM loss: mean((eps - model(x_t, t))^2) with t ~ U{0..T-1}, eps ~ N(0, I).

    model(x_t, t) -> N x C x H x W; x0: N x C x H x W. Returns a scalar tensor with gradient.
    """
    ### BEGIN SOLUTION
    t = torch.randint(0, len(schedule), (x0.shape[0],), generator=generator)
    noise = torch.rand(x0.shape, generator=generator)
    x_t = q_sample(x0, t, noise, schedule)
    return F.mse_loss(model(x_t, t), noise)
    ### END SOLUTION
