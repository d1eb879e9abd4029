"""What the translation experiments share: their config, data, networks and scores (notebooks 06-08).

The experiments themselves -- one training step each, written out as the papers give it -- are
:mod:`course_lib.experiments.pix2pix_ablation` (Isola et al. 2017, Table 1),
:mod:`~course_lib.experiments.patchgan_sizes` (Table 3), :mod:`~course_lib.experiments.cyclegan` (Zhu et al.
2017) and :mod:`~course_lib.experiments.cyclegan_identity`. This module holds what they have in common:

* :class:`TranslationConfig` -- the sizes of every pix2pix / CycleGAN run, fast and full side by side;
* :func:`load_pairs` -- the paired data (offline edges -> shoes, or an official aligned set such as facades:
  downloaded, or a copy of one's own under ``root``; pix2pix on it, time-boxed and resumable:
  :func:`course_lib.official_pix2pix.train_official_pix2pix`);
* :func:`build_generator`, :func:`build_discriminator` -- pix2pix's U-Net and a PatchGAN by name;
* :func:`translate`, :func:`evaluate_shoes`, :func:`real_shoes_scores` -- the scores of the offline edges ->
  shoes task: shoe-type accuracy judged by the course's Fashion-MNIST recognizer restricted to the three shoe
  classes (in the manner of the FCN-score, Sec. 4.2), the Fréchet recognizer distance to the real test shoes,
  and the pixel L1 / PSNR.

Generators are evaluated in ``eval()`` mode: dropout off and BatchNorm running statistics (the authors' test
script keeps train mode unless ``--eval``; we say which we use).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .experiments.common import ExperimentConfig, fast_full
from .models.init import init_weights
from .models.pix2pix import SCALED_FAMILY_32, PatchDiscriminator, define_D, define_G


@dataclass(frozen=True)
class TranslationConfig(ExperimentConfig):
    """Sizes of the pix2pix / CycleGAN runs (build it with ``Config.make(profile, **overrides)``).

    Fast profile: the offline edges -> shoes set at 32 x 32 on a CPU. Full profile: the paper's facades
    settings (labels -> photo, 256 x 256, batch 1, 200 epochs of 400 images).

    Attributes:
        dataset: ``"shoes"`` (offline edges -> shoes, 32 x 32) or ``"facades"`` (official download, 256).
        size: image side in pixels.
        generator: :func:`~course_lib.models.pix2pix.define_G` name (``"unet_32"``, ``"unet_256"``, ...).
        discriminator: a key of :data:`~course_lib.models.pix2pix.SCALED_FAMILY_32` (at 32) or
            ``"basic"`` (70 x 70 at 256).
        ngf, ndf: widths of G and D.
        n_train, n_test: training pairs and held-out pairs.
        steps, batch_size: pix2pix's optimisation steps and pairs per step (fast profile: 3,000 steps of 32
            pairs = 24 epochs of the 4,000 training pairs; at 400 steps every objective was still far from
            its plateau: the L1 generator's FRD fell from 200 at 400 steps to 20 at 3,000 and 17 at 4,000).
        lr, beta1: Adam (the papers: 2e-4, 0.5).
        lambda_l1: pix2pix's weight of L1 (100).
        lambda_cycle, lambda_identity: CycleGAN's weights (10 and 0.5, the latter relative to lambda_cycle).
        cycle_generator: CycleGAN's generator (``"resnet_9blocks"`` in the paper at 256 px; the fast
            profile uses ``"unet_32"``, because the ResNet's full-resolution 7 x 7 layers cost about 5x more
            on a CPU).
        cycle_norm: its normalisation (``"instance"`` in the paper; ``"batch"`` in the fast profile, where
            the U-Net's innermost maps are 2 x 2 and instance statistics of 4 pixels are noise).
        pool_size: CycleGAN's image pool (50).
        cycle_steps: CycleGAN's steps (the learning rate is constant for the first half, then decays
            linearly to 0).
    """

    dataset: str = fast_full("shoes", "facades")
    size: int = fast_full(32, 256)
    generator: str = fast_full("unet_32", "unet_256")
    discriminator: str = fast_full("10x10", "basic")
    ngf: int = fast_full(8, 64)
    ndf: int = fast_full(8, 64)
    n_train: int = fast_full(4000, 400)
    n_test: int = fast_full(1000, 106)
    steps: int = fast_full(3000, 200 * 400)
    batch_size: int = fast_full(32, 1)
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_l1: float = 100.0
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    cycle_generator: str = fast_full("unet_32", "resnet_9blocks")
    cycle_norm: str = fast_full("batch", "instance")
    pool_size: int = 50
    cycle_steps: int = fast_full(3000, 200 * 400)


# --- data ------------------------------------------------------------------------------------------

def load_pairs(cfg: TranslationConfig, root: str | Path | None = None, *, verify: bool = True):
    """``(train_inputs, train_targets, test_set)`` of the config's dataset, images in [-1, 1].

    ``shoes``: tensors ``N x 1 x 32 x 32`` and a :class:`~course_lib.data.shoes.PairedShoes` test set.
    An official pix2pix set (``facades``, ``maps``, ... a key of :data:`course_lib.data.official.DATASETS`
    of the aligned kind): tensors ``N x 3 x cfg.size x cfg.size`` in the paper's direction (facades:
    labels -> photo, ``BtoA``), at most ``cfg.n_train`` / ``cfg.n_test`` pairs in natural file order
    (``1, 2, 10``), from the ``train`` split and the ``test`` split (``val`` for the sets without one,
    as in the paper); the test set is a pair of tensors ``(inputs, targets)``.

    Args:
        cfg: the run's config (``dataset``, ``size``, ``n_train``, ``n_test``).
        root: where the official set is: the folder holding ``facades/`` (or ``facades/`` itself). A copy
            already there is used as it is and never downloaded again; without one it is downloaded there
            (:func:`course_lib.data.official.download_official`). Default: ``$COURSE_DOWNLOADS``, else
            ``~/.cache/course_lib/official``.
        verify: require the published image counts and sizes (``True``), or accept a subset / a copy of
            one's own with a warning (``False``, :class:`~course_lib.data.official.OfficialCountWarning`).
            The layout is checked either way.

    Raises:
        ValueError: another dataset, or ``root`` for the bundled shoes.
        course_lib.data.paths.DatasetError: offline without a copy, a copy in another layout (no split
            folders, an empty or missing train/test split), an A|B image of odd width (the file is named),
            or (``verify``) counts/sizes that differ from the published ones.
    """
    if cfg.dataset == "shoes":
        if root is not None:
            raise ValueError("the edges -> shoes set is bundled with the course: root is for the official sets")
        from .data.shoes import make_edges2shoes

        train = make_edges2shoes("train", cfg.n_train)
        return train.edges, train.shoes, make_edges2shoes("test", cfg.n_test)
    from .data.official import DATASETS, AlignedDataset, download_official

    spec = DATASETS.get(cfg.dataset)
    if spec is None or spec.kind != "aligned":
        raise ValueError(f"unknown dataset {cfg.dataset!r}: 'shoes' or an aligned official set "
                         f"{sorted(k for k, d in DATASETS.items() if d.kind == 'aligned')}")
    folder = download_official(cfg.dataset, root, verify=verify)
    test_split = "test" if "test" in spec.counts else "val"
    tr = AlignedDataset(folder / "train", direction=spec.paper_direction, size=cfg.size)
    te = AlignedDataset(folder / test_split, direction=spec.paper_direction, size=cfg.size)
    x, y = map(torch.stack, zip(*[tr[i] for i in range(min(cfg.n_train, len(tr)))]))
    xt, yt = map(torch.stack, zip(*[te[i] for i in range(min(cfg.n_test, len(te)))]))
    return x, y, (xt, yt)


# --- networks --------------------------------------------------------------------------------------

def build_generator(cfg: TranslationConfig, in_channels: int = 1, out_channels: int = 1) -> nn.Module:
    """pix2pix's U-Net ``cfg.generator`` with dropout and BatchNorm, initialised N(0, 0.02)."""
    return define_G(cfg.generator, in_channels, out_channels, cfg.ngf, "batch", use_dropout=True)


