# MUTANT: hands the work to course_lib's vae_loss
def negative_elbo(recon_logits, x, mu, logvar):
    """Mean over the batch of (sum over pixels of BCE(recon_logits, x)) + gaussian_kl(mu, logvar); a scalar."""
    ### BEGIN SOLUTION
    from course_lib.losses import vae_loss
    return vae_loss(recon_logits, x, mu, logvar)['loss']
    ### END SOLUTION
