"""Training and scoring image-to-image translation: pix2pix (notebooks 06, 07) and CycleGAN (08).

Small explicit steps, as in the papers:

* :func:`pix2pix_step` -- one discriminator update (real pair vs fake pair, both conditioned on the
  input) then one generator update with ``L_cGAN + lambda * L1`` (Isola et al. 2017, Eq. 4; the D
  loss is halved, Sec. 3.3), Adam 2e-4 with beta1 = 0.5;
* :func:`cyclegan_step` -- both generators with the LSGAN loss, cycle loss lambda = 10 and identity
  loss 0.5 * lambda, then both discriminators on fakes drawn from an :class:`ImagePool` of 50 (Zhu
  et al. 2017, Sec. 4 and 7.1);
* :func:`evaluate_shoes` -- the scores of the offline edges -> shoes task: shoe-type accuracy judged
  by the course's Fashion-MNIST recognizer restricted to the three shoe classes (in the manner of the
  FCN-score, Sec. 4.2), the Fréchet recognizer distance to the real test shoes, and the pixel L1 / PSNR.

Sizes come from :class:`TranslationConfig` (:func:`make_config` picks them per profile). Generators
are evaluated in ``eval()`` mode: dropout off and BatchNorm running statistics (the authors' test
script keeps train mode unless ``--eval``; we say which we use).
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .checkpoints import WEIGHTS_DIR, train_or_load
from .device import get_device, seed_everything
from .losses import GANLoss, cycle_consistency_loss, identity_loss, pix2pix_generator_loss
from .models.pix2pix import ImagePool, define_D, define_G, init_weights, PatchDiscriminator, SCALED_FAMILY_32
from .profile import Profile, get_profile
from .train import train_loop

VARIANTS = {"L1": (False, True), "cGAN": (True, False), "L1+cGAN": (True, True)}
"""The rows of pix2pix's Table 1: name -> (use_gan, use_l1)."""


