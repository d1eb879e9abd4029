"""pix2pix building blocks (Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with
Conditional Adversarial Networks", CVPR 2017).

The networks of pix2pix and CycleGAN (Zhu, Park, Isola & Efros, ICCV 2017): the discriminators --
PatchGAN (:class:`NLayerDiscriminator`), PixelGAN, the PatchGAN of any receptive field
(:class:`PatchDiscriminator`) and the size-ablation family built from it -- the U-Net and ResNet
generators, name-keyed factories (``define_G``, ``define_D``, initialised N(0, 0.02) by
:func:`course_lib.models.init.init_weights`) and CycleGAN's image pool. Checkpoints of the authors' public
code load into these classes with :func:`course_lib.models.official.load_official_state_dict`. Notebook
01 measures the discriminators' receptive fields; notebooks 06 (pix2pix), 07 (PatchGAN sizes) and 08
(CycleGAN) train them. The layer layout (kernel 4, padding 1, LeakyReLU 0.2, channel width doubling up
to 8 x ndf) matches the paper's appendix 6.1.2 and the authors' public code, so
the receptive fields come out as the paper's 1, 16, 70 and 286 pixels.

Written as named ``nn.Sequential`` stages so that students can print a model and
read it, and so that :func:`course_lib.receptive_field.receptive_field` can walk it.
"""
from __future__ import annotations

import random
from collections import OrderedDict

import torch
from torch import nn

from ..losses import GANLoss  # noqa: F401  (re-exported: pix2pix's loss lives with the other GAN losses)
from .init import init_weights

NORMS = ("batch", "instance", "none")


def get_norm_layer(norm: str, num_features: int) -> nn.Module:
    """Normalisation layer by name.

    Args:
        norm: ``"batch"`` (BatchNorm2d with learned scale/shift and running
            statistics), ``"instance"`` (InstanceNorm2d, no affine parameters, no
            running statistics -- as in the pix2pix/CycleGAN code), or ``"none"``.
        num_features: channel count.

    Raises:
        ValueError: for another name.
    """
    if norm == "batch":
        return nn.BatchNorm2d(num_features, affine=True, track_running_stats=True)
    if norm == "instance":
        return nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


def _uses_bias(norm: str) -> bool:
    # BatchNorm's shift makes a conv bias redundant; InstanceNorm here has no affine shift.
    return norm != "batch"


