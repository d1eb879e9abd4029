# MUTANT: mean squared error instead of L1
def identity_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's identity loss (Sec. 5.2), a scalar tensor: each generator should leave images of its own
    output domain unchanged: mean |G_AB(b) - b| + mean |G_BA(a) - a|."""
    ### BEGIN SOLUTION
    return ((G_AB(real_b) - real_b) ** 2).mean() + ((G_BA(real_a) - real_a) ** 2).mean()
    ### END SOLUTION
