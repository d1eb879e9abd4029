# MUTANT: forgets to divide by sin(omega)
def slerp(z0, z1, t):
    """Spherical interpolation between the rows of z0 and z1 (N x d each) at fraction t; returns N x d."""
    ### BEGIN SOLUTION
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True))
    omega = torch.acos(cos.clamp(-1, 1))
    return torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1
    ### END SOLUTION
