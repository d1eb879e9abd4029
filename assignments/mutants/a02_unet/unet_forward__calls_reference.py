# MUTANT: runs course_lib's UNet.forward on its own layers
class UNet(nn.Module):
    """Three-level U-Net: N x in_channels x H x W -> logits N x num_classes x H x W."""

    def __init__(self, in_channels, num_classes, base_channels=16):
        super().__init__()
        b = base_channels
        self.enc1 = DoubleConv(in_channels, b)
        self.enc2 = Down(b, 2 * b)
        self.enc3 = Down(2 * b, 4 * b)
        self.bottleneck = Down(4 * b, 8 * b)
        self.up3 = UpLevel(8 * b, 4 * b, skip_channels=4 * b)
        self.up2 = UpLevel(4 * b, 2 * b, skip_channels=2 * b)
        self.up1 = UpLevel(2 * b, b, skip_channels=b)
        self.head = nn.Conv2d(b, num_classes, kernel_size=1)

    def forward(self, x):
        """x: N x in_channels x H x W (H, W divisible by 8) -> logits N x num_classes x H x W."""
        ### BEGIN SOLUTION
        from course_lib.models.dense import UNet as Reference
        self.use_skips, self.in_channels = True, x.shape[1]
        return Reference.forward(self, x)
        ### END SOLUTION
