"""What the translation experiments share: their config, data, networks and scores (notebooks 06-08).

The experiments themselves -- one training step each, written out as the papers give it -- are
:mod:`course_lib.experiments.pix2pix_ablation` (Isola et al. 2017, Table 1),
:mod:`~course_lib.experiments.patchgan_sizes` (Table 3) and :mod:`~course_lib.experiments.cyclegan` (Zhu et al.
2017, Table 4). This module holds what they have in common:

* :class:`TranslationConfig` -- the sizes of every pix2pix / CycleGAN run, fast and full side by side;
* :func:`load_pairs` -- the paired data (offline edges -> shoes, or an official aligned set such as facades:
  downloaded, or a copy of one's own under ``root``; pix2pix on it, time-boxed and resumable:
  :func:`course_lib.official_pix2pix.train_official_pix2pix`);
* :func:`build_generator`, :func:`build_discriminator` -- pix2pix's U-Net and a PatchGAN by name;
* :func:`translate`, :func:`evaluate_motorbikes` (:func:`judge_motorbikes`, :func:`edge_agreement`,
  :func:`luma_sharpness`) -- the scores of edges -> motorbikes (notebooks 06-08): the Caltech photo judge's Fréchet
  distance, Motorbikes accuracy and two-sample test (is it a realistic motorbike?), the edge F1 against the input
  (does it follow the edges?), sharpness, pixel L1 / PSNR;
* :func:`evaluate_shoes`, :func:`real_shoes_scores` -- the scores of the earlier offline edges -> shoes task
  (32 x 32; the results page keeps its tables): shoe-type accuracy judged by the course's Fashion-MNIST recognizer restricted to the three shoe
  classes (in the manner of the FCN-score, Sec. 4.2), the Fréchet recognizer distance to the real test shoes,
  and the pixel L1 / PSNR.

Generators are evaluated in ``eval()`` mode: dropout off and BatchNorm running statistics (the authors' test
script keeps train mode unless ``--eval``; we say which we use).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .experiments.common import ExperimentConfig, fast_full
from .models.init import init_weights
from .models.pix2pix import SCALED_FAMILY_32, SCALED_FAMILY_64, SCALED_FAMILY_128, PatchDiscriminator, define_D, define_G


@dataclass(frozen=True)
class TranslationConfig(ExperimentConfig):
    """Sizes of the pix2pix / CycleGAN runs (build it with ``Config.make(profile, **overrides)``).

    Fast profile here: the earlier offline edges -> shoes set at 32 x 32 on a CPU; notebooks 06-08's configs
    (:class:`course_lib.experiments.pix2pix_ablation.Config` and its subclasses) override it with edges -> motorbikes
    at 64 x 64.
    Full profile: the paper's facades settings (labels -> photo, 256 x 256, batch 1, 200 epochs of 400 images).

    Attributes:
        dataset: ``"shoes"`` (offline edges -> shoes, 32 x 32), ``"motorbikes"`` (the bundled edges -> motorbikes,
            64 or 128) or ``"facades"`` (official download, 256).
        size: image side in pixels.
        generator: :func:`~course_lib.models.pix2pix.define_G` name (``"unet_32"``, ``"unet_256"``, ...).
        discriminator: a name :func:`build_discriminator` knows: a key of
            :data:`~course_lib.models.pix2pix.SCALED_FAMILY_32` (at 32) or
            :data:`~course_lib.models.pix2pix.SCALED_FAMILY_64` (at 64) or
            :data:`~course_lib.models.pix2pix.SCALED_FAMILY_128` (at 128), or ``"basic"`` (70 x 70 at 256).
        ngf, ndf: widths of G and D.
        n_train, n_test: training pairs and held-out pairs.
        steps, batch_size: pix2pix's optimisation steps and pairs per step (fast profile: 3,000 steps of 32
            pairs = 24 epochs of the 4,000 training pairs; at 400 steps every objective was still far from
            its plateau: the L1 generator's FRD fell from 200 at 400 steps to 20 at 3,000 and 17 at 4,000).
        lr, beta1: Adam (the papers: 2e-4, 0.5).
        lr_schedule: pix2pix's learning rate: ``None`` (constant; the shoes runs) or ``"linear_decay"`` (constant
            for the first half of ``steps``, then linearly to 0, as the authors' code trains pix2pix and
            CycleGAN: 100 + 100 epochs; :func:`course_lib.experiments.common.linear_decay_factor`).
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
    lr_schedule: str | None = None
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
    ``motorbikes``: the bundled edges -> motorbikes pairs (:func:`course_lib.data.caltech.edges2motorbikes`),
    tensors ``N x 3 x cfg.size x cfg.size``, the first ``cfg.n_train`` of the 698 training pairs and a pair of
    tensors ``(edges, photos)`` of the first ``cfg.n_test`` of the 100 held-out ones (``root``: a folder built like
    the bundled one).
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
    if cfg.dataset == "motorbikes":
        from .data.caltech import edges2motorbikes

        x, y = edges2motorbikes("train", cfg.size, "motorbikes", root=root)
        xt, yt = edges2motorbikes("test", cfg.size, "motorbikes", root=root)
        return x[:cfg.n_train], y[:cfg.n_train], (xt[:cfg.n_test], yt[:cfg.n_test])
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
    at 32 px (:data:`~course_lib.models.pix2pix.SCALED_FAMILY_32`), the ``"4x4"`` of the 64 px family
    (:data:`~course_lib.models.pix2pix.SCALED_FAMILY_64`), the ``"8x8"`` and ``"142x142"`` of the 128 px family
    (:data:`~course_lib.models.pix2pix.SCALED_FAMILY_128`; its ``"34x34"`` is the 32 px family's), ``"basic"`` / ``"pixel"``, or one of the paper's
    ``"16x16"``, ``"70x70"``, ``"286x286"`` (``NLayerDiscriminator`` with ``n_layers`` 1, 3, 5; receptive fields in
    pixels at any image size).

    Raises:
        ValueError: for an unknown name.
    """
    name = name or cfg.discriminator
    if name in SCALED_FAMILY_32:
        return init_weights(PatchDiscriminator(in_channels, SCALED_FAMILY_32[name], cfg.ndf, "batch"))
    if name == "4x4":
        return init_weights(PatchDiscriminator(in_channels, SCALED_FAMILY_64[name], cfg.ndf, "batch"))
    if name in ("8x8", "142x142"):
        return init_weights(PatchDiscriminator(in_channels, SCALED_FAMILY_128[name], cfg.ndf, "batch"))
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


def luma_sharpness(images: torch.Tensor) -> torch.Tensor:
    """:func:`course_lib.metrics.sharpness` (mean Sobel gradient magnitude, images mapped to [0, 1]) of the BT.601
    luma of RGB images ``N x 3 x H x W`` in [-1, 1] (one-channel images as they are); ``N`` float32."""
    from .metrics import sharpness

    if images.ndim == 4 and images.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype, device=images.device)
        images = (images * weights.view(1, 3, 1, 1)).sum(1, keepdim=True)
    return sharpness(images)


def edge_agreement(photos: torch.Tensor, edges: torch.Tensor, tolerance: int = 0) -> dict:
    """Do the photos have the input's edges? The structural half of an FCN-score for edges -> photo.

    The edges of each photo are drawn as the dataset drew its inputs (``skimage.feature.canny`` of the BT.601 luma,
    sigma :data:`course_lib.data.build_photo_sets.CANNY` at the photo's side, thresholds 0.1 / 0.2) and compared
    with the input edge map, a drawn edge counting as matched when an input edge lies within ``tolerance`` pixels
    (a ``2 tolerance + 1`` square), and the other way round. The default, 0, asks for the very pixel: at 64 x 64
    it tells a photo's own edges (F1 0.99 on the held-out motorbikes) from another motorbike's (0.23), where a
    tolerance of 1 pixel gives 0.999 and 0.66.

    Args:
        photos: ``N x 3 x S x S`` in [-1, 1] (S = 64, 128 or 256), generated or real.
        edges: ``N x C x S x S`` input edge maps in [-1, 1], black (-1) lines on white (+1), as
            :func:`course_lib.data.caltech.edges2motorbikes` returns them.

    Returns:
        ``{"edge_precision", "edge_recall", "edge_f1"}``: means over the images in [0, 1] (an image without drawn
        edges has precision 0; without input edges, recall 1).

    Raises:
        ValueError: shapes that differ or are not ``N x 3 x S x S`` with a side the dataset has a sigma for.
    """
    from scipy.ndimage import binary_dilation

    from .data.build_photo_sets import CANNY, canny_edges

    if photos.ndim != 4 or photos.shape[1] != 3 or photos.shape[-2:] != edges.shape[-2:] or len(photos) != len(edges):
        raise ValueError(f"expected photos N x 3 x S x S and edge maps N x C x S x S, got {tuple(photos.shape)} and "
                         f"{tuple(edges.shape)}")
    side = photos.shape[-1]
    if side not in CANNY:
        raise ValueError(f"no Canny sigma for {side} px images; sides: {sorted(CANNY)}")
    rgb = ((photos.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).numpy()
    truth = (edges.detach().float().cpu()[:, 0] < 0).numpy()
    square = np.ones((2 * tolerance + 1,) * 2, dtype=bool)
    precision, recall, f1 = [], [], []
    for image, true in zip(rgb, truth):
        drawn = canny_edges(image, CANNY[side])
        p = float((drawn & binary_dilation(true, square)).sum() / drawn.sum()) if drawn.any() else 0.0
        r = float((true & binary_dilation(drawn, square)).sum() / true.sum()) if true.any() else 1.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
    return {"edge_precision": float(np.mean(precision)), "edge_recall": float(np.mean(recall)),
            "edge_f1": float(np.mean(f1))}


def motorbike_reference(judge: nn.Module | None = None, size: int = 64) -> dict:
    """What :func:`evaluate_motorbikes` compares with: the photo judge's features of the 698 real *training*
    motorbikes of ``edges2motorbikes`` at ``size`` (``"features"``, ``698 x 128``), the judge, and the index of its
    ``Motorbikes`` class. With the course's judge (``judge=None``) it is computed once per process and size."""
    if judge is None:
        return _course_reference(size)
    return _reference(judge, size)


@functools.lru_cache(maxsize=2)
def _course_reference(size: int) -> dict:
    from .models.photo_judge import load_photo_judge

    return _reference(load_photo_judge(progress=False), size)


def _reference(judge: nn.Module, size: int) -> dict:
    from .data.caltech import CALTECH_PHOTOS, edges2motorbikes, photo_set
    from .experiments.photo_judge import judge_features
    from .models.photo_judge import to_judge_input

    _, real = edges2motorbikes("train", size, "motorbikes")
    classes = photo_set("test", CALTECH_PHOTOS)[2]
    return {"judge": judge, "features": judge_features(judge, to_judge_input(real)),
            "motorbike_class": classes.index("Motorbikes")}


@torch.no_grad()
def judge_motorbikes(images: torch.Tensor, reference: dict, seed: int = 0) -> dict:
    """The photo judge's scores of motorbike photos ``N x 3 x S x S`` in [-1, 1] (S = 64 or 128), generated or
    real, against the real training motorbikes (``reference``: :func:`motorbike_reference`).

    Returns ``{"judge_motorbike", "frechet", "two_sample", "sharpness"}``: the share of the images the judge
    classes as Motorbikes (of 95 Caltech classes; in the manner of the FCN-score, Isola et al. 2017, Sec. 4.2),
    the Fréchet distance of their judge features to the reference's (lower is better; the FID formula with the
    course's judge, not FID), the held-out accuracy of a classifier telling them from as many reference photos
    (0.5: cannot be told apart; :func:`course_lib.experiments.photo_judge.two_sample_accuracy`, drawn with
    ``seed``), and their mean luma sharpness (:func:`luma_sharpness`).
    """
    from .experiments.photo_judge import _frechet, judge_features, two_sample_accuracy
    from .models.photo_judge import to_judge_input

    judge, ref = reference["judge"], reference["features"]
    x = to_judge_input(images.float().clamp(-1, 1))
    feats = judge_features(judge, x)                        # judge.eval(): the head's dropout is off
    device = next(judge.parameters()).device
    pred = judge.head(feats.to(device)).argmax(1).cpu()     # = judge(x).argmax(1), without a second pass
    pick = torch.randperm(len(ref), generator=torch.Generator().manual_seed(seed))[:len(feats)]
    return {"judge_motorbike": float((pred == reference["motorbike_class"]).double().mean()),
            "frechet": _frechet(feats, ref), "two_sample": two_sample_accuracy(ref[pick], feats, seed=seed),
            "sharpness": float(luma_sharpness(images).mean())}


def evaluate_motorbikes(G: nn.Module, test: tuple[torch.Tensor, torch.Tensor], reference: dict | None = None,
                        seed: int = 0) -> dict:
    """Scores of a generator on the held-out edges -> motorbikes pairs ``test = (edges, photos)``: the photo
    judge's (:func:`judge_motorbikes`: is it a realistic motorbike?), ``sharpness_ratio`` (its sharpness over the
    true photos'), ``duplicates`` (the share of its outputs with a near-copy among them, :func:`near_duplicate_share`:
    near 1 for a collapsed generator), :func:`edge_agreement` with the input (does it follow the input's edges?), and
    the pixel ``l1`` (in [0, 2]) and ``psnr`` (dB) against the true photos."""
    from .metrics import pixel_scores

    reference = reference or motorbike_reference()
    fake = translate(G, test[0])
    scores = judge_motorbikes(fake, reference, seed)
    scores["sharpness_ratio"] = scores["sharpness"] / float(luma_sharpness(test[1]).mean())
    scores["duplicates"] = near_duplicate_share(fake)
    return {**scores, **edge_agreement(fake, test[0]), **pixel_scores(fake, test[1])}


NEAR_DUPLICATE = 0.05
"""Mean absolute difference (images in [-1, 1]) below which two images count as near-copies: 2.5 % of the range.
Of the 100 held-out motorbike photos 6 % have a near-copy in the set (the same model of bike, photographed twice)."""


def near_duplicate_share(images: torch.Tensor, threshold: float = NEAR_DUPLICATE) -> float:
    """The share of a set of images that have a near-copy in the set: another image within ``threshold`` mean
    absolute difference. A generator that draws one or two pictures whatever its input (mode collapse: Isola et
    al. 2017, Sec. 4.3, on the unconditional GAN) scores near 1; distinct photos near 0.

    Args:
        images: ``N x C x H x W`` in [-1, 1], N >= 2.

    Raises:
        ValueError: fewer than 2 images or not ``N x C x H x W``.
    """
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(f"expected a set of at least 2 images N x C x H x W, got {tuple(images.shape)}")
    flat = images.detach().float().cpu().flatten(1)
    distance = torch.cdist(flat, flat, p=1) / flat.shape[1]
    distance.fill_diagonal_(float("inf"))
    return float((distance.min(1).values < threshold).double().mean())


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

