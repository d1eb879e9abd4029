# MUTANT: the receptive field starts at 0 instead of 1
def patchgan_receptive_field(n_layers, kernel_size=4):
    """Receptive field (pixels) of one output score of an NLayerDiscriminator with n_layers >= 1."""
    ### BEGIN SOLUTION
    strides = [2] * n_layers + [1, 1]
    size, jump = 0, 1
    for s in strides:
        size += (kernel_size - 1) * jump
        jump *= s
    return size
    ### END SOLUTION
