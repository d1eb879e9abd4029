# MUTANT: detaches the fakes in the G step too: no gradient reaches G
def train_step(G, D, opt_G, opt_D, real, z):
    """One D update then one G update; returns (loss_D, loss_G) as floats."""
    ### BEGIN SOLUTION
    fake = G(z).detach()
    opt_D.zero_grad()
    loss_D = discriminator_loss(D(real), D(fake))
    loss_D.backward()
    opt_D.step()

    opt_G.zero_grad()
    loss_G = generator_loss(D(fake))
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()
    ### END SOLUTION
