"""SRCNN: the three-layer super-resolution network of Dong, Loy, He & Tang (notebook 10).

C. Dong, C. C. Loy, K. He, X. Tang, "Image Super-Resolution Using Deep Convolutional Networks",
IEEE TPAMI 38(2), 2016 (first version ECCV 2014). The network works on the luma channel of an image that
has already been enlarged to the target size by bicubic interpolation, and applies (Sec. 3.1, Eqs. 1-3)

1. patch extraction: ``F1 = ReLU(W1 * Y + B1)``, ``n1 = 64`` filters of ``f1 x f1 = 9 x 9``;
2. non-linear mapping: ``F2 = ReLU(W2 * F1 + B2)``, ``n2 = 32`` filters of ``f2 x f2`` (1 x 1 in the
   ECCV "9-1-5" net, 5 x 5 in the better TPAMI "9-5-5" net);
3. reconstruction: ``F = W3 * F2 + B3``, one ``f3 x f3 = 5 x 5`` filter, linear.

Two deliberate differences from the paper, both switchable:

* ``padding="same"`` (zero padding) keeps the output the size of the input; the paper used unpadded
  ("valid") convolutions and scored only the central part. We crop a border equal to the scale when
  measuring, as the SR literature does, so the padded edge is partly excluded.
* ``residual=True`` adds the input to the last layer's output, so the net learns the *missing detail*
  ``HR - bicubic``, not the whole image (the global skip of VDSR, Kim, Lee & Lee, CVPR 2016). With Adam
  this trains much faster than the paper's plain SGD (learning rates 1e-4 / 1e-5, ~10^8 back-propagations),
  which a CPU cannot afford. ``residual=False`` is the paper's formulation.
"""
from __future__ import annotations

import torch
from torch import nn


class SRCNN(nn.Module):
    """SRCNN on one channel.

    Args:
        f2: size of the mapping layer's filters: 5 (the "9-5-5" net, default) or 1 ("9-1-5").
        n1, n2: filters of the first two layers (64 and 32 in the paper).
        f1, f3: sizes of the first and last filters (9 and 5 in the paper).
        channels: image channels (1 = luma, the paper's main setting).
        residual: predict ``HR - input`` and add the input back (see the module docstring).

    Attributes (the layer names the assignment a10 uses): ``conv1``, ``conv2``, ``conv3``.

    Call: ``forward(x)`` with ``x`` the bicubic-upsampled image ``N x channels x H x W``, float in
    [0, 1]; returns the same shape (not clipped: clip with ``.clamp(0, 1)`` to get an image).
    """

    def __init__(self, f2: int = 5, n1: int = 64, n2: int = 32, f1: int = 9, f3: int = 5, channels: int = 1,
                 residual: bool = True):
        super().__init__()
        for name, f in (("f1", f1), ("f2", f2), ("f3", f3)):
            if f < 1 or f % 2 == 0:
                raise ValueError(f"{name} must be a positive odd filter size, got {f}")
        self.conv1 = nn.Conv2d(channels, n1, f1, padding=f1 // 2)
        self.conv2 = nn.Conv2d(n1, n2, f2, padding=f2 // 2)
        self.conv3 = nn.Conv2d(n2, channels, f3, padding=f3 // 2)
        self.residual = residual
        # The paper draws weights from N(0, 0.001^2); with Adam and the residual form PyTorch's default
        # (Kaiming-uniform) works better; the last layer starts small so the net starts as "bicubic".
        nn.init.normal_(self.conv3.weight, std=1e-3)
        nn.init.zeros_(self.conv3.bias)

    @property
    def name(self) -> str:
        """``"9-5-5"`` style name of the filter sizes."""
        return f"{self.conv1.kernel_size[0]}-{self.conv2.kernel_size[0]}-{self.conv3.kernel_size[0]}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h))
        out = self.conv3(h)
        return x + out if self.residual else out


@torch.no_grad()
def super_resolve(model: nn.Module, lr_up, batch_tiles: bool = False) -> "torch.Tensor":
    """Run a super-resolution net on one bicubic-upsampled luma image.

    Args:
        model: e.g. :class:`SRCNN` (put in eval mode here).
        lr_up: ``H x W`` NumPy array or tensor, float in [0, 1].

    Returns:
        ``float32 H x W`` NumPy array clipped to [0, 1].
    """
    import numpy as np

    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(lr_up, dtype=np.float32))[None, None].to(device)
    return model(x).clamp(0, 1)[0, 0].cpu().numpy()
