# MUTANT: minimises -D(G(z)) (a probability) instead of -log D(G(z))
def generator_loss(fake_logits):
    """Scalar tensor: the non-saturating generator loss -mean log sigmoid(fake_logits)."""
    ### BEGIN SOLUTION
    return -torch.sigmoid(fake_logits).mean()
    ### END SOLUTION
