# MUTANT: sign flipped: maximises -log D(G(z)), i.e. G tries to look fake
def generator_loss(fake_logits):
    """Scalar tensor: the non-saturating generator loss -mean log sigmoid(fake_logits)."""
    ### BEGIN SOLUTION
    return -F.softplus(-fake_logits).mean()
    ### END SOLUTION
