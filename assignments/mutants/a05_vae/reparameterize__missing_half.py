# MUTANT: std = exp(logvar): the 1/2 is missing (that is the variance)
def reparameterize(mu, logvar):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one eps per element; same shape as mu."""
    ### BEGIN SOLUTION
    return mu + torch.exp(logvar) * torch.randn_like(mu)
    ### END SOLUTION
