# MUTANT: hands the work to course_lib's q_sample
def q_sample(x0, t, noise, schedule):
    """x_t = sqrt(alpha_bar_t) * x0 + sqrt(1 - alpha_bar_t) * noise, one timestep per image.

    x0, noise: N x C x H x W float; t: N int64 in [0, T) (0-based). Returns x_t, x0's shape.
    """
    ### BEGIN SOLUTION
    return reference.q_sample(x0, t, noise, schedule)
    ### END SOLUTION
