# MUTANT: linear interpolation instead of spherical
def slerp(z0, z1, t):
    """Spherical interpolation between the rows of z0 and z1 (N x d each) at fraction t; returns N x d."""
    ### BEGIN SOLUTION
    return (1 - t) * z0 + t * z1
    ### END SOLUTION
