# MUTANT: hands the work to course_lib's reparameterize
def reparameterize(mu, logvar):
    """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one eps per element; same shape as mu."""
    ### BEGIN SOLUTION
    from course_lib import losses
    return losses.reparameterize(mu, logvar)
    ### END SOLUTION
