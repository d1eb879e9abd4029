# MUTANT: takes the angle from the raw dot product, without dividing by the norms
def slerp(z0, z1, t):
    """Spherical interpolation between the rows of z0 and z1 (N x d each) at fraction t; returns N x d."""
    ### BEGIN SOLUTION
    omega = torch.acos((z0 * z1).sum(-1, keepdim=True).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    ### END SOLUTION
