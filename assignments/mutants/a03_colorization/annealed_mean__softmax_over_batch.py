# MUTANT: softmax over the batch dimension instead of the bins
def annealed_mean(probs, bins, T=0.38):
    """Annealed mean of distributions over the bins (Zhang et al. 2016, sec. 2.3, eq. 5).

    Args:
        probs: float tensor N x Q x H x W, non-negative, summing to 1 over dimension 1.
        bins: float tensor Q x 2, the bin centres.
        T: temperature (> 0): 1 gives the mean, T -> 0 the mode.

    Returns:
        float tensor N x 2 x H x W: sum_q f_T(z)_q * bins[q] with
        f_T(z)_q = exp(log z_q / T) / sum_q' exp(log z_q' / T).
    """
    ### BEGIN SOLUTION
    log_z = torch.log(probs.clamp_min(1e-30))
    f = torch.softmax(log_z / T, dim=0)                                # N x Q x H x W
    return torch.einsum("nqhw,qc->nchw", f, bins.to(f))
    ### END SOLUTION
