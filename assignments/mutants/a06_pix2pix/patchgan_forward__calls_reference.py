# MUTANT: hands the work to course_lib's NLayerDiscriminator
class PatchGAN(nn.Module):
    """PatchGAN discriminator: N x in_channels x H x W -> one raw score per patch, N x 1 x H' x W'."""

    def __init__(self, in_channels, ndf=64, n_layers=3):
        super().__init__()
        widths = [ndf * min(2 ** n, 8) for n in range(n_layers + 1)]  # ndf, 2ndf, 4ndf, 8ndf, 8ndf, ...
        strides = [2] * n_layers + [1]                                   # conv0 .. conv{n_layers}
        self.convs = nn.ModuleList([nn.Conv2d(in_channels, ndf, 4, 2, 1)])
        self.norms = nn.ModuleList()
        for n in range(1, n_layers + 1):
            self.convs.append(nn.Conv2d(widths[n - 1], widths[n], 4, strides[n], 1, bias=False))
            self.norms.append(nn.BatchNorm2d(widths[n]))
        self.head = nn.Conv2d(widths[n_layers], 1, 4, 1, 1)
        self.n_layers = n_layers

    def forward(self, x):
        """x: N x in_channels x H x W -> raw scores (logits) N x 1 x H' x W'."""
        ### BEGIN SOLUTION
        from course_lib.models.pix2pix import NLayerDiscriminator
        ref = NLayerDiscriminator(self.convs[0].in_channels, self.convs[0].out_channels, self.n_layers).to(x.device)
        ref.train(self.training)
        with torch.no_grad():
            convs = [ref.conv0[0]] + [getattr(ref, f"conv{n}")[0] for n in range(1, ref.n_layers + 1)]
            for mine, theirs in zip(self.convs, convs):
                theirs.load_state_dict(mine.state_dict())
            for n, norm in enumerate(self.norms, start=1):
                getattr(ref, f"conv{n}")[1].load_state_dict(norm.state_dict())
            ref.head.load_state_dict(self.head.state_dict())
        return ref(x)
        ### END SOLUTION
