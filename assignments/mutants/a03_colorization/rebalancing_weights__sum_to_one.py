# MUTANT: normalises the weights to sum to 1 instead of an expected weight of 1
def rebalancing_weights(p, bins, sigma=5.0, lam=0.5):
    """Class-rebalancing weights (Zhang et al. 2016, sec. 2.2, eq. 4).

    Args:
        p: float64 tensor Q, the empirical bin distribution of the training pixels (sums to 1).
        bins: float tensor Q x 2, the bin centres (for the smoothing).
        sigma: width of the Gaussian smoothing (pass it to smooth_distribution).
        lam: weight of the uniform distribution in the mix.

    Returns:
        float tensor Q: w proportional to 1 / ((1 - lam) * p_smooth + lam / Q), scaled so that
        sum_q p_smooth[q] * w[q] = 1.
    """
    ### BEGIN SOLUTION
    p_smooth = smooth_distribution(p, bins, sigma)
    q = p.shape[0]
    w = 1.0 / ((1 - lam) * p_smooth + lam / q)
    return w / w.sum()
    ### END SOLUTION
