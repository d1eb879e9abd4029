# MUTANT: the saturating minimax loss log(1 - D(G(z))) instead of -log D(G(z))
def generator_loss(fake_logits):
    """Scalar tensor: the non-saturating generator loss -mean log sigmoid(fake_logits)."""
    ### BEGIN SOLUTION
    return torch.log(1 - torch.sigmoid(fake_logits)).mean()
    ### END SOLUTION
