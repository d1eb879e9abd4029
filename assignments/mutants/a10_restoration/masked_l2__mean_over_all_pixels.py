# MUTANT: the masked squared error is averaged over every pixel, visible ones included
def masked_l2_loss(prediction, target, mask):
    """Mean squared error over the hidden values: mask N x 1 x H x W (1 = hidden), tensors N x C x H x W."""
    ### BEGIN SOLUTION
    m = mask.to(prediction.dtype).expand_as(prediction)
    return (m * (prediction - target) ** 2).mean()
    ### END SOLUTION
