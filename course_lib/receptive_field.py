"""Receptive fields of convolutional networks: computed, and measured.

Definitions follow Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019 (https://distill.pub/2019/computing-receptive-fields/).
For layers ``l = 1..L`` with kernel ``k_l``, stride ``s_l``, padding ``p_l`` and
dilation ``d_l`` (effective kernel ``k'_l = d_l (k_l - 1) + 1``):

* size (their eq. 2):          ``r_0 = 1 + sum_l (k'_l - 1) * prod_{i<l} s_i``
* effective stride ("jump"):   ``S_0 = prod_l s_l``
* effective padding (eq. 7):   ``P_0 = sum_l p_l * prod_{i<l} s_i``

The output pixel at index ``u`` (0-based) then sees input pixels
``u * S_0 - P_0`` to ``u * S_0 - P_0 + r_0 - 1``.

Introduced in notebook 01 (receptive-field arithmetic); used in notebook 07 to
size the PatchGAN discriminators.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import torch
from torch import nn

# Layers that act on each pixel on its own (in eval mode): they leave the receptive field unchanged.
POINTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Identity,
    nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm,
    nn.Dropout, nn.Dropout2d, nn.AlphaDropout, nn.Softmax2d,
)
CONV_LIKE = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
PADDING = (nn.ZeroPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d, nn.ConstantPad2d)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of a network's output pixel, per axis ``(height, width)``.

    Attributes:
        size_hw: receptive-field size ``r_0`` in input pixels.
        stride_hw: effective stride (jump) ``S_0``: input pixels between neighbouring outputs.
        padding_hw: effective padding ``P_0`` in input pixels.

    The properties ``size``, ``stride`` and ``padding`` give one ``int`` when both
    axes agree (square kernels), and the ``(h, w)`` tuple otherwise.
    """

    size_hw: tuple[int, int]
    stride_hw: tuple[int, int]
    padding_hw: tuple[int, int]

    @staticmethod
    def _one(v):
        return v[0] if v[0] == v[1] else v

    @property
    def size(self):
        return self._one(self.size_hw)

    @property
    def stride(self):
        return self._one(self.stride_hw)

    @property
    def padding(self):
        return self._one(self.padding_hw)

    def input_span(self, u: int, v: int | None = None) -> tuple[tuple[int, int], tuple[int, int]]:
        """Input rows and columns (first, last; inclusive, may be negative = padding) seen by output pixel (u, v)."""
        v = u if v is None else v
        rows = (u * self.stride_hw[0] - self.padding_hw[0], u * self.stride_hw[0] - self.padding_hw[0] + self.size_hw[0] - 1)
        cols = (v * self.stride_hw[1] - self.padding_hw[1], v * self.stride_hw[1] - self.padding_hw[1] + self.size_hw[1] - 1)
        return rows, cols

    def __repr__(self) -> str:
        return f"ReceptiveField(size={self.size}, stride={self.stride}, padding={self.padding})"


