"""Notebook 10, part 2: inpainting a central hole with a Context Encoder, L2-only vs L2 + adversarial, against
biharmonic inpainting.

After D. Pathak, P. Krähenbühl, J. Donahue, T. Darrell, A. A. Efros, "Context Encoders: Feature Learning by
Inpainting", CVPR 2016. 64 x 64 RGB crops with the central 32 x 32 square hidden (the paper: 128 x 128 and
64 x 64). Two :class:`~course_lib.models.context_encoder.ContextEncoder` nets start from the same weights
and see the same batches:

* ``CE (L2)`` -- only the masked reconstruction loss (:func:`course_lib.losses.masked_l2_loss`, Eq. 1);
* ``CE (L2+adv)`` -- ``0.999 * L_rec + 0.001 * L_adv`` (Eq. 4, the paper's weights), where a
  :class:`~course_lib.models.context_encoder.HoleDiscriminator` judges the 32 x 32 hole (real centre vs
  painted centre) with the non-saturating GAN loss (:class:`course_lib.losses.GANLoss` ``'vanilla'``).

The classical baseline, ``skimage.restoration.inpaint_biharmonic``, fills the hole with the smoothest
surface (biharmonic equation) that matches the border; it needs no training. Scores on crops of the
held-out photos: PSNR and mean L1 over the hole pixels (Pathak et al. report both, Table 2), and SSIM of the
whole completed crop. The fast profile loads ``course_lib/weights/ce_l2.pt`` and ``ce_adv.pt``
(``python -m course_lib.experiments.inpainting``); ``COURSE_RETRAIN=1`` trains again.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..checkpoints import train_or_load
from ..data.photos import load_photo
from ..data.restoration import RESTORATION_SPLITS, _random_patches, apply_mask, augment, center_mask, colour_patches
from ..device import get_device, seed_everything
from ..losses import GANLoss, masked_l2_loss
from ..metrics import masked_mse, masked_psnr
from ..models.context_encoder import ContextEncoder, HoleDiscriminator
from ..profile import Profile, get_profile
from ..train import train_loop
from ._restoration import adam_cosine, table_markdown, weight_path

METHODS = ("mid-grey fill", "biharmonic", "CE (L2)", "CE (L2+adv)")
TABLE_COLUMNS = ("method", "hole_psnr", "hole_l1", "ssim")


@dataclass(frozen=True)
class Config:
    """Sizes of the inpainting experiment (build with :func:`make_config`).

    Attributes:
        image_size, hole: crop side and side of the central hole (pixels).
        base: channels of the first encoder level.
        n_patches: training crops (colour training photos).
        steps, batch_size, lr: Adam (beta1 = 0.5, as in DCGAN and the paper) steps, crops per step,
            learning rate of both nets (cosine decay).
        lambda_adv: weight of the adversarial loss; the reconstruction loss gets ``1 - lambda_adv``.
        n_eval_per_photo: held-out crops per held-out photo.
    """

    image_size: int = 64
    hole: int = 32
    base: int = 32
    n_patches: int = 4000
    steps: int = 300
    batch_size: int = 16
    lr: float = 5e-4
    lambda_adv: float = 0.001
    n_eval_per_photo: int = 8

    def as_dict(self) -> dict:
        return asdict(self)


def make_config(profile: Profile | str | None = None, **overrides) -> Config:
    """The :class:`Config` of a profile (fields can be overridden)."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = dict(image_size=P.pick(fast=64, full=128), hole=P.pick(fast=32, full=64), base=P.pick(fast=32, full=64),
               n_patches=P.pick(fast=4000, full=100000), steps=P.pick(fast=300, full=50000),
               batch_size=P.pick(fast=16, full=64), lr=P.pick(fast=5e-4, full=2e-4), lambda_adv=0.001,
               n_eval_per_photo=P.pick(fast=8, full=32))
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown Config fields {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    return Config(**cfg)


def build_models(cfg: Config, seed: int = 0) -> tuple[ContextEncoder, HoleDiscriminator]:
    """Generator and discriminator, seeded (the same generator weights for both variants)."""
    torch.manual_seed(seed)
    G = ContextEncoder(cfg.image_size, 3, cfg.base)
    torch.manual_seed(seed + 1)
    D = HoleDiscriminator(cfg.hole, 3, cfg.base)
    return G, D


def _hole(x: torch.Tensor, cfg: Config) -> torch.Tensor:
    a = (cfg.image_size - cfg.hole) // 2
    return x[..., a:a + cfg.hole, a:a + cfg.hole]


def train_context_encoder(G: ContextEncoder, cfg: Config, adversarial: bool, *, D: HoleDiscriminator | None = None,
                          seed: int = 0, device="cpu", progress: bool = True, steps: int | None = None) -> dict:
    """Train ``G`` (and ``D`` when ``adversarial``) on crops of the colour training photos.

    Logs ``"rec"`` (masked L2), and with ``adversarial`` also ``"adv"`` (generator's GAN loss) and
    ``"loss_D"``. Returns the ``train_loop`` history.
    """
    steps = steps or cfg.steps
    seed_everything(seed)
    crops = colour_patches(min(cfg.n_patches, max(64, steps * cfg.batch_size)), cfg.image_size, seed=seed)
    g = torch.Generator().manual_seed(seed)
    mask = center_mask(cfg.image_size, cfg.hole, cfg.batch_size).to(device)
    G.to(device).train()
    opt_G, sched_G = adam_cosine(G.parameters(), cfg.lr, steps, betas=(0.5, 0.999))
    if adversarial:
        if D is None:
            raise ValueError("adversarial training needs a discriminator D")
        D.to(device).train()
        opt_D, sched_D = adam_cosine(D.parameters(), cfg.lr, steps, betas=(0.5, 0.999))
        gan = GANLoss("vanilla").to(device)

    def batches():
        while True:
            idx = torch.randint(0, len(crops), (cfg.batch_size,), generator=g)
            yield augment(crops[idx], generator=g)[0]

    def step(x):
        x = x.to(device)
        painted = G(apply_mask(x, mask))
        logs = {}
        if adversarial:
            d_loss = 0.5 * (gan(D(_hole(x, cfg)), True) + gan(D(_hole(painted, cfg).detach()), False))
            opt_D.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_D.step()
            sched_D.step()
            logs["loss_D"] = d_loss.item()
        rec = masked_l2_loss(painted, x, mask)
        loss = rec
        if adversarial:
            adv = gan(D(_hole(painted, cfg)), True)
            loss = (1 - cfg.lambda_adv) * rec + cfg.lambda_adv * adv
            logs["adv"] = adv.item()
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
        sched_G.step()
        logs["rec"] = rec.item()
        return logs

    return train_loop(step, batches(), steps, desc="CE (L2+adv)" if adversarial else "CE (L2)", progress=progress)


def get_context_encoder(adversarial: bool, cfg: Config, profile: Profile | str | None = None, seed: int = 0,
                        retrain: bool | None = None, progress: bool = True, device="cpu") -> tuple[ContextEncoder, dict]:
    """Train-or-load one variant (``ce_l2.pt`` / ``ce_adv.pt``); returns ``(G in eval mode, meta)``."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    G, D = build_models(cfg, seed)
    stem = "ce_adv" if adversarial else "ce_l2"
    command = f"python -m course_lib.experiments.inpainting --seed {seed}" + ("" if P.is_fast else " --profile full")

    def train_fn(m):
        hist = train_context_encoder(m, cfg, adversarial, D=D, seed=seed, device=device, progress=progress)
        return {"steps": cfg.steps, "adversarial": adversarial, "final_rec": float(np.mean(hist["rec"][-50:])),
                "train_seconds": round(hist["_seconds"][0], 1), "config": cfg.as_dict(), "rec": hist["rec"][::5]}

    meta = train_or_load(G, weight_path(stem, P), train_fn, command, retrain=retrain)
    return G.to(device).eval(), meta


def held_out_crops(cfg: Config, seed: int = 0) -> torch.Tensor:
    """``float32 N x 3 x S x S`` crops of the held-out photos, ``cfg.n_eval_per_photo`` per photo, at
    seeded random textured positions (the same rule as the training crops)."""
    out = []
    for k, name in enumerate(RESTORATION_SPLITS["test"]):
        im = load_photo(name).astype(np.float32) / 255.0
        pos = _random_patches([im], cfg.image_size, cfg.n_eval_per_photo, np.random.default_rng(seed + 100 + k),
                              0.03, np.ones(1))
        out += [im[y:y + cfg.image_size, x:x + cfg.image_size] for _, y, x in pos]
    return torch.from_numpy(np.stack(out).transpose(0, 3, 1, 2).copy())


def biharmonic(masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``skimage.restoration.inpaint_biharmonic`` on each image of ``N x 3 x H x W`` (hole = ``mask == 1``)."""
    from skimage.restoration import inpaint_biharmonic

    out = []
    for img, m in zip(masked, mask):
        filled = inpaint_biharmonic(img.numpy().transpose(1, 2, 0), m[0].numpy().astype(bool), channel_axis=-1)
        out.append(torch.from_numpy(np.clip(filled, 0, 1).transpose(2, 0, 1).astype(np.float32)))
    return torch.stack(out)


@torch.no_grad()
def evaluate(models: dict, cfg: Config, seed: int = 0, device="cpu") -> tuple[list[dict], dict]:
    """Fill the hole of every held-out crop with each method and score it.

    Args:
        models: ``{"CE (L2)": G, "CE (L2+adv)": G}`` (either may be missing).

    Returns:
        ``(table, outputs)``: one row per method (:data:`TABLE_COLUMNS`; PSNR in dB with data range 1,
        L1 mean absolute error in [0, 1] over the hole's pixels and channels, SSIM of the whole completed crop),
        and ``outputs`` with ``"clean"``, ``"masked"`` and one ``N x 3 x S x S`` tensor per method.
    """
    from skimage.metrics import structural_similarity

    clean = held_out_crops(cfg, seed)
    mask = center_mask(cfg.image_size, cfg.hole, len(clean))
    masked = apply_mask(clean, mask)
    outputs = {"clean": clean, "masked": masked, "mid-grey fill": masked, "biharmonic": biharmonic(masked, mask)}
    for name, G in models.items():
        G.to(device).eval()
        outputs[name] = G.complete(masked.to(device), mask.to(device)).cpu()
    table = []
    for name in [m for m in METHODS if m in outputs]:
        out = outputs[name]
        psnrs = [masked_psnr(o, c, m) for o, c, m in zip(out, clean, mask)]
        l1 = float(((out - clean).abs() * mask).sum() / (mask.sum() * 3))
        ssim = np.mean([structural_similarity(c.numpy().transpose(1, 2, 0), o.numpy().transpose(1, 2, 0),
                                              channel_axis=-1, data_range=1.0) for o, c in zip(out, clean)])
        table.append({"method": name, "hole_psnr": float(np.mean(psnrs)), "hole_l1": l1, "ssim": float(ssim),
                      "hole_mse": masked_mse(out, clean, mask.expand_as(out))})
    return table, outputs


def show_examples(outputs: dict, indices, methods=METHODS[1:]):
    """Figure: rows = crops, columns = masked input, each method, original."""
    import matplotlib.pyplot as plt

    cols = ["masked", *[m for m in methods if m in outputs], "clean"]
    indices = list(indices)
    fig, axes = plt.subplots(len(indices), len(cols), figsize=(1.6 * len(cols), 1.7 * len(indices)), squeeze=False,
                             layout="constrained")
    for i, k in enumerate(indices):
        for j, c in enumerate(cols):
            axes[i, j].imshow(outputs[c][k].numpy().transpose(1, 2, 0).clip(0, 1))
            axes[i, j].set_axis_off()
            if i == 0:
                axes[i, j].set_title(c, fontsize=8)
    return fig


def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None,
        **overrides) -> dict:
    """Train-or-load both Context Encoders and compare them with biharmonic inpainting (and a mid-grey fill).

    Returns ``{"profile", "device", "seed", "config", "table", "train"}`` (valid JSON).
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P, **overrides)
    device = get_device()
    models, train = {}, {}
    for adversarial, name in ((False, "CE (L2)"), (True, "CE (L2+adv)")):
        models[name], meta = get_context_encoder(adversarial, cfg, P, seed=seed, retrain=retrain, progress=progress,
                                                 device=device)
        train[name] = {k: v for k, v in meta.items() if k not in ("rec", "config")}
    table, _ = evaluate(models, cfg, seed, device)
    return {"profile": P.name, "device": str(device), "seed": seed, "config": cfg.as_dict(), "table": table,
            "train": train}


def main(argv=None) -> int:
    """``python -m course_lib.experiments.inpainting``: (re)train and save both Context Encoders."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=("fast", "full"), default="fast")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    P = get_profile(args.profile)
    cfg = make_config(P)
    start = time.perf_counter()
    models = {}
    for adversarial, name in ((False, "CE (L2)"), (True, "CE (L2+adv)")):
        models[name], _ = get_context_encoder(adversarial, cfg, P, seed=args.seed, retrain=True, progress=False)
    print(f"trained both in {time.perf_counter() - start:.0f} s")
    print(table_markdown(evaluate(models, cfg, args.seed)[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
