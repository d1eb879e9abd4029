# MUTANT: hands the work to course_lib's GANLoss
def generator_loss(fake_logits):
    """Scalar tensor: the non-saturating generator loss -mean log sigmoid(fake_logits)."""
    ### BEGIN SOLUTION
    from course_lib.losses import GANLoss
    return GANLoss('vanilla')(fake_logits, True)
    ### END SOLUTION
