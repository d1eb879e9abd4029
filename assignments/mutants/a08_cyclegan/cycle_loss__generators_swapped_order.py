# MUTANT: applies G_BA first to a (the wrong order)
def cycle_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's cycle-consistency loss (Zhu et al. 2017, Eq. 2), a scalar tensor:
    mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|."""
    ### BEGIN SOLUTION
    forward = (G_AB(G_BA(real_a)) - real_a).abs().mean()
    backward = (G_BA(G_AB(real_b)) - real_b).abs().mean()
    return forward + backward
    ### END SOLUTION
