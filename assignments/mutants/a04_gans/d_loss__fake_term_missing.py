# MUTANT: only the real term: D is never taught to reject fakes
def discriminator_loss(real_logits, fake_logits):
    """Scalar tensor: -mean log sigmoid(real_logits) - mean log(1 - sigmoid(fake_logits))."""
    ### BEGIN SOLUTION
    return F.softplus(-real_logits).mean()
    ### END SOLUTION