class NLayerDiscriminator(nn.Sequential):
    """PatchGAN discriminator: classifies each overlapping N x N patch as real or fake.

    ``n_layers`` stride-2 convolutions (4 x 4, padding 1), then one stride-1
    convolution and a stride-1 convolution to one channel. Receptive field of an
    output pixel: 16 (``n_layers=1``), 34 (2), 70 (3, the paper's default
    "70 x 70 PatchGAN"), 142 (4), 286 (5).

    Args:
        in_channels: channels of the input; for a conditional D this is the
            input image's plus the output image's channels (concatenated).
        ndf: filters in the first layer; doubled per layer up to ``8 * ndf``.
        n_layers: number of stride-2 convolutions (>= 1).
        norm: ``"batch"``, ``"instance"`` or ``"none"`` (no norm on the first layer).

    Shape:
        input ``N x in_channels x H x W`` float (pix2pix uses [-1, 1]); output
        ``N x 1 x H' x W'`` raw logits, one per patch (``H' = H/2**n_layers - 2``
        for ``H`` divisible by ``2**n_layers``; 30 x 30 for 256 x 256 and ``n_layers=3``).
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch"):
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        if in_channels < 1 or ndf < 1:
            raise ValueError(f"in_channels and ndf must be positive, got {in_channels}, {ndf}")
        bias = _uses_bias(norm)
        layers = OrderedDict()
        layers["conv0"] = nn.Sequential(
            nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)
        )
        width = ndf
        for n in range(1, n_layers + 1):
            stride = 2 if n < n_layers else 1
            out = ndf * min(2 ** n, 8)
            layers[f"conv{n}"] = nn.Sequential(
                nn.Conv2d(width, out, kernel_size=4, stride=stride, padding=1, bias=bias),
                get_norm_layer(norm, out),
                nn.LeakyReLU(0.2, True),
            )
            width = out
        layers["head"] = nn.Conv2d(width, 1, kernel_size=4, stride=1, padding=1)
        super().__init__(layers)
        self.in_channels, self.ndf, self.n_layers, self.norm = in_channels, ndf, n_layers, norm


class PixelDiscriminator(nn.Sequential):
    """PixelGAN: a 1 x 1 PatchGAN that judges each pixel's colour on its own (receptive field 1).

    Args:
        in_channels: channels of the input (conditional: input + output channels).
        ndf: filters of the first 1 x 1 convolution (the second has ``2 * ndf``).
        norm: ``"batch"``, ``"instance"`` or ``"none"``.

    Shape:
        ``N x in_channels x H x W`` -> ``N x 1 x H x W`` raw logits.
    """

    def __init__(self, in_channels: int, ndf: int = 64, norm: str = "batch"):
        bias = _uses_bias(norm)
        super().__init__(OrderedDict(
            conv0=nn.Sequential(nn.Conv2d(in_channels, ndf, kernel_size=1), nn.LeakyReLU(0.2, True)),
            conv1=nn.Sequential(
                nn.Conv2d(ndf, ndf * 2, kernel_size=1, bias=bias), get_norm_layer(norm, ndf * 2),
                nn.LeakyReLU(0.2, True),
            ),
            head=nn.Conv2d(ndf * 2, 1, kernel_size=1, bias=bias),
        ))
        self.in_channels, self.ndf, self.norm = in_channels, ndf, norm


class PatchDiscriminator(nn.Sequential):
    """A PatchGAN of any receptive field, from a list of ``(kernel, stride)`` convolutions.

    The first convolution has no norm; the middle ones are followed by the norm and LeakyReLU(0.2)
    and double the width up to ``8 * ndf``; the last maps to one channel of raw scores. Padding is 1
    for 4 x 4 kernels (as in :class:`NLayerDiscriminator`) and ``(k - 1) // 2`` otherwise. Notebook 07
    uses it to scale the paper's 1 / 16 / 70 / 286 family down to 32 x 32 images with the same
    patch-to-image ratios (:func:`scaled_patchgan_family`).

    Args:
        in_channels: input channels (input + output for a conditional D).
        convs: ``[(kernel, stride), ...]``, at least two.
        ndf: filters of the first convolution.
        norm: ``"batch"``, ``"instance"`` or ``"none"``.
    """

    def __init__(self, in_channels: int, convs, ndf: int = 64, norm: str = "batch"):
        convs = [tuple(c) for c in convs]
        if len(convs) < 2:
            raise ValueError("a PatchDiscriminator needs at least two convolutions")
        bias = _uses_bias(norm)
        pad = [1 if k == 4 else (k - 1) // 2 for k, _ in convs]
        layers = OrderedDict()
        k, s = convs[0]
        layers["conv0"] = nn.Sequential(nn.Conv2d(in_channels, ndf, k, s, pad[0]), nn.LeakyReLU(0.2, True))
        width = ndf
        for n, (k, s) in enumerate(convs[1:-1], start=1):
            out = ndf * min(2 ** n, 8)
            layers[f"conv{n}"] = nn.Sequential(nn.Conv2d(width, out, k, s, pad[n], bias=bias),
                                               get_norm_layer(norm, out), nn.LeakyReLU(0.2, True))
            width = out
        k, s = convs[-1]
        layers["head"] = nn.Conv2d(width, 1, k, s, pad[-1])
        super().__init__(layers)
        self.in_channels, self.ndf, self.norm, self.convs = in_channels, ndf, norm, convs


SCALED_FAMILY_32 = {
    "1x1 (PixelGAN)": [(1, 1), (1, 1), (1, 1)],
    "2x2": [(2, 1), (1, 1), (1, 1)],
    "10x10": [(4, 2), (4, 1), (1, 1)],
    "34x34": [(4, 2), (4, 2), (4, 1), (4, 1)],
}
"""The PatchGAN family at 32 x 32: receptive fields 1, 2, 10 and 34 pixels, i.e. 1/32, 1/16, 0.31 and
1.06 of the image side -- the paper's 16/256 = 1/16, 70/256 = 0.27 and 286/256 = 1.12 at 256 x 256
(Isola et al. 2017, Sec. 4.4, Table 3), and one pixel for the PixelGAN. "34x34" is
``NLayerDiscriminator(n_layers=2)``."""

SCALED_FAMILY_64 = {
    "1x1 (PixelGAN)": [(1, 1), (1, 1), (1, 1)],
    "4x4": [(4, 2), (1, 1), (1, 1)],
    "16x16": [(4, 2), (4, 1), (4, 1)],
    "70x70": [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)],
}
"""The PatchGAN family at 64 x 64 (edges -> motorbikes): receptive fields 1, 4, 16 and 70 pixels, i.e. 1/64,
1/16, 0.25 and 1.09 of the image side -- the paper's 1/256, 16/256 = 1/16, 70/256 = 0.27 and 286/256 = 1.12
(Isola et al. 2017, Sec. 4.4, Table 3). "16x16" and "70x70" are the paper's own ``NLayerDiscriminator``
with ``n_layers`` 1 and 3 (the same layers, written as convolutions), so at 64 px the paper's 16 x 16 and
70 x 70 discriminators play the roles its 70 x 70 and 286 x 286 play at 256 px."""

SCALED_FAMILY_128 = {
    "1x1 (PixelGAN)": [(1, 1), (1, 1), (1, 1)],
    "8x8": [(4, 2), (3, 1), (1, 1)],
    "34x34": [(4, 2), (4, 2), (4, 1), (4, 1)],
    "142x142": [(4, 2), (4, 2), (4, 2), (4, 2), (4, 1), (4, 1)],
}
"""The PatchGAN family at 128 x 128 (edges -> motorbikes, issue 13's size): receptive fields 1, 8, 34 and 142
pixels, i.e. 1/128, 1/16, 0.27 and 1.11 of the image side -- the paper's 1/256, 16/256 = 1/16, 70/256 = 0.27 and
286/256 = 1.12 (Isola et al. 2017, Sec. 4.4, Table 3). "34x34" and "142x142" have the layers of the paper's
``NLayerDiscriminator`` with ``n_layers`` 2 and 4 (written as convolutions; its 70 x 70 and 286 x 286 are
``n_layers`` 3 and 5), and every size but the PixelGAN keeps the paper's ratio to within 0.01 of the side."""

PAPER_FAMILY = {"1x1 (PixelGAN)": 0, "16x16": 1, "70x70": 3, "286x286": 5}
"""The paper's family at 256 x 256: PixelGAN (0 here) and ``n_layers`` 1, 3, 5."""


# --- generators ------------------------------------------------------------------------------------

class UnetGenerator(nn.Module):
    """The pix2pix generator: an encoder-decoder with skip connections between mirrored levels
    (Isola et al. 2017, Sec. 3.2.1 and appendix 6.1.1; Ronneberger et al. 2015).

    Encoder levels ``down1 .. downN`` (``N = num_downs``) each halve the image with a 4 x 4,
    stride-2 convolution; decoder levels ``upN .. up1`` each double it with a 4 x 4 transposed
    convolution. Before every decoder level except ``upN`` (the innermost) the output of the mirrored
    encoder level is concatenated **in front** of the decoded features (channels ``[skip, decoded]``)::

        down1   Conv(in -> ngf)                        -> LeakyReLU(0.2)      (no norm: appendix 6.1.1)
        down2   Conv(ngf -> 2ngf)      -> Norm         -> LeakyReLU(0.2)
        down3   Conv(2ngf -> 4ngf)     -> Norm         -> LeakyReLU(0.2)
        down4   Conv(4ngf -> 8ngf)     -> Norm         -> LeakyReLU(0.2)
        down5.. Conv(8ngf -> 8ngf)     -> Norm         -> LeakyReLU(0.2)
        downN   Conv(8ngf -> 8ngf)                     -> ReLU                (bottleneck, 1 x 1 at 2**N)
        upN     ConvT(8ngf -> 8ngf)    -> Norm                                 then concat with down(N-1)
        up(N-1)..up5  ReLU -> ConvT(16ngf -> 8ngf) -> Norm [-> Dropout(0.5)]  then concat
        up4     ReLU -> ConvT(16ngf -> 4ngf) -> Norm,  up3: ... -> 2ngf,  up2: ... -> ngf
        up1     ReLU -> ConvT(2ngf -> out) -> Tanh

    Dropout (``use_dropout``) sits in the levels ``up5 .. up(N-1)``: it is pix2pix's noise
    source (Sec. 3.1); pix2pix trains with it and the authors' test script keeps it on unless asked
    for eval mode. This course evaluates in ``model.eval()`` (dropout off, BatchNorm running
    statistics) unless it says otherwise.

    The parameters are registered in the same order as the authors' recursive implementation
    (encoder outside-in, then decoder inside-out), which is what lets
    :func:`course_lib.models.official.load_official_state_dict` translate their checkpoints.

    Args:
        in_channels, out_channels: image channels of input and output.
        num_downs: number of halvings (>= 5); the image side must be divisible by ``2**num_downs``
            (8 for 256 x 256, "unet_256"; 7 for 128 x 128; 5 for 32 x 32).
        ngf: filters of the first level (64 in the paper).
        norm: ``"batch"`` (pix2pix) or ``"instance"``.
        use_dropout: dropout 0.5 in the inner decoder levels.

    Shape:
        ``N x in_channels x H x W`` float in [-1, 1] -> ``N x out_channels x H x W`` in (-1, 1).

    Raises:
        ValueError: for ``num_downs < 5`` or an unknown norm; at call time for a side not divisible
            by ``2**num_downs``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_downs: int, ngf: int = 64, norm: str = "batch",
                 use_dropout: bool = False):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be >= 5 (widths ngf..8ngf need five levels), got {num_downs}")
        if norm not in ("batch", "instance"):
            raise ValueError(f"UnetGenerator norm must be 'batch' or 'instance', got {norm!r}")
        bias = _uses_bias(norm)
        self.in_channels, self.out_channels, self.num_downs = in_channels, out_channels, num_downs
        self.ngf, self.norm, self.use_dropout = ngf, norm, use_dropout
        # channel width after encoder level k (1-based): ngf, 2ngf, 4ngf, 8ngf, 8ngf, ...
        width = [None] + [ngf * min(2 ** (k - 1), 8) for k in range(1, num_downs + 1)]

        self.encoder = nn.ModuleDict()
        self.encoder["down1"] = nn.Sequential(nn.Conv2d(in_channels, ngf, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2))
        for k in range(2, num_downs):
            self.encoder[f"down{k}"] = nn.Sequential(
                nn.Conv2d(width[k - 1], width[k], 4, 2, 1, bias=bias), get_norm_layer(norm, width[k]),
                nn.LeakyReLU(0.2))
        self.encoder[f"down{num_downs}"] = nn.Sequential(
            nn.Conv2d(width[num_downs - 1], width[num_downs], 4, 2, 1, bias=bias), nn.ReLU())

        self.decoder = nn.ModuleDict()
        self.decoder[f"up{num_downs}"] = nn.Sequential(
            nn.ConvTranspose2d(width[num_downs], width[num_downs - 1], 4, 2, 1, bias=bias),
            get_norm_layer(norm, width[num_downs - 1]))
        for k in range(num_downs - 1, 1, -1):
            layers = [nn.ReLU(), nn.ConvTranspose2d(2 * width[k], width[k - 1], 4, 2, 1, bias=bias),
                      get_norm_layer(norm, width[k - 1])]
            if use_dropout and 5 <= k:
                layers.append(nn.Dropout(0.5))
            self.decoder[f"up{k}"] = nn.Sequential(*layers)
        self.decoder["up1"] = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * ngf, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        side = 2 ** self.num_downs
        if x.shape[-1] % side or x.shape[-2] % side:
            raise ValueError(f"UnetGenerator with {self.num_downs} levels needs sides divisible by {side}, "
                             f"got {tuple(x.shape[-2:])}")
        skips = []
        h = x
        for level in self.encoder.values():
            h = level(h)
            skips.append(h)
        skips.pop()  # the bottleneck is not a skip
        for level in self.decoder.values():
            h = level(h)
            if skips:
                h = torch.cat([skips.pop(), h], dim=1)
        return h


class ResnetBlock(nn.Module):
    """Residual block ``x + F(x)`` with ``F`` = pad -> 3x3 conv -> norm -> ReLU [-> dropout] -> pad ->
    3x3 conv -> norm, reflection padding (He et al. 2016; Johnson et al. 2016; CycleGAN appendix 7.2)."""

    def __init__(self, channels: int, norm: str = "instance", use_dropout: bool = False):
        super().__init__()
        bias = _uses_bias(norm)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), get_norm_layer(norm, channels),
                  nn.ReLU()]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), get_norm_layer(norm, channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """The CycleGAN generator (Zhu et al. 2017, appendix 7.2; after Johnson et al. 2016):
    ``c7s1-ngf, d2ngf, d4ngf, R4ngf x n_blocks, u2ngf, ungf, c7s1-out``::

        stem    ReflectionPad(3) -> Conv 7x7 (in -> ngf) -> Norm -> ReLU
        down1   Conv 3x3 stride 2 (ngf -> 2ngf) -> Norm -> ReLU
        down2   Conv 3x3 stride 2 (2ngf -> 4ngf) -> Norm -> ReLU
        blocks  n_blocks x ResnetBlock(4ngf)
        up1     ConvT 3x3 stride 2 (4ngf -> 2ngf) -> Norm -> ReLU
        up2     ConvT 3x3 stride 2 (2ngf -> ngf) -> Norm -> ReLU
        head    ReflectionPad(3) -> Conv 7x7 (ngf -> out) -> Tanh

    Args:
        in_channels, out_channels: image channels.
        ngf: filters of the stem (64 in the paper).
        norm: ``"instance"`` (CycleGAN) or ``"batch"``.
        use_dropout: dropout 0.5 inside each residual block.
        n_blocks: residual blocks (6 for 128 x 128 images, 9 for 256 x 256 in the paper).

    Shape:
        ``N x in_channels x H x W`` in [-1, 1] -> ``N x out_channels x H x W`` in (-1, 1); ``H`` and ``W``
        divisible by 4.
    """

    def __init__(self, in_channels: int, out_channels: int, ngf: int = 64, norm: str = "instance",
                 use_dropout: bool = False, n_blocks: int = 9):
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        bias = _uses_bias(norm)
        self.in_channels, self.out_channels, self.ngf, self.norm = in_channels, out_channels, ngf, norm
        self.n_blocks, self.use_dropout = n_blocks, use_dropout
        self.stem = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                  get_norm_layer(norm, ngf), nn.ReLU())
        self.down1 = nn.Sequential(nn.Conv2d(ngf, 2 * ngf, 3, 2, 1, bias=bias), get_norm_layer(norm, 2 * ngf), nn.ReLU())
        self.down2 = nn.Sequential(nn.Conv2d(2 * ngf, 4 * ngf, 3, 2, 1, bias=bias), get_norm_layer(norm, 4 * ngf),
                                   nn.ReLU())
        self.blocks = nn.Sequential(*[ResnetBlock(4 * ngf, norm, use_dropout) for _ in range(n_blocks)])
        self.up1 = nn.Sequential(nn.ConvTranspose2d(4 * ngf, 2 * ngf, 3, 2, 1, output_padding=1, bias=bias),
                                 get_norm_layer(norm, 2 * ngf), nn.ReLU())
        self.up2 = nn.Sequential(nn.ConvTranspose2d(2 * ngf, ngf, 3, 2, 1, output_padding=1, bias=bias),
                                 get_norm_layer(norm, ngf), nn.ReLU())
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.down2(self.down1(self.stem(x)))
        return self.head(self.up2(self.up1(self.blocks(h))))


# --- factories and initialisation ------------------------------------------------------------------

GENERATORS = ("unet_128", "unet_256", "resnet_6blocks", "resnet_9blocks")
DISCRIMINATORS = ("basic", "n_layers", "pixel")


def define_G(name: str, in_channels: int, out_channels: int, ngf: int = 64, norm: str = "batch",
             use_dropout: bool = False, init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """A generator by name, initialised with :func:`init_weights`.

    Names: ``"unet_256"`` (8 levels), ``"unet_128"`` (7), any ``"unet_<2**k>"`` with ``k >= 5`` (e.g.
    ``"unet_32"`` for the fast profile's 32 x 32 images), ``"resnet_6blocks"``, ``"resnet_9blocks"``.
    The defaults are the same for every name (``norm="batch"``, no dropout): pass ``norm="instance"``
    for CycleGAN's ResNet and ``use_dropout=True`` for pix2pix's U-Net, as the papers do.

    Raises:
        ValueError: for an unknown name.
    """
    if name.startswith("unet_") and name[5:].isdigit():
        side = int(name[5:])
        k = side.bit_length() - 1
        if side != 2 ** k or k < 5:
            raise ValueError(f"{name}: the U-Net size must be a power of two >= 32")
        net = UnetGenerator(in_channels, out_channels, k, ngf, norm, use_dropout)
    elif name in ("resnet_6blocks", "resnet_9blocks"):
        net = ResnetGenerator(in_channels, out_channels, ngf, norm, use_dropout, n_blocks=int(name[7]))
    else:
        raise ValueError(f"unknown generator {name!r}; known: {GENERATORS} (and unet_<power of two>)")
    return init_weights(net, init_type, init_gain)


def define_D(name: str, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: str = "batch",
             init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """A discriminator by name, initialised with :func:`init_weights`.

    Names: ``"basic"`` (the 70 x 70 PatchGAN, ``n_layers=3`` whatever ``n_layers`` says),
    ``"n_layers"`` (PatchGAN with ``n_layers`` stride-2 layers: receptive field 16, 34, 70, 142, 286 for
    1..5), ``"pixel"`` (1 x 1 PixelGAN). For pix2pix's conditional D, ``in_channels`` is the input's
    plus the output's channels.

    Raises:
        ValueError: for an unknown name.
    """
    if name == "basic":
        net = NLayerDiscriminator(in_channels, ndf, 3, norm)
    elif name == "n_layers":
        net = NLayerDiscriminator(in_channels, ndf, n_layers, norm)
    elif name == "pixel":
        net = PixelDiscriminator(in_channels, ndf, norm)
    else:
        raise ValueError(f"unknown discriminator {name!r}; known: {DISCRIMINATORS}")
    return init_weights(net, init_type, init_gain)


def scaled_patchgan_family(image_size: int, in_channels: int, ndf: int = 64, norm: str = "batch") -> dict:
    """The four discriminators of the PatchGAN size ablation, by name, initialised N(0, 0.02).

    ``image_size=256``: the paper's exact four (PixelGAN, ``n_layers`` 1, 3, 5: 1, 16, 70, 286).
    ``image_size=128``: :data:`SCALED_FAMILY_128`, the same patch-to-image ratios at 128 x 128 (edges -> motorbikes).
    ``image_size=64``: :data:`SCALED_FAMILY_64`, the same patch-to-image ratios at 64 x 64 (edges -> motorbikes).
    ``image_size=32``: :data:`SCALED_FAMILY_32`, the same ratios at 32 x 32 (the earlier edges -> shoes runs).

    Raises:
        ValueError: for another size.
    """
    if image_size == 256:
        return {name: define_D("pixel" if n == 0 else "n_layers", in_channels, ndf, n_layers=max(n, 1), norm=norm)
                for name, n in PAPER_FAMILY.items()}
    scaled = {32: SCALED_FAMILY_32, 64: SCALED_FAMILY_64, 128: SCALED_FAMILY_128}.get(image_size)
    if scaled is None:
        raise ValueError(f"the PatchGAN family is defined at 256 x 256 (paper) and scaled to 128 x 128, 64 x 64 and "
                         f"32 x 32, not {image_size}")
    return {name: init_weights(PatchDiscriminator(in_channels, convs, ndf, norm)) for name, convs in scaled.items()}


# --- the image pool (CycleGAN) ---------------------------------------------------------------------

class ImagePool:
    """A buffer of previously generated images (Shrivastava et al. 2017; CycleGAN Sec. 4, "Training
    details"): the discriminator is shown a mix of the newest fakes and older ones, which damps
    oscillation between G and D.

    ``query(images)`` goes through the batch image by image: while the pool holds fewer than
    ``pool_size`` images, the new image is stored and returned; afterwards, with probability 1/2 a
    randomly chosen stored image is returned and the new one takes its place, otherwise the new image
    is returned and the pool is unchanged. ``pool_size=0`` returns the batch as is.

    Args:
        pool_size: capacity (50 in CycleGAN).
        seed: seed of the pool's own random generator (reproducible choices).

    Shape:
        ``query``: ``N x C x H x W`` -> ``N x C x H x W`` (detached from the graph).
    """

    def __init__(self, pool_size: int = 50, seed: int | None = None):
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0, got {pool_size}")
        self.pool_size = pool_size
        self.images: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        images = images.detach()
        if self.pool_size == 0:
            return images
        out = []
        for image in images:
            image = image.clone()
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                i = self.rng.randrange(self.pool_size)
                out.append(self.images[i])
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)
