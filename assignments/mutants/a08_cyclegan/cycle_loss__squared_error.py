# MUTANT: mean squared error instead of L1
def cycle_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's cycle-consistency loss (Zhu et al. 2017, Eq. 2), a scalar tensor:
    mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|."""
    ### BEGIN SOLUTION
    forward = ((G_BA(G_AB(real_a)) - real_a) ** 2).mean()
    backward = ((G_AB(G_BA(real_b)) - real_b) ** 2).mean()
    return forward + backward
    ### END SOLUTION
