# MUTANT: hands the work to course_lib's SRCNN
class SRCNN(nn.Module):
    """SRCNN (Dong et al. 2016): N x 1 x H x W bicubic-upsampled luma -> N x 1 x H x W."""

    def __init__(self, f2=5, residual=True):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 9, padding=4)
        self.conv2 = nn.Conv2d(64, 32, f2, padding=f2 // 2)
        self.conv3 = nn.Conv2d(32, 1, 5, padding=2)
        self.residual = residual

    def forward(self, x):
        """x: N x 1 x H x W -> N x 1 x H x W."""
        ### BEGIN SOLUTION
        ref = reference_srcnn.SRCNN(f2=self.conv2.kernel_size[0], residual=self.residual)
        ref.load_state_dict(self.state_dict())
        return ref(x)
        ### END SOLUTION
