# MUTANT: hands the work to course_lib's discriminator_loss
def discriminator_loss(real_logits, fake_logits):
    """Scalar tensor: -mean log sigmoid(real_logits) - mean log(1 - sigmoid(fake_logits))."""
    ### BEGIN SOLUTION
    from course_lib.losses import discriminator_loss as reference
    return reference(real_logits, fake_logits)
    ### END SOLUTION
