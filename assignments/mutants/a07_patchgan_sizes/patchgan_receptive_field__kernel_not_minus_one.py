# MUTANT: the size grows by k * jump instead of (k - 1) * jump
def patchgan_receptive_field(n_layers, kernel_size=4):
    """Receptive field (pixels) of one output score of an NLayerDiscriminator with n_layers >= 1."""
    ### BEGIN SOLUTION
    strides = [2] * n_layers + [1, 1]
    size, jump = 1, 1
    for s in strides:
        size += kernel_size * jump
        jump *= s
    return size
    ### END SOLUTION
