# MUTANT: one mean over real and fake logits together instead of a mean per term added
def discriminator_loss(real_logits, fake_logits):
    """Scalar tensor: -mean log sigmoid(real_logits) - mean log(1 - sigmoid(fake_logits))."""
    ### BEGIN SOLUTION
    both = torch.cat([F.softplus(-real_logits).flatten(), F.softplus(fake_logits).flatten()])
    return both.mean()
    ### END SOLUTION
