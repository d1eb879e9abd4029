# MUTANT: hands the work to course_lib's receptive_field
def patchgan_receptive_field(n_layers, kernel_size=4):
    """Receptive field (pixels) of one output score of an NLayerDiscriminator with n_layers >= 1."""
    ### BEGIN SOLUTION
    from course_lib.receptive_field import receptive_field as reference
    from course_lib.models.pix2pix import NLayerDiscriminator
    return reference(NLayerDiscriminator(1, ndf=1, n_layers=n_layers)).size
    ### END SOLUTION
