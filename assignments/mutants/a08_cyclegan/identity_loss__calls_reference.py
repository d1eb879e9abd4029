# MUTANT: hands the work to course_lib's identity_loss
def identity_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's identity loss (Sec. 5.2), a scalar tensor: each generator should leave images of its own
    output domain unchanged: mean |G_AB(b) - b| + mean |G_BA(a) - a|."""
    ### BEGIN SOLUTION
    from course_lib.losses import identity_loss as reference
    return reference(real_b, G_AB(real_b)) + reference(real_a, G_BA(real_a))
    ### END SOLUTION
