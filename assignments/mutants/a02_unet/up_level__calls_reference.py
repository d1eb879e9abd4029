# MUTANT: runs course_lib's Up.forward on its own layers
class UpLevel(nn.Module):
    """One U-Net decoder level: upsample x2, concatenate [skip, upsampled], two 3 x 3 convolutions."""

    def __init__(self, in_channels, out_channels, skip_channels):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.conv = DoubleConv(skip_channels + out_channels, out_channels)

    def forward(self, x, skip):
        """x: N x in_channels x H x W, skip: N x skip_channels x 2H x 2W -> N x out_channels x 2H x 2W."""
        ### BEGIN SOLUTION
        from course_lib.models.dense import Up
        self.skip_channels = skip.shape[1]
        return Up.forward(self, x, skip)
        ### END SOLUTION
