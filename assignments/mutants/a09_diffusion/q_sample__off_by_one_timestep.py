# MUTANT: off by one step: alpha_bar_{t-1} (schedule.alphas_cumprod_prev) instead of alpha_bar_t
def q_sample(x0, t, noise, schedule):
    """x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise, one timestep per image.

    x0, noise: N x C x H x W float; t: N int64 in [0, T) (0-based). Returns x_t, x0's shape.
    """
    ### BEGIN SOLUTION
    alpha_bar = extract(schedule.alphas_cumprod_prev, t, x0)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
    ### END SOLUTION
