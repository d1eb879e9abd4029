# MUTANT: uses the log-variance as the standard deviation
def reparameterize(mu, logvar):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one eps per element; same shape as mu."""
    ### BEGIN SOLUTION
    return mu + logvar * torch.randn_like(mu)
    ### END SOLUTION
