# MUTANT: hands the work to course_lib's latent.slerp
def slerp(z0, z1, t):
    """Spherical interpolation between the rows of z0 and z1 (N x d each) at fraction t; returns N x d."""
    ### BEGIN SOLUTION
    import course_lib.latent
    return course_lib.latent.slerp(z0, z1, t)
    ### END SOLUTION
