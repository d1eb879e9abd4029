# MUTANT: uses logvar as the variance: log(logvar) and logvar in place of logvar and exp(logvar)
def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per example: N x d -> N."""
    ### BEGIN SOLUTION
    return -0.5 * (1 + torch.log(logvar) - mu ** 2 - logvar).sum(dim=1)
    ### END SOLUTION
