# MUTANT: the Gaussian weights are not divided by their sum
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
    n, _, h, w = ab.shape
    points = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    distance = torch.cdist(points, bins.to(points))                    # pixels x Q
    d, idx = distance.topk(k, dim=1, largest=False)                     # the k nearest
    weight = torch.exp(-d ** 2 / (2 * sigma ** 2))
    out = torch.zeros(points.shape[0], bins.shape[0], dtype=points.dtype)
    out.scatter_(1, idx, weight)
    return out.reshape(n, h, w, -1).permute(0, 3, 1, 2)
    ### END SOLUTION
