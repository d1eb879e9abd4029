# MUTANT: the jump is the previous layer's stride alone, not the product of all earlier strides
def receptive_field_of_stack(layers):
    """Receptive field size and jump of the output pixels of a stack of layers.

    Args:
        layers: list of (kernel_size, stride, dilation) tuples, the input side first.

    Returns:
        (size, jump): the side r of the receptive field and the jump J, in input pixels.
    """
    ### BEGIN SOLUTION
    size, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        size += dilation * (kernel_size - 1) * jump
        jump = stride
    return size, jump
    ### END SOLUTION
