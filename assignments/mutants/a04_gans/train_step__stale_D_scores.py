# MUTANT: G step reuses D's scores of the fakes computed before D was updated
def train_step(G, D, opt_G, opt_D, real, z):
    """One D update then one G update; returns (loss_D, loss_G) as floats."""
    ### BEGIN SOLUTION
    fake = G(z)
    opt_D.zero_grad()
    fake_scores = D(fake)
    loss_D = discriminator_loss(D(real), fake_scores)
    loss_D.backward(retain_graph=True)
    opt_D.step()

    opt_G.zero_grad()
    loss_G = generator_loss(fake_scores)
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()
    ### END SOLUTION
