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
``python -m course_lib.models.recognizer`` (the command is stored in the file; see
``course_lib/weights/README.md``).
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoints import WEIGHTS_DIR, train_or_load

RECOGNIZER_PATH = WEIGHTS_DIR / "fashion_recognizer.pt"
RECOGNIZER_COMMAND = "python -m course_lib.models.recognizer --epochs 3 --seed 0"
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


def _random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each 32 x 32 image by up to ``max_shift`` pixels (background fills in)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def train_recognizer(model: FashionRecognizer, epochs: int = 3, batch_size: int = 128, lr: float = 2e-3,
                     seed: int = 0, device=None, progress: bool = True, limit: int | None = None) -> dict:
    """Train on the Fashion-MNIST training split (padded to 32, random shifts of up to 2 px), Adam with
    a one-cycle schedule; return ``{"test_accuracy", "epochs", "train_seconds"}`` (accuracy on the
    10,000 test images, or the first ``limit`` of them)."""
    from ..data.fashion_mnist import fashion_mnist_tensors
    from ..train import train_loop

    device = torch.device(device or "cpu")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x, y = fashion_mnist_tensors("train", limit, value_range="-1,1", pad_to=32)
    steps = epochs * (len(x) // batch_size)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)

    def batches():
        while True:
            order = torch.randperm(len(x), generator=g)
            for i in range(0, len(x) - batch_size + 1, batch_size):
                idx = order[i:i + batch_size]
                yield _random_shift(x[idx], 2, g), y[idx]

    def step(batch):
        xb, yb = (t.to(device) for t in batch)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    start = time.perf_counter()
    train_loop(step, batches(), steps, desc="recognizer", progress=progress)
    seconds = time.perf_counter() - start
    xt, yt = fashion_mnist_tensors("test", limit, value_range="-1,1")
    return {"test_accuracy": accuracy(model, xt, yt), "epochs": epochs, "train_seconds": round(seconds, 1)}


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy in [0, 1] of ``model`` (put in eval mode) on images ``x`` and labels ``y``."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += (model(x[i:i + batch_size].to(device)).argmax(1).cpu() == y[i:i + batch_size]).sum().item()
    return correct / max(1, len(x))


def load_recognizer(device=None, retrain: bool = False, progress: bool = True) -> FashionRecognizer:
    """The course's Fashion-MNIST recognizer, in eval mode with gradients off, on ``device``.

    Loads ``course_lib/weights/fashion_recognizer.pt``; only an explicit ``retrain=True`` (or its own
    command, ``python -m course_lib.models.recognizer``) trains it from scratch (about 4.5 minutes on one CPU
    thread; test accuracy 0.905) and overwrites the file. Unlike the generators' weights it does **not**
    follow ``COURSE_RETRAIN=1``: it is the judge of every generator score in notebooks 04-09, so retraining a
    generator must not silently change the scale its scores are read on (a retrained recognizer differs in
    its weights and shifts every FRD). The stored metadata (test accuracy, command) is in ``model.meta``.
    """
    model = FashionRecognizer()
    meta = train_or_load(model, RECOGNIZER_PATH, lambda m: train_recognizer(m, progress=progress),
                         RECOGNIZER_COMMAND, retrain=retrain)
    model.meta = meta
    model.to(device or "cpu").eval().requires_grad_(False)
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the course's Fashion-MNIST recognizer and store its weights.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RECOGNIZER_PATH))
    args = parser.parse_args(argv)
    from ..checkpoints import save_weights

    model = FashionRecognizer()
    meta = train_recognizer(model, epochs=args.epochs, seed=args.seed)
    command = f"python -m course_lib.models.recognizer --epochs {args.epochs} --seed {args.seed}"
    path = save_weights(model, args.out, command, meta)
    print(f"test accuracy {meta['test_accuracy']:.4f} after {meta['epochs']} epochs "
          f"({meta['train_seconds']} s); weights in {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
