# MUTANT: G_AB(b) is compared with a
def identity_loss(real_a, real_b, G_AB, G_BA):
    """CycleGAN's identity loss (Sec. 5.2), a scalar tensor: each generator should leave images of its own
    output domain unchanged: mean |G_AB(b) - b| + mean |G_BA(a) - a|."""
    ### BEGIN SOLUTION
    return (G_AB(real_b) - real_a).abs().mean() + (G_BA(real_a) - real_b).abs().mean()
    ### END SOLUTION
