# MUTANT: the schedule read at index t - 1 (1-based thinking)
def p_sample(model, x_t, t, schedule, generator=None):
    """One ancestral step x_t -> x_{t-1} with sigma_t^2 = beta_t; no noise at t = 0.

    model(x_t, t_batch) -> predicted noise; x_t: N x C x H x W; t: int in [0, T). Returns x_{t-1}.
    """
    ### BEGIN SOLUTION
    t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long)
    eps = model(x_t, t_batch)
    beta = schedule.betas[t - 1].item()
    alpha = schedule.alphas[t - 1].item()
    alpha_bar = schedule.alphas_cumprod[t - 1].item()
    mean = (x_t - beta / math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha)
    if t == 0:
        return mean
    return mean + math.sqrt(beta) * torch.randn(x_t.shape, generator=generator)
    ### END SOLUTION
