# MUTANT: hands the work to course_lib's dcgan.train_step
def train_step(G, D, opt_G, opt_D, real, z):
    """One D update then one G update; returns (loss_D, loss_G) as floats."""
    ### BEGIN SOLUTION
    from course_lib.models.dcgan import train_step as reference
    out = reference(G, D, opt_G, opt_D, real, z)
    return out['loss_D'], out['loss_G']
    ### END SOLUTION
