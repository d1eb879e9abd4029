"""A small classifier of the 95 Caltech-101 photo classes, used as a *judge* of generated colour photos.

The photo notebooks' counterpart of :mod:`course_lib.models.recognizer` (issues 12 and 13): a network trained on
real photos only (the ``caltech_photos`` training split, :func:`course_lib.data.caltech.caltech_photos`) that
scores images other networks make, in the manner of the pix2pix FCN-score (Isola et al. 2017, Sec. 4.2) and of
FID (Heusel et al. 2017, with this network in place of Inception-v3, so its Fréchet distances are **not FID**):

* its class probabilities give top-1 accuracy on photos whose class is known (the colorization paper's semantic
  test, Zhang et al. 2016, Sec. 3.2: a classifier trained on colour photos reads grey, colorized and true-colour
  photos);
* its 128-d penultimate features give a Fréchet distance (:func:`course_lib.metrics.judge.frechet_distance`,
  :func:`course_lib.metrics.judge.frechet_recognizer_distance`) and a real-vs-fake two-sample test.

Why 64 x 64: the fast profile's pix2pix and CycleGAN run at 64 x 64 (``edges2motorbikes(size=64)``), and a judge
at the generators' own size needs no resampling that would itself blur. 128 x 128 images (the ``caltech_photos``
files, the 128 px pix2pix runs) are read too: :func:`to_judge_input` area-resizes them by 2 (means of 2 x 2
blocks), which is how the 64 px photos of the data sets are made from the 128 px ones.

Weights: ``course_lib/weights/photo_judge.pt`` (float16), made by ``python -m course_lib train photo_judge``
(:mod:`course_lib.experiments.photo_judge`; see ``course_lib/weights/README.md``); :func:`load_photo_judge`
loads them and never trains.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 64
"""Side (pixels) of the judge's input."""
NUM_CLASSES = 95
"""The ``caltech_photos`` classes (:func:`course_lib.data.caltech.caltech_photos`)."""


