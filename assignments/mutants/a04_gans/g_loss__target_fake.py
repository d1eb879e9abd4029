# MUTANT: fakes scored against the target 'fake' (0), as in D's loss
def generator_loss(fake_logits):
    """Scalar tensor: the non-saturating generator loss -mean log sigmoid(fake_logits)."""
    ### BEGIN SOLUTION
    return F.softplus(fake_logits).mean()
    ### END SOLUTION