class UnsupportedLayerError(TypeError):
    """``receptive_field`` met a layer it cannot analyse (skip connection, upsampling, ...)."""


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"expected an int or a pair, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def layer_params(layer: nn.Module) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """``(kernel, stride, padding, dilation)`` of one spatial layer, each an ``(h, w)`` pair.

    Returns ``None`` for pointwise layers. Raises :class:`UnsupportedLayerError` otherwise.
    """
    if isinstance(layer, POINTWISE):
        return None
    if isinstance(layer, nn.Conv2d):
        k, s, d = _pair(layer.kernel_size), _pair(layer.stride), _pair(layer.dilation)
        if isinstance(layer.padding, str):
            if layer.padding == "valid":
                p = (0, 0)
            else:  # 'same' (stride 1 only): total padding d(k-1), the smaller half first
                p = tuple(d[i] * (k[i] - 1) // 2 for i in range(2))
        else:
            p = _pair(layer.padding)
        return k, s, p, d
    if isinstance(layer, nn.MaxPool2d):
        k = _pair(layer.kernel_size)
        s = _pair(layer.stride if layer.stride is not None else layer.kernel_size)
        return k, s, _pair(layer.padding), _pair(layer.dilation)
    if isinstance(layer, nn.AvgPool2d):
        k = _pair(layer.kernel_size)
        s = _pair(layer.stride if layer.stride is not None else layer.kernel_size)
        return k, s, _pair(layer.padding), (1, 1)
    if isinstance(layer, PADDING):
        left, right, top, bottom = layer.padding
        if left != right or top != bottom:
            raise UnsupportedLayerError(
                f"{type(layer).__name__} with asymmetric padding {layer.padding} is not supported; "
                "use empirical_receptive_field(model, input_size)"
            )
        return (1, 1), (1, 1), (top, left), (1, 1)
    raise UnsupportedLayerError(type(layer).__name__)


def _flatten(module: nn.Module, prefix: str):
    """Yield (name, leaf layer) in execution order for (nested) nn.Sequential models."""
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from _flatten(child, f"{prefix}.{name}" if prefix else name)
    else:
        yield prefix or type(module).__name__, module


def receptive_field(model: nn.Module) -> ReceptiveField:
    """Receptive field of one output pixel of ``model``, computed layer by layer.

    Args:
        model: a (possibly nested) ``nn.Sequential`` of ``Conv2d``, ``MaxPool2d``,
            ``AvgPool2d`` and symmetric padding layers, with any kernel size, stride,
            padding and dilation. Pointwise layers (activations, BatchNorm /
            InstanceNorm / GroupNorm, dropout) are passed over. A single conv or
            pool layer is accepted too.

    Returns:
        :class:`ReceptiveField` with ``size`` (pixels), ``stride`` (jump) and
        ``padding`` (pixels), as defined by Araujo et al. (Distill 2019).

    Raises:
        UnsupportedLayerError: for any other layer -- a block with a skip
            connection, an upsampling or transposed convolution, a linear layer --
            naming the layer; measure such models with
            :func:`empirical_receptive_field` instead.

    Example:
        >>> receptive_field(nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(3)])).size
        7
    """
    size, jump, pad = [1, 1], [1, 1], [0, 0]
    for name, layer in _flatten(model, ""):
        try:
            params = layer_params(layer)
        except UnsupportedLayerError as err:
            raise UnsupportedLayerError(
                f"receptive_field cannot analyse layer '{name}' ({type(layer).__name__}): only nested "
                "nn.Sequential models of Conv2d / MaxPool2d / AvgPool2d / padding and pointwise layers are "
                "supported, and a skip connection, upsampling or other custom block is not. Measure this "
                "model with course_lib.receptive_field.empirical_receptive_field(model, input_size) instead."
                + (f" ({err})" if str(err) != type(layer).__name__ else "")
            ) from None
        if params is None:
            continue
        k, s, p, d = params
        for a in range(2):
            k_eff = d[a] * (k[a] - 1) + 1
            size[a] += (k_eff - 1) * jump[a]
            pad[a] += p[a] * jump[a]
            jump[a] *= s[a]
    return ReceptiveField(tuple(size), tuple(jump), tuple(pad))


def conv_output_size(input_size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Output side of a convolution or pooling layer, as ``nn.Conv2d`` computes it.

    ``out = floor((n + 2p - d(k - 1) - 1) / s) + 1`` (PyTorch's ``Conv2d`` documentation;
    Dumoulin & Visin, "A guide to convolution arithmetic", 2016, relationship 15 with dilation).

    Args:
        input_size: input side ``n`` in pixels (>= 1).
        kernel_size, stride, dilation: ``k``, ``s``, ``d`` (>= 1).
        padding: ``p`` pixels added on each side (>= 0).

    Raises:
        ValueError: for out-of-range arguments, or a kernel that does not fit the padded input.
    """
    for name, v, low in (("input_size", input_size, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                         ("padding", padding, 0), ("dilation", dilation, 1)):
        if int(v) != v or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    span = dilation * (kernel_size - 1) + 1
    if input_size + 2 * padding < span:
        raise ValueError(f"the dilated kernel ({span} px) is larger than the padded input "
                         f"({input_size} + 2*{padding} px)")
    return (input_size + 2 * padding - span) // stride + 1


def draw_receptive_field(ax, rf: ReceptiveField, u: int, v: int | None = None, label: str | None = None,
                         color: str = "yellow", **kwargs):
    """Draw on matplotlib axes (showing the input image) the square seen by output pixel ``(u, v)``.

    The rectangle's corners come from :meth:`ReceptiveField.input_span`; parts in the padding
    fall outside the image. ``label`` names the rectangle for ``ax.legend()``. Extra keyword
    arguments go to ``matplotlib.patches.Rectangle``.
    """
    from matplotlib.patches import Rectangle

    (r0, r1), (c0, c1) = rf.input_span(u, v)
    ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0 + 1, r1 - r0 + 1, fill=False, edgecolor=color,
                           linewidth=2, label=label, **kwargs))
    return ax


