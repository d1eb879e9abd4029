# MUTANT: the head is forgotten: only one stride-1 layer
def patchgan_receptive_field(n_layers, kernel_size=4):
    """Receptive field (pixels) of one output score of an NLayerDiscriminator with n_layers >= 1."""
    ### BEGIN SOLUTION
    strides = [2] * n_layers + [1]
    size, jump = 1, 1
    for s in strides:
        size += (kernel_size - 1) * jump
        jump *= s
    return size
    ### END SOLUTION
