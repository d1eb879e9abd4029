# MUTANT: only the A -> B -> A cycle
def cycle_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's cycle-consistency loss (Zhu et al. 2017, Eq. 2), a scalar tensor:
    mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|."""
    ### BEGIN SOLUTION
    return (G_BA(G_AB(real_a)) - real_a).abs().mean()
    ### END SOLUTION
