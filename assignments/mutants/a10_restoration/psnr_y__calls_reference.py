# MUTANT: hands the work to course_lib's psnr_y
def psnr_y(prediction, target, border):
    """PSNR (dB) of the BT.601 luma of two uint8 RGB images H x W x 3, after cropping `border` pixels per side."""
    ### BEGIN SOLUTION
    return reference_metrics.psnr_y(prediction, target, border)
    ### END SOLUTION
