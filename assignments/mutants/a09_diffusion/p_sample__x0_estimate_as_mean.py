# MUTANT: returns the x0 estimate (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar) as the mean
def p_sample(model, x_t, t, schedule, generator=None):
    """One ancestral step x_t -> x_{t-1} with sigma_t^2 = beta_t; no noise at t = 0.

    model(x_t, t_batch) -> predicted noise; x_t: N x C x H x W; t: int in [0, T). Returns x_{t-1}.
    """
    ### BEGIN SOLUTION
    t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long)
    eps = model(x_t, t_batch)
    beta = schedule.betas[t].item()
    alpha_bar = schedule.alphas_cumprod[t].item()
    mean = (x_t - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha_bar)
    if t == 0:
        return mean
    return mean + math.sqrt(beta) * torch.randn(x_t.shape, generator=generator)
    ### END SOLUTION
