# MUTANT: real scored against 0 and fake against 1 (targets swapped)
def discriminator_loss(real_logits, fake_logits):
    """Scalar tensor: -mean log sigmoid(real_logits) - mean log(1 - sigmoid(fake_logits))."""
    ### BEGIN SOLUTION
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
    ### END SOLUTION