def _first_conv_channels(model: nn.Module) -> int:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
    raise ValueError("could not infer in_channels (no Conv2d in the model): pass input_size as (C, H, W)")


def empirical_receptive_field(model: nn.Module, input_size, n_trials: int = 8, seed: int = 0,
                              return_mask: bool = False):
    """Measure the receptive field of the central output pixel from input gradients.

    The gradient of one output pixel (summed over its channels) with respect to
    the input is non-zero exactly on the pixels it depends on. One random input
    can miss some (max pooling passes each gradient through a single arg-max, a
    ReLU can be off), so the non-zero sets of ``n_trials`` random inputs are
    joined. The model is deep-copied, put in eval mode (BatchNorm must use its
    running statistics, or every pixel of the batch would influence every
    output) and run in float64; the caller's model is left untouched.

    Args:
        model: any ``nn.Module`` mapping ``N x C x H x W`` to ``N x C' x H' x W'``
            (skip connections and upsampling are fine).
        input_size: ``H`` (square), ``(H, W)`` or ``(C, H, W)``; without ``C`` the
            channel count of the first ``Conv2d`` is used. Choose it larger than
            the expected receptive field.
        n_trials: number of random inputs whose gradient supports are joined.
        seed: seed of the random inputs.
        return_mask: also return the ``H x W`` boolean mask of influencing pixels.

    Returns:
        The side of the bounding box of the influencing pixels, in input pixels:
        an ``int`` if square, else ``(h, w)``; with ``return_mask``, ``(size, mask)``.

    Note:
        InstanceNorm and GroupNorm without running statistics pool their statistics over the
        whole image, so measured through them every pixel influences every output;
        :func:`receptive_field` follows the papers and treats them as pointwise. Measure
        ``norm="batch"`` or ``norm="none"`` variants to compare the two.

    Warns:
        UserWarning: if the influencing pixels touch the input border: the true
            receptive field may be larger than the input -- use a larger ``input_size``.
    """
    if isinstance(input_size, int):
        input_size = (input_size, input_size)
    input_size = tuple(int(v) for v in input_size)
    if len(input_size) == 2:
        input_size = (_first_conv_channels(model),) + input_size
    if len(input_size) != 3:
        raise ValueError(f"input_size must be H, (H, W) or (C, H, W), got {input_size!r}")
    net = copy.deepcopy(model).double().eval()
    gen = torch.Generator().manual_seed(seed)
    mask = torch.zeros(input_size[1:], dtype=torch.bool)
    for _ in range(n_trials):
        x = torch.randn((1,) + input_size, generator=gen, dtype=torch.float64, requires_grad=True)
        out = net(x)
        if out.ndim != 4:
            raise ValueError(f"the model must return N x C x H x W, got shape {tuple(out.shape)}")
        out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
        mask |= x.grad[0].abs().sum(0) > 0
    if not mask.any():
        raise ValueError("no input pixel influences the central output (all gradients are zero)")
    rows = torch.nonzero(mask.any(1)).flatten()
    cols = torch.nonzero(mask.any(0)).flatten()
    h = int(rows.max() - rows.min() + 1)
    w = int(cols.max() - cols.min() + 1)
    if rows.min() == 0 or cols.min() == 0 or rows.max() == input_size[1] - 1 or cols.max() == input_size[2] - 1:
        warnings.warn(
            f"the measured receptive field ({h} x {w}) touches the border of the {input_size[1]} x "
            f"{input_size[2]} input; the true one may be larger: use a larger input_size",
            stacklevel=2,
        )
    size = h if h == w else (h, w)
    return (size, mask.numpy()) if return_mask else size
