# MUTANT: one angle for the whole batch (sums over all rows) instead of one per row
def slerp(z0, z1, t):
    """Spherical interpolation between the rows of z0 and z1 (N x d each) at fraction t; returns N x d."""
    ### BEGIN SOLUTION
    cos = (z0 * z1).sum() / (z0.norm() * z1.norm())
    omega = torch.acos(cos.clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    ### END SOLUTION