def build_discriminator(cfg: TranslationConfig, in_channels: int, name: str | None = None) -> nn.Module:
    """The discriminator ``name`` (default ``cfg.discriminator``), initialised N(0, 0.02): a scaled PatchGAN
    at 32 px (:data:`~course_lib.models.pix2pix.SCALED_FAMILY_32`), ``"basic"`` / ``"pixel"``, or one of the
    paper's ``"16x16"``, ``"70x70"``, ``"286x286"`` (``n_layers`` 1, 3, 5) at 256 px.

    Raises:
        ValueError: for an unknown name.
    """
    name = name or cfg.discriminator
    if name in SCALED_FAMILY_32:
        return init_weights(PatchDiscriminator(in_channels, SCALED_FAMILY_32[name], cfg.ndf, "batch"))
    if name in ("basic", "pixel"):
        return define_D(name, in_channels, cfg.ndf)
    n = {"16x16": 1, "70x70": 3, "286x286": 5}.get(name)
    if n is None:
        raise ValueError(f"unknown discriminator {name!r}")
    return define_D("n_layers", in_channels, cfg.ndf, n_layers=n)


# --- scores ----------------------------------------------------------------------------------------

@torch.no_grad()
def translate(G: nn.Module, x: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """``G(x)`` in eval mode, batched, on G's device; returns CPU float32 (``N x C x H x W``)."""
    G.eval()
    device = next(G.parameters()).device
    return torch.cat([G(x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)])


def evaluate_shoes(G: nn.Module, test, recognizer: nn.Module | None = None) -> dict:
    """Scores of a generator on the paired edges -> shoes test set
    (:class:`~course_lib.data.shoes.PairedShoes`).

    Returns ``{"type_accuracy", "frd", "l1", "psnr"}``: shoe-type accuracy in [0, 1] (the recognizer's
    decision among sandal / sneaker / ankle boot equals the true type; real test shoes score about
    0.97), the Fréchet recognizer distance to the real test shoes (lower is better; not FID), and the
    pixel L1 (in [0, 2]) and PSNR (dB) against the true shoes.
    """
    from .data.shoes import SHOE_CLASSES
    from .metrics import frechet_recognizer_distance, pixel_scores, recognizer_accuracy
    from .models.recognizer import load_recognizer

    recognizer = recognizer or load_recognizer(progress=False)
    fake = translate(G, test.edges)
    return {"type_accuracy": recognizer_accuracy(fake, test.types, recognizer, SHOE_CLASSES),
            "frd": frechet_recognizer_distance(fake, test.shoes, recognizer), **pixel_scores(fake, test.shoes)}


def evaluate_pairs(G: nn.Module, test) -> dict:
    """:func:`evaluate_shoes` on a :class:`~course_lib.data.shoes.PairedShoes` test set; on another paired
    set ``(inputs, targets)`` (facades) the pixel scores only, with ``type_accuracy`` and ``frd`` ``nan``."""
    from .metrics import pixel_scores

    if isinstance(test, tuple):
        return {"type_accuracy": float("nan"), "frd": float("nan"), **pixel_scores(translate(G, test[0]), test[1])}
    return evaluate_shoes(G, test)


def real_shoes_scores(test, recognizer: nn.Module | None = None) -> dict:
    """Scores of real shoes: type accuracy of the real test shoes, and the Fréchet recognizer distance
    between as many real *training* shoes and the test shoes (the floor a generator can reach); L1 0 and
    PSNR infinite."""
    from .data.shoes import SHOE_CLASSES, make_edges2shoes
    from .metrics import frechet_recognizer_distance, recognizer_accuracy
    from .models.recognizer import load_recognizer

    recognizer = recognizer or load_recognizer(progress=False)
    train = make_edges2shoes("train", len(test))
    return {"type_accuracy": recognizer_accuracy(test.shoes, test.types, recognizer, SHOE_CLASSES),
            "frd": frechet_recognizer_distance(train.shoes, test.shoes, recognizer), "l1": 0.0, "psnr": float("inf")}