@dataclass(frozen=True)
class TranslationConfig:
    """Sizes of one pix2pix / CycleGAN run (build it with :func:`make_config`).

    Attributes:
        dataset: ``"shoes"`` (offline edges -> shoes, 32 x 32) or ``"facades"`` (official download, 256).
        size: image side.
        generator: :func:`~course_lib.models.pix2pix.define_G` name (``"unet_32"``, ``"unet_256"``, ...).
        discriminator: a key of :data:`~course_lib.models.pix2pix.SCALED_FAMILY_32` (at 32) or
            ``"basic"`` (70 x 70 at 256).
        ngf, ndf: widths of G and D.
        n_train, n_test: training pairs and held-out pairs.
        steps, batch_size: optimisation steps and pairs per step (fast profile: 3,000 steps of 32 pairs = 24
            epochs of the 4,000 training pairs; at 400 steps every objective was still far from its plateau:
            the L1 generator's FRD fell from 200 at 400 steps to 20 at 3,000 and 17 at 4,000).
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

    dataset: str = "shoes"
    size: int = 32
    generator: str = "unet_32"
    discriminator: str = "10x10"
    ngf: int = 8
    ndf: int = 8
    n_train: int = 4000
    n_test: int = 1000
    steps: int = 3000
    batch_size: int = 32
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_l1: float = 100.0
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    cycle_generator: str = "unet_32"
    cycle_norm: str = "batch"
    pool_size: int = 50
    cycle_steps: int = 3000

    def as_dict(self) -> dict:
        return asdict(self)


def make_config(profile: Profile | str | None = None, **overrides) -> TranslationConfig:
    """The :class:`TranslationConfig` of a profile (``fast``: 32 x 32 edges -> shoes on a CPU;
    ``full``: the paper's facades settings, 256 x 256, batch 1, 200 epochs of 400 images), with overrides.

    Raises:
        ValueError: for unknown fields.
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = TranslationConfig().as_dict() if P.is_fast else dict(
        TranslationConfig().as_dict(), dataset="facades", size=256, generator="unet_256", discriminator="basic",
        ngf=64, ndf=64, n_train=400, n_test=106, steps=200 * 400, batch_size=1, cycle_generator="resnet_9blocks",
        cycle_norm="instance", cycle_steps=200 * 400)
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown config fields {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    return TranslationConfig(**cfg)


# --- data ------------------------------------------------------------------------------------------

def load_pairs(cfg: TranslationConfig):
    """``(train_inputs, train_targets, test_set)`` of the config's dataset.

    ``shoes``: tensors ``N x 1 x 32 x 32`` and a :class:`~course_lib.data.shoes.PairedShoes` test set.
    ``facades``: the official set (downloaded on first use, labels -> photo = ``BtoA``), tensors
    ``N x 3 x 256 x 256``; its test set is a pair of tensors.
    """
    if cfg.dataset == "shoes":
        from .data.shoes import make_edges2shoes

        train = make_edges2shoes("train", cfg.n_train)
        return train.edges, train.shoes, make_edges2shoes("test", cfg.n_test)
    if cfg.dataset == "facades":
        from .data.official import AlignedDataset, download_official

        folder = download_official("facades")
        tr = AlignedDataset(folder / "train", direction="BtoA", size=cfg.size)
        te = AlignedDataset(folder / "test", direction="BtoA", size=cfg.size)
        x, y = map(torch.stack, zip(*[tr[i] for i in range(min(cfg.n_train, len(tr)))]))
        xt, yt = map(torch.stack, zip(*[te[i] for i in range(min(cfg.n_test, len(te)))]))
        return x, y, (xt, yt)
    raise ValueError(f"unknown dataset {cfg.dataset!r}")


def random_batches(*tensors: torch.Tensor, batch_size: int, seed: int = 0):
    """Endless random mini-batches (without replacement within an epoch) of aligned tensors."""
    g = torch.Generator().manual_seed(seed)
    n = len(tensors[0])
    while True:
        order = torch.randperm(n, generator=g)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            yield tuple(t[idx] for t in tensors)


# --- models ----------------------------------------------------------------------------------------

def build_generator(cfg: TranslationConfig, in_channels: int = 1, out_channels: int = 1) -> nn.Module:
    """pix2pix's U-Net with dropout and BatchNorm, initialised N(0, 0.02)."""
    return define_G(cfg.generator, in_channels, out_channels, cfg.ngf, "batch", use_dropout=True)


def build_discriminator(cfg: TranslationConfig, in_channels: int, name: str | None = None) -> nn.Module:
    """The discriminator ``name`` (default ``cfg.discriminator``): a scaled PatchGAN at 32 px
    (:data:`SCALED_FAMILY_32`) or a :func:`define_D` name at 256 px."""
    name = name or cfg.discriminator
    if name in SCALED_FAMILY_32:
        return init_weights(PatchDiscriminator(in_channels, SCALED_FAMILY_32[name], cfg.ndf, "batch"))
    if name in ("basic", "pixel"):
        return define_D(name, in_channels, cfg.ndf)
    n = {"16x16": 1, "70x70": 3, "286x286": 5}.get(name)
    if n is None:
        raise ValueError(f"unknown discriminator {name!r}")
    return define_D("n_layers", in_channels, cfg.ndf, n_layers=n)


def _adam(params, cfg):
    return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, 0.999))


# --- pix2pix ---------------------------------------------------------------------------------------

def pix2pix_step(G, D, opt_G, opt_D, x, y, criterion: GANLoss, lambda_l1: float = 100.0,
                 use_gan: bool = True, use_l1: bool = True) -> dict:
    """One pix2pix iteration on a batch ``x -> y`` (in [-1, 1]); returns the losses as floats.

    D (when ``use_gan``) learns to tell ``cat[x, y]`` (real) from ``cat[x, G(x)]`` (fake), its loss
    halved (Isola et al. 2017, Sec. 3.3); then G minimises
    :func:`~course_lib.losses.pix2pix_generator_loss`.
    """
    fake = G(x)
    logs = {}
    if use_gan:
        d_real = D(torch.cat([x, y], 1))
        d_fake = D(torch.cat([x, fake.detach()], 1))
        loss_D = 0.5 * (criterion(d_real, True) + criterion(d_fake, False))
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        logs["D"] = loss_D.item()
    loss_G, parts = pix2pix_generator_loss(D, x, fake, y, criterion, lambda_l1, use_gan, use_l1)
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    logs.update(parts)
    return logs


def train_pix2pix(cfg: TranslationConfig, variant: str = "L1+cGAN", seed: int = 0, data=None,
                  discriminator: str | None = None, steps: int | None = None, progress: bool = True,
                  G: nn.Module | None = None) -> tuple[nn.Module, dict]:
    """Train a pix2pix generator from scratch; returns ``(G in eval mode, history)``.

    Args:
        variant: ``"L1"``, ``"cGAN"`` or ``"L1+cGAN"`` (:data:`VARIANTS`).
        data: ``(inputs, targets)`` tensors (default: :func:`load_pairs`).
        discriminator: name for :func:`build_discriminator` (default ``cfg.discriminator``).
        steps: overrides ``cfg.steps``.
        G: train this generator (built with :func:`build_generator` when None).
    """
    use_gan, use_l1 = VARIANTS[variant]
    device = get_device()
    seed_everything(seed)
    x, y = data if data is not None else load_pairs(cfg)[:2]
    G = (G or build_generator(cfg, x.shape[1], y.shape[1])).to(device).train()
    D = build_discriminator(cfg, x.shape[1] + y.shape[1], discriminator).to(device).train()
    opt_G, opt_D = _adam(G.parameters(), cfg), _adam(D.parameters(), cfg)
    criterion = GANLoss("vanilla").to(device)

    def step(batch):
        xb, yb = (t.to(device) for t in batch)
        return pix2pix_step(G, D, opt_G, opt_D, xb, yb, criterion, cfg.lambda_l1, use_gan, use_l1)

    history = train_loop(step, random_batches(x, y, batch_size=cfg.batch_size, seed=seed), steps or cfg.steps,
                         desc=f"pix2pix {variant}", progress=progress)
    return G.eval(), history


# --- CycleGAN --------------------------------------------------------------------------------------

class CycleGAN(nn.Module):
    """The four networks of CycleGAN: ``G_AB: A -> B``, ``G_BA: B -> A`` and the unconditional
    discriminators ``D_A`` (real A vs G_BA's fakes) and ``D_B`` (real B vs G_AB's fakes)."""

    def __init__(self, cfg: TranslationConfig, channels_a: int = 1, channels_b: int = 1):
        super().__init__()
        self.G_AB = define_G(cfg.cycle_generator, channels_a, channels_b, cfg.ngf, cfg.cycle_norm)
        self.G_BA = define_G(cfg.cycle_generator, channels_b, channels_a, cfg.ngf, cfg.cycle_norm)
        self.D_A = build_discriminator(cfg, channels_a)
        self.D_B = build_discriminator(cfg, channels_b)


def cyclegan_step(m: CycleGAN, opt_G, opt_D, a, b, criterion: GANLoss, pool_A: ImagePool, pool_B: ImagePool,
                  lambda_cycle: float = 10.0, lambda_identity: float = 0.5) -> dict:
    """One CycleGAN iteration on unpaired batches ``a`` (domain A) and ``b`` (domain B).

    Generators: ``L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A) + lambda (cycle_A + cycle_B)
    + lambda * lambda_identity (idt_A + idt_B)`` (Zhu et al. 2017, Eq. 3 and Sec. 5.2). Then each
    discriminator, with its loss halved, on real images vs fakes taken from the image pool.
    """
    fake_b, fake_a = m.G_AB(a), m.G_BA(b)
    rec_a, rec_b = m.G_BA(fake_b), m.G_AB(fake_a)
    for D in (m.D_A, m.D_B):
        D.requires_grad_(False)
    gan = criterion(m.D_B(fake_b), True, for_discriminator=False) + criterion(m.D_A(fake_a), True, for_discriminator=False)
    cyc = cycle_consistency_loss(a, rec_a) + cycle_consistency_loss(b, rec_b)
    idt = identity_loss(b, m.G_AB(b)) + identity_loss(a, m.G_BA(a)) if lambda_identity > 0 else a.new_zeros(())
    loss_G = gan + lambda_cycle * cyc + lambda_cycle * lambda_identity * idt
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    for D in (m.D_A, m.D_B):
        D.requires_grad_(True)
    pooled_b, pooled_a = pool_B.query(fake_b), pool_A.query(fake_a)
    loss_D = 0.5 * (criterion(m.D_B(b), True) + criterion(m.D_B(pooled_b), False)) + \
        0.5 * (criterion(m.D_A(a), True) + criterion(m.D_A(pooled_a), False))
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    opt_D.step()
    return {"G_gan": gan.item(), "cycle": cyc.item(), "identity": idt.item(), "D": loss_D.item()}


def linear_decay(steps: int):
    """CycleGAN's schedule as a ``LambdaLR`` factor: 1 for the first half of ``steps``, then linearly
    down to 0 at the end (Zhu et al. 2017, Sec. 7.1: 100 epochs constant, 100 epochs decay)."""
    half = steps // 2
    return lambda step: 1.0 if step < half else max(0.0, 1.0 - (step - half) / max(1, steps - half))


