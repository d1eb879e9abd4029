"""course_lib: the shared library of the image-to-image translation course (what students read and call).

Each module holds one concept and cites the notebook and paper that introduce it:

* :mod:`course_lib.profile` -- the ``fast`` / ``full`` switch (``COURSE_PROFILE``)
* :mod:`course_lib.device` -- device choice and seeding
* :mod:`course_lib.imaging` -- tensors <-> images, value ranges, grids, loss plots
* :mod:`course_lib.train`, :mod:`course_lib.checkpoints` -- the training loop; stored weights
* :mod:`course_lib.data` -- Fashion-MNIST, photos from the wheels, derived paired sets, official downloads
* :mod:`course_lib.receptive_field` -- computed and measured receptive fields (notebook 01)
* :mod:`course_lib.models` -- the networks of notebooks 02-10 (and official-checkpoint loading)
* :mod:`course_lib.losses`, :mod:`course_lib.color`, :mod:`course_lib.diffusion`, :mod:`course_lib.latent`
* :mod:`course_lib.metrics` -- segmentation, colorization, recognizer-judged and image-quality scores
* :mod:`course_lib.experiments` -- one module per notebook topic (``Config``, ``build``, ``train_step``,
  ``evaluate``), driven by ``python -m course_lib train | reproduce NAME``
* :mod:`course_lib.grading` -- what the assignments' test cells import

The instructor's tools are a separate package, ``course_admin``, which this one never imports.
"""
from .device import get_device, seed_everything
from .profile import Profile, get_profile

__version__ = "0.1.0"
__all__ = ["get_device", "seed_everything", "get_profile", "Profile", "__version__"]
