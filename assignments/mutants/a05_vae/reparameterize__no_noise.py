# MUTANT: returns the mean: no sampling, no gradient to logvar
def reparameterize(mu, logvar):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one eps per element; same shape as mu."""
    ### BEGIN SOLUTION
    return mu
    ### END SOLUTION
