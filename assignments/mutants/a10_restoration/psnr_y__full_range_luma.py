# MUTANT: full-range luma 0.299 R + 0.587 G + 0.114 B (JPEG) instead of the studio-scale BT.601 formula
def psnr_y(prediction, target, border):
    """PSNR (dB) of the BT.601 luma of two uint8 RGB images H x W x 3, after cropping `border` pixels per side."""
    ### BEGIN SOLUTION
    def luma(image):
        rgb = np.asarray(image, dtype=np.float64)
        return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]

    yp, yt = luma(prediction), luma(target)
    if border > 0:
        yp = yp[border:-border, border:-border]
        yt = yt[border:-border, border:-border]
    mse = np.mean((yp - yt) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))
    ### END SOLUTION
