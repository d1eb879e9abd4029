# MUTANT: the loss is taken over the visible pixels (1 - mask) instead of the hidden ones
def masked_l2_loss(prediction, target, mask):
    """Mean squared error over the hidden values: mask N x 1 x H x W (1 = hidden), tensors N x C x H x W."""
    ### BEGIN SOLUTION
    m = (1 - mask.to(prediction.dtype)).expand_as(prediction)
    return (m * (prediction - target) ** 2).sum() / m.sum()
    ### END SOLUTION
