# MUTANT: sums over the logits instead of averaging (depends on batch size)
def discriminator_loss(real_logits, fake_logits):
    """Scalar tensor: -mean log sigmoid(real_logits) - mean log(1 - sigmoid(fake_logits))."""
    ### BEGIN SOLUTION
    return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()
    ### END SOLUTION
