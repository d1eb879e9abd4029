# MUTANT: hands the work to course_lib's masked_l2_loss
def masked_l2_loss(prediction, target, mask):
    """Mean squared error over the hidden values: mask N x 1 x H x W (1 = hidden), tensors N x C x H x W."""
    ### BEGIN SOLUTION
    return reference_losses.masked_l2_loss(prediction, target, mask)
    ### END SOLUTION
