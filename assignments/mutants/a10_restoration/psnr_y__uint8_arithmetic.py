# MUTANT: the luma is rounded to uint8 before the difference (quantisation and wrap-around)
def psnr_y(prediction, target, border):
    """PSNR (dB) of the BT.601 luma of two uint8 RGB images H x W x 3, after cropping `border` pixels per side."""
    ### BEGIN SOLUTION
    def luma(image):
        rgb = np.asarray(image, dtype=np.float64)
        y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
        return y.round().astype(np.uint8)

    yp, yt = luma(prediction), luma(target)
    if border > 0:
        yp = yp[border:-border, border:-border]
        yt = yt[border:-border, border:-border]
    mse = np.mean((yp - yt) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))
    ### END SOLUTION
