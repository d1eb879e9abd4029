# MUTANT: std = sqrt(logvar): log-variance used as variance
def reparameterize(mu, logvar):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one eps per element; same shape as mu."""
    ### BEGIN SOLUTION
    return mu + torch.sqrt(logvar.abs()) * torch.randn_like(mu)
    ### END SOLUTION
