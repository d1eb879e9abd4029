# MUTANT: hands the work to course_lib's receptive_field
def patchgan_receptive_field(n_layers, kernel_size=4):
    """Receptive field (pixels) of one output score of an NLayerDiscriminator with n_layers >= 1."""
    ### BEGIN SOLUTION
    from course_lib.receptive_field import receptive_field as reference
    strides = [2] * n_layers + [1, 1]
    return reference(torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, kernel_size, s) for s in strides])).size
    ### END SOLUTION