def to_judge_input(x: torch.Tensor) -> torch.Tensor:
    """Bring images to the judge's input: ``N x 3 x 64 x 64`` float in [-1, 1].

    ``64 x 64`` images pass through; ``128 x 128`` images are area-resized by 2 (means of 2 x 2 blocks, as the
    64 px photos of ``edges2motorbikes`` are made). One-channel (grey) images are repeated to R = G = B, the
    form of a grey photo in colour.

    Args:
        x: ``N x 1 x H x W`` or ``N x 3 x H x W`` float tensor in [-1, 1] (the generators' output range),
            ``H = W = 64`` or ``128``.

    Raises:
        ValueError: not a float tensor of that shape or size, or values outside [-1, 1] (e.g. 0-255 or
            uint8 images: convert them with ``x.float() / 127.5 - 1``).

    Warns:
        UserWarning: a batch of 8 or more images with no value below 0 (no pixel darker than mid-grey): most
            likely [0, 1] images, which read as washed-out photos (convert them with ``2 * x - 1``).
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images N x 3 x H x W (or N x 1 x H x W), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"expected float images in [-1, 1], got {x.dtype}: convert uint8 photos with "
                         "x.float() / 127.5 - 1")
    h, w = x.shape[-2:]
    if (h, w) not in ((INPUT_SIZE, INPUT_SIZE), (2 * INPUT_SIZE, 2 * INPUT_SIZE)):
        raise ValueError(f"the photo judge reads 64 x 64 or 128 x 128 images, got {h} x {w}: resize them "
                         "(e.g. torch.nn.functional.interpolate(x, size=64, mode='area'))")
    if x.numel():
        lo, hi = x.min().item(), x.max().item()
        if lo < -1.05 or hi > 1.05:
            raise ValueError(f"expected values in [-1, 1], got [{lo:.3g}, {hi:.3g}]; convert 0-255 images with "
                             "x / 127.5 - 1 and [0, 1] images with 2 * x - 1")
        if len(x) >= 8 and lo >= 0:
            warnings.warn(f"none of these {len(x)} images has a value below 0: they look like [0, 1] images, "
                          "but the photo judge reads [-1, 1] (convert with 2 * x - 1)", UserWarning, stacklevel=3)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if h != INPUT_SIZE:
        x = F.avg_pool2d(x, 2)
    return x


class PhotoJudge(nn.Module):
    """A VGG-style CNN for 64 x 64 colour photos: five 3 x 3 convolutions with BatchNorm and ReLU, four
    poolings (64 -> 4), a linear 128-d feature layer that keeps the 4 x 4 layout (so it sees where things are,
    not only which textures occur: a tile-shuffled photo has the same local textures), and a linear classifier.

    Input: ``N x 3 x 64 x 64`` (or ``128 x 128``, or one channel; see :func:`to_judge_input`) float in [-1, 1].
    ``forward`` returns logits ``N x 95`` (classes in the order of ``caltech_photos``' class names);
    ``features`` returns the ``N x 128`` penultimate activations (after ReLU), float32.

    Args:
        width: channels of the first convolution (the later ones have 2, 4, 4 and 8 times as many).
        num_classes: outputs of the classifier.
    """

    num_features = 128

    def __init__(self, width: int = 32, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.width, self.num_classes = width, num_classes

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        c = width
        self.body = nn.Sequential(*block(3, c), nn.MaxPool2d(2),                              # 64 -> 32
                                  *block(c, 2 * c), nn.MaxPool2d(2),                          # 32 -> 16
                                  *block(2 * c, 4 * c), *block(4 * c, 4 * c), nn.MaxPool2d(2),  # 16 -> 8
                                  *block(4 * c, 8 * c), nn.MaxPool2d(2),                      # 8 -> 4
                                  nn.Flatten(), nn.Linear(8 * c * 16, self.num_features), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(self.num_features, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(to_judge_input(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def random_crop_flip(x: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The judge's training augmentation: each image of ``x`` (``N x C x H x W``) padded by ``pad`` pixels
    (reflected), cropped back to ``H x W`` at a random offset, and mirrored left-right with probability 1/2;
    offsets and flips drawn with ``generator``. The scale of the photos is kept (the judge reads whole 64 px
    photos, as the generators make them)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad,) * 4, mode="reflect") if pad else x
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    out[flip] = out[flip].flip(-1)
    return out


def random_zoom_out(x: torch.Tensor, probability: float, smallest: float,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """A second training augmentation: with ``probability``, an image of ``x`` (``N x C x H x W`` in [-1, 1]) is
    shrunk by a factor drawn uniformly from ``[smallest, 1]`` (area averaging, antialiased) and pasted at a random
    place on a white canvas (1.0) of the original size: the whole object, smaller, on white -- the framing of
    the product-photo sets (``edges2motorbikes``), which the centre squares of ``caltech_photos`` lack. A new
    tensor; ``x`` is not changed.

    Raises:
        ValueError: ``probability`` outside [0, 1] or ``smallest`` outside (0, 1].
    """
    if not 0.0 <= probability <= 1.0 or not 0.0 < smallest <= 1.0:
        raise ValueError(f"probability must be in [0, 1] and smallest in (0, 1], got {probability}, {smallest}")
    n, _, h, w = x.shape
    chosen = torch.rand(n, generator=generator) < probability
    scales = smallest + (1.0 - smallest) * torch.rand(n, generator=generator)
    where = torch.rand(n, 2, generator=generator)
    out = x.clone()
    for i in torch.nonzero(chosen).flatten().tolist():
        sh, sw = max(1, round(h * float(scales[i]))), max(1, round(w * float(scales[i])))
        small = F.interpolate(x[i:i + 1], size=(sh, sw), mode="bilinear", align_corners=False, antialias=True)
        top, left = int(where[i, 0] * (h - sh + 1)), int(where[i, 1] * (w - sw + 1))
        out[i] = 1.0
        out[i, :, top:top + sh, left:left + sw] = small[0].clamp(-1, 1)
    return out


def photos_to_judge_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 photos ``N x 3 x 128 x 128`` (0-255, as :func:`course_lib.data.caltech.caltech_photos` returns them)
    -> float32 ``N x 3 x 64 x 64`` in [-1, 1]: means of 2 x 2 blocks, rounded to whole grey levels as the
    64 px photos of ``edges2motorbikes`` are, then ``v / 127.5 - 1``.

    Raises:
        ValueError: not a uint8 ``N x 3 x 128 x 128`` tensor.
    """
    if images.dtype != torch.uint8 or images.ndim != 4 or tuple(images.shape[1:]) != (3, 128, 128):
        raise ValueError(f"expected uint8 photos N x 3 x 128 x 128, got {images.dtype} {tuple(images.shape)}")
    small = F.avg_pool2d(images.float(), 2).round()
    return small / 127.5 - 1.0


def load_photo_judge(device=None, progress: bool = True) -> PhotoJudge:
    """The course's Caltech photo judge, in eval mode with gradients off, on ``device``.

    Loads ``course_lib/weights/photo_judge.pt`` (the fast profile's seed-0 file of
    :mod:`course_lib.experiments.photo_judge`). It never trains, and does not follow ``COURSE_RETRAIN=1``: it is
    the scale on which the photo generators are scored, and retraining a generator must not move it. Only its own
    command, ``python -m course_lib train photo_judge`` (about 19 minutes on one CPU thread; held-out top-1 accuracy
    0.626 over 95 classes), retrains it and overwrites the file. The stored
    record (command, steps, test accuracy) is in ``model.meta``. Loading seeds nothing. ``progress`` is accepted
    for symmetry with the experiments' loaders.

    Raises:
        FileNotFoundError: the weight file is missing (the message says how to restore or retrain it).
    """
    from ..checkpoints import load_frozen

    return load_frozen(PhotoJudge(), "photo_judge", "photo_judge", "the photo judge", device)
