# MUTANT: one eps for the whole batch instead of one per element
def reparameterize(mu, logvar):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one eps per element; same shape as mu."""
    ### BEGIN SOLUTION
    eps = torch.randn(mu.shape[1])
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION
