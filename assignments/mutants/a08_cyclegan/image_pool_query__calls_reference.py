# MUTANT: hands the work to course_lib's ImagePool.query
class ImagePool:
    """A buffer of up to pool_size generated images (CycleGAN Sec. 4; Shrivastava et al. 2017)."""

    def __init__(self, pool_size=50, seed=0):
        self.pool_size = pool_size
        self.images = []              # the stored images, each C x H x W
        self.rng = random.Random(seed)

    def query(self, images):
        """images: N x C x H x W -> N x C x H x W, the images the discriminator is shown."""
        ### BEGIN SOLUTION
        if not hasattr(self, "_reference"):
            self._reference = ReferencePool(self.pool_size, seed=0)
            self._reference.images, self._reference.rng = self.images, self.rng
        return self._reference.query(images)
        ### END SOLUTION
