# MUTANT: the jump is multiplied before the size grows
def patchgan_receptive_field(n_layers, kernel_size=4):
    """Receptive field (pixels) of one output score of an NLayerDiscriminator with n_layers >= 1."""
    ### BEGIN SOLUTION
    strides = [2] * n_layers + [1, 1]
    size, jump = 1, 1
    for s in strides:
        jump *= s
        size += (kernel_size - 1) * jump
    return size
    ### END SOLUTION
