# MUTANT: off by one: the + 1 of the formula (the first position) is forgotten
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
    if min(input_size, kernel_size, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"need input_size, kernel_size, stride, dilation >= 1 and padding >= 0, got "
                         f"{input_size}, {kernel_size}, {stride}, {dilation}, {padding}")
    span = dilation * (kernel_size - 1) + 1
    if input_size + 2 * padding < span:
        raise ValueError(f"a kernel spanning {span} pixels does not fit in {input_size} + 2 * {padding} pixels")
    return (input_size + 2 * padding - span) // stride
    ### END SOLUTION
