# MUTANT: hands the work to course_lib.color.quantize_ab
def quantize_ab(ab, bins):
    """Index of the nearest bin centre of every pixel.

    Args:
        ab: float tensor N x 2 x H x W, the a and b channels in Lab units.
        bins: float tensor Q x 2, the bin centres (a, b).

    Returns:
        int64 tensor N x H x W of indices into bins (Euclidean distance in the ab plane).
    """
    ### BEGIN SOLUTION
    from course_lib import color as reference
    return reference.quantize_ab(ab, bins)
    ### END SOLUTION
