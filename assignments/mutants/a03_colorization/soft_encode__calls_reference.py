# MUTANT: hands the work to course_lib.color.soft_encode
def soft_encode(ab, bins, k=5, sigma=5.0):
    """Soft encoding of ab values over their k nearest bins (Zhang et al. 2016, sec. 2.1).

    Args:
        ab: float tensor N x 2 x H x W (Lab units).
        bins: float tensor Q x 2, the bin centres.
        k: how many nearest bins get a share.
        sigma: width of the Gaussian kernel, in Lab units.

    Returns:
        float tensor N x Q x H x W: for each pixel, weights exp(-d^2 / (2 sigma^2)) on its k nearest
        bins (d = distance to the bin centre), zero elsewhere, normalised to sum to 1 over dimension 1.
    """
    ### BEGIN SOLUTION
    from course_lib import color as reference
    return reference.soft_encode(ab, bins, k, sigma)
    ### END SOLUTION
