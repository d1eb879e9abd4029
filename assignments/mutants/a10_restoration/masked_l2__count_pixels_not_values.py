# MUTANT: divided by the number of hidden pixels, not hidden values (C times too large)
def masked_l2_loss(prediction, target, mask):
    """Mean squared error over the hidden values: mask N x 1 x H x W (1 = hidden), tensors N x C x H x W."""
    ### BEGIN SOLUTION
    m = mask.to(prediction.dtype)
    return (m * (prediction - target) ** 2).sum() / m.sum()
    ### END SOLUTION
