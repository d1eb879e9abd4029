# MUTANT: stores the new image in place of a random one but returns the new image
class ImagePool:
    """A buffer of up to pool_size generated images (CycleGAN Sec. 4; Shrivastava et al. 2017)."""

    def __init__(self, pool_size=50, seed=0):
        self.pool_size = pool_size
        self.images = []              # the stored images, each C x H x W
        self.rng = random.Random(seed)

    def query(self, images):
        """images: N x C x H x W -> N x C x H x W, the images the discriminator is shown."""
        ### BEGIN SOLUTION
        if self.pool_size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                i = self.rng.randrange(self.pool_size)
                self.images[i] = image
                out.append(image)
            else:
                out.append(image)
        return torch.stack(out)
        ### END SOLUTION
