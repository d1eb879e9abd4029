# MUTANT: PSNR over the R, G and B channels instead of the luma
def psnr_y(prediction, target, border):
    """PSNR (dB) of the BT.601 luma of two uint8 RGB images H x W x 3, after cropping `border` pixels per side."""
    ### BEGIN SOLUTION
    yp = np.asarray(prediction, dtype=np.float64)
    yt = np.asarray(target, dtype=np.float64)
    if border > 0:
        yp = yp[border:-border, border:-border]
        yt = yt[border:-border, border:-border]
    mse = np.mean((yp - yt) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))
    ### END SOLUTION
