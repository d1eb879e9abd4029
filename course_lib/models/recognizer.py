"""A small Fashion-MNIST classifier used as a *judge* of generated images.

The pix2pix paper scores generated street scenes by running an off-the-shelf FCN on them ("FCN-score",
Isola et al. 2017, Sec. 4.2); the Inception Score and FID use an ImageNet Inception network (Salimans et al.
2016; Heusel et al. 2017). On Fashion-MNIST an Inception network is the wrong judge, so the course trains its
own recognizer once on the real training images and uses it for every generator (notebooks 04-09):

* its class probabilities give the recognizer score (:func:`course_lib.metrics.recognizer_score`);
* its 128-d penultimate features give the Fréchet recognizer distance
  (:func:`course_lib.metrics.frechet_recognizer_distance`) -- the FID formula with this network, which is
  why it must never be called FID.

Weights: ``course_lib/weights/fashion_recognizer.pt`` (float16, about 0.2 MB), made by
``python -m course_lib train recognizer`` (the training is :mod:`course_lib.experiments.recognizer`; see
``course_lib/weights/README.md``); :func:`load_recognizer` loads them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 32


def to_recognizer_input(x: torch.Tensor) -> torch.Tensor:
    """Bring images to the recognizer's input: ``N x 1 x 32 x 32`` in [-1, 1].

    ``28 x 28`` images (raw Fashion-MNIST) are padded with background (-1) by 2 pixels a side, which
    is how the course pads them elsewhere (:func:`course_lib.data.fashion_mnist.fashion_mnist_tensors`
    with ``pad_to=32``); ``32 x 32`` pass through; other sizes are resized with antialiasing. Three-channel
    images are averaged to grey.

    Raises:
        ValueError: for a tensor that is not ``N x 1 x H x W`` or ``N x 3 x H x W``, or values far outside
            [-1, 1] (e.g. [0, 255] images: convert them first).
    """
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images N x 1 x H x W (or N x 3 x H x W), got shape {tuple(x.shape)}")
    if x.numel() and (x.min() < -1.05 or x.max() > 1.05):
        raise ValueError(f"expected values in [-1, 1], got [{x.min().item():.3g}, {x.max().item():.3g}]; "
                         "use course_lib.imaging.to_symmetric_range for [0, 1] images")
    if x.shape[1] == 3:
        x = x.mean(1, keepdim=True)
    h, w = x.shape[-2:]
    if (h, w) == (28, 28):
        return F.pad(x, (2, 2, 2, 2), value=-1.0)
    if (h, w) != (INPUT_SIZE, INPUT_SIZE):
        return F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x


class FashionRecognizer(nn.Module):
    """A VGG-style CNN (four 3 x 3 convolutions, two poolings, a 128-d feature layer) for 10 classes.

    Input: ``N x 1 x H x W`` float in [-1, 1] (see :func:`to_recognizer_input` for sizes).
    ``forward`` returns logits ``N x 10`` (classes as in :data:`course_lib.data.fashion_mnist.CLASSES`);
    ``features`` returns the ``N x 128`` penultimate activations (after ReLU).
    """

    num_features = 128

    def __init__(self, num_classes: int = 10):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(*block(1, 16), *block(16, 16), nn.MaxPool2d(2),      # 32 -> 16
                                  *block(16, 32), *block(32, 32), nn.MaxPool2d(2),     # 16 -> 8
                                  nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                                  nn.Linear(32 * 16, self.num_features), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(self.num_features, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(to_recognizer_input(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each image of ``x`` (``N x C x H x W`` in [-1, 1]) by up to ``max_shift`` pixels in each
    direction, the offsets drawn with ``generator``; the background (-1) fills in. The recognizer's training
    augmentation."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy in [0, 1] of ``model`` (put in eval mode) on images ``x`` and labels ``y``."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += (model(x[i:i + batch_size].to(device)).argmax(1).cpu() == y[i:i + batch_size]).sum().item()
    return correct / max(1, len(x))


def load_recognizer(device=None, progress: bool = True) -> FashionRecognizer:
    """The course's Fashion-MNIST recognizer, in eval mode with gradients off, on ``device``.

    Loads ``course_lib/weights/fashion_recognizer.pt`` (the fast profile's seed-0 file of
    :mod:`course_lib.experiments.recognizer`, whatever the active profile; ``progress`` is accepted for
    symmetry with the loaders of the experiments, loading shows none). It never trains: only its own command,
    ``python -m course_lib train recognizer`` (about 4.5 minutes on one CPU thread; test accuracy 0.905),
    retrains it and overwrites the file. In particular it does **not** follow ``COURSE_RETRAIN=1``: it is the
    judge of every generator score in notebooks 04-09, so retraining a generator must not silently change
    the scale its scores are read on (a retrained recognizer differs in its weights and shifts every FRD).
    The stored metadata (test accuracy, command) is in ``model.meta``. Loading seeds nothing (unlike
    :func:`course_lib.experiments.common.load`), so that scoring with the judge never changes a caller's
    random stream.

    Raises:
        FileNotFoundError: the weight file is missing (the message says how to restore or retrain it).
    """
    from ..checkpoints import load_frozen

    return load_frozen(FashionRecognizer(), "fashion_recognizer", "recognizer", "the recognizer", device)
