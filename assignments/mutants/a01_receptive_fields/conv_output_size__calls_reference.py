# MUTANT: hands the work to course_lib's conv_output_size
def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Side of the output of a convolution or pooling layer, in pixels.

    Args:
        input_size: side n of the input (>= 1).
        kernel_size: k (>= 1).
        stride: s (>= 1).
        padding: p, zero padding on each side (>= 0).
        dilation: d, the spacing of the kernel taps (>= 1).

    Returns:
        The output side, an int.

    Raises:
        ValueError: for an argument out of range, or if the dilated kernel
            does not fit in the padded input.
    """
    ### BEGIN SOLUTION
    from course_lib.receptive_field import conv_output_size as reference
    return reference(input_size, kernel_size, stride, padding, dilation)
    ### END SOLUTION
