# MUTANT: applies the sigmoid to the logits and then BCE with logits (sigmoid twice)
def negative_elbo(recon_logits, x, mu, logvar):
    """Mean over the batch of (sum over pixels of BCE(recon_logits, x)) + gaussian_kl(mu, logvar); a scalar."""
    ### BEGIN SOLUTION
    recon = F.binary_cross_entropy_with_logits(torch.sigmoid(recon_logits), x, reduction="none").flatten(1).sum(dim=1)
    return (recon + gaussian_kl(mu, logvar)).mean()
    ### END SOLUTION
