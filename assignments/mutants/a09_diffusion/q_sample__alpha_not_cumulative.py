# MUTANT: the one-step alpha_t instead of the cumulative product alpha_bar_t
def q_sample(x0, t, noise, schedule):
    """x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise, one timestep per image.

    x0, noise: N x C x H x W float; t: N int64 in [0, T) (0-based). Returns x_t, x0's shape.
    """
    ### BEGIN SOLUTION
    alpha = extract(schedule.alphas, t, x0)
    return alpha.sqrt() * x0 + (1 - alpha).sqrt() * noise
    ### END SOLUTION
