# MUTANT: the factor 1/2 is missing
def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per example: N x d -> N."""
    ### BEGIN SOLUTION
    return -(1 + logvar - mu ** 2 - torch.exp(logvar)).sum(dim=1)
    ### END SOLUTION
