# MUTANT: hands the work to course_lib's cycle_consistency_loss
def cycle_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's cycle-consistency loss (Zhu et al. 2017, Eq. 2), a scalar tensor:
    mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|."""
    ### BEGIN SOLUTION
    from course_lib.losses import cycle_consistency_loss as reference
    return reference(real_a, G_BA(G_AB(real_a))) + reference(real_b, G_AB(G_BA(real_b)))
    ### END SOLUTION
