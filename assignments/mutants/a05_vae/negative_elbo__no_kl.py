# MUTANT: reconstruction only: a plain autoencoder loss
def negative_elbo(recon_logits, x, mu, logvar):
    """Mean over the batch of (sum over pixels of BCE(recon_logits, x)) + gaussian_kl(mu, logvar); a scalar."""
    ### BEGIN SOLUTION
    recon = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").flatten(1).sum(dim=1)
    return recon.mean()
    ### END SOLUTION
