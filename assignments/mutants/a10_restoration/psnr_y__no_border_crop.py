# MUTANT: the border is not cropped
def psnr_y(prediction, target, border):
    """PSNR (dB) of the BT.601 luma of two uint8 RGB images H x W x 3, after cropping `border` pixels per side."""
    ### BEGIN SOLUTION
    def luma(image):
        rgb = np.asarray(image, dtype=np.float64)
        return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0

    yp, yt = luma(prediction), luma(target)
    mse = np.mean((yp - yt) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))
    ### END SOLUTION
