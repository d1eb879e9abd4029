# MUTANT: hands the work to course_lib's gaussian_kl
def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per example: N x d -> N."""
    ### BEGIN SOLUTION
    from course_lib.losses import gaussian_kl as kl
    return kl(mu, logvar)
    ### END SOLUTION
