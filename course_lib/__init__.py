"""course_lib: the shared library of the image-to-image translation course.

Each module holds one concept and cites the notebook and paper that introduce it:

* :mod:`course_lib.profile` -- the ``fast`` / ``full`` switch (``COURSE_PROFILE``)
* :mod:`course_lib.device` -- device choice and seeding
* :mod:`course_lib.imaging` -- tensors <-> images, value ranges, grids, loss plots
* :mod:`course_lib.train` -- a small explicit training loop
* :mod:`course_lib.data` -- Fashion-MNIST, photos from the wheels, derived tasks
* :mod:`course_lib.receptive_field` -- computed and measured receptive fields (notebook 01)
* :mod:`course_lib.models` -- dense-prediction nets (02), pix2pix discriminators (01, 06, 07)
* :mod:`course_lib.metrics` -- per-pixel accuracy, IoU
"""
from .device import get_device, seed_everything
from .profile import Profile, get_profile

__version__ = "0.1.0"
__all__ = ["get_device", "seed_everything", "get_profile", "Profile", "__version__"]