def train_cyclegan(cfg: TranslationConfig, a: torch.Tensor, b: torch.Tensor, seed: int = 0, steps: int | None = None,
                   progress: bool = True, model: CycleGAN | None = None) -> tuple[CycleGAN, dict]:
    """Train CycleGAN on unpaired images ``a`` and ``b`` (``N x C x H x W`` in [-1, 1]) with the LSGAN
    loss; returns ``(model in eval mode, history)``."""
    device = get_device()
    seed_everything(seed)
    m = (model or CycleGAN(cfg, a.shape[1], b.shape[1])).to(device).train()
    steps = steps or cfg.cycle_steps
    opt_G = _adam(itertools.chain(m.G_AB.parameters(), m.G_BA.parameters()), cfg)
    opt_D = _adam(itertools.chain(m.D_A.parameters(), m.D_B.parameters()), cfg)
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, linear_decay(steps)) for o in (opt_G, opt_D)]
    criterion = GANLoss("lsgan").to(device)
    pool_A, pool_B = ImagePool(cfg.pool_size, seed), ImagePool(cfg.pool_size, seed + 1)
    batches_a = random_batches(a, batch_size=cfg.batch_size, seed=seed)
    batches_b = random_batches(b, batch_size=cfg.batch_size, seed=seed + 1)

    def step(batch):
        (ab,), (bb,) = batch
        logs = cyclegan_step(m, opt_G, opt_D, ab.to(device), bb.to(device), criterion, pool_A, pool_B,
                             cfg.lambda_cycle, cfg.lambda_identity)
        for s in scheds:
            s.step()
        return logs

    history = train_loop(step, zip(batches_a, batches_b), steps, desc="CycleGAN", progress=progress)
    return m.eval(), history


# --- scores ----------------------------------------------------------------------------------------

@torch.no_grad()
def translate(G: nn.Module, x: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """``G(x)`` in eval mode, batched, on G's device; returns CPU float32."""
    G.eval()
    device = next(G.parameters()).device
    return torch.cat([G(x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)])


def evaluate_shoes(G: nn.Module, test, recognizer: nn.Module | None = None) -> dict:
    """Scores of a generator on the paired edges -> shoes test set
    (:class:`~course_lib.data.shoes.PairedShoes`).

    Returns ``{"type_accuracy", "frd", "l1", "psnr"}``: shoe-type accuracy in [0, 1] (the recognizer's
    decision among sandal / sneaker / ankle boot equals the true type; real test shoes score about
    0.95), the Fréchet recognizer distance to the real test shoes (lower is better; not FID), and the
    pixel L1 (in [0, 2]) and PSNR (dB) against the true shoes.
    """
    from .data.shoes import SHOE_CLASSES
    from .metrics import frechet_recognizer_distance, pixel_scores, recognizer_accuracy
    from .models.recognizer import load_recognizer

    recognizer = recognizer or load_recognizer(progress=False)
    fake = translate(G, test.edges)
    return {"type_accuracy": recognizer_accuracy(fake, test.types, recognizer, SHOE_CLASSES),
            "frd": frechet_recognizer_distance(fake, test.shoes, recognizer), **pixel_scores(fake, test.shoes)}


def weights_path(name: str):
    """``course_lib/weights/<name>.pt``."""
    return WEIGHTS_DIR / f"{name}.pt"


def train_or_load_pix2pix(cfg: TranslationConfig, variant: str, name: str, command: str, seed: int = 0,
                          discriminator: str | None = None, retrain: bool | None = None, progress: bool = True,
                          data=None) -> tuple[nn.Module, dict]:
    """Load generator weights ``course_lib/weights/<name>.pt`` or train them (:func:`train_pix2pix`) and
    save them with ``command``; returns ``(G in eval mode, meta)``."""
    seed_everything(seed)  # the initial weights depend on the seed only
    G = build_generator(cfg)
    holder = {}

    def fit(model):
        _, history = train_pix2pix(cfg, variant, seed, data, discriminator, progress=progress, G=model)
        holder["history"] = history
        return {"variant": variant, "seed": seed, "steps": cfg.steps, "train_seconds": round(history["_seconds"][0], 1)}

    meta = train_or_load(G, weights_path(name), fit, command, retrain=retrain)
    meta["history"] = holder.get("history")
    return G.eval(), meta
