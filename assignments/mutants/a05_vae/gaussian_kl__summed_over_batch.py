# MUTANT: sums over the batch too: one number instead of one per example
def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per example: N x d -> N."""
    ### BEGIN SOLUTION
    return -0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar)).sum()
    ### END SOLUTION
