# MUTANT: hands the work to course_lib's p_sample
def p_sample(model, x_t, t, schedule, generator=None):
    """One ancestral step x_t -> x_{t-1} with sigma_t^2 = beta_t; no noise at t = 0.

    model(x_t, t_batch) -> predicted noise; x_t: N x C x H x W; t: int in [0, T). Returns x_{t-1}.
    """
    ### BEGIN SOLUTION
    return reference.p_sample(model, x_t, t, schedule, generator=generator)
    ### END SOLUTION
