"""Notebook 10, part 1: super-resolution with SRCNN against bicubic interpolation, at x2, x3, x4.

After C. Dong, C. C. Loy, K. He, X. Tang, "Image Super-Resolution Using Deep Convolutional Networks",
IEEE TPAMI 38(2), 2016: one :class:`~course_lib.models.srcnn.SRCNN` per scale, trained on luma patches of
the training photos (:func:`course_lib.data.restoration.sr_patches`), scored on the four held-out photos
by PSNR and SSIM on the luma channel with a border of ``scale`` pixels cropped
(:func:`course_lib.metrics.psnr_y`, :func:`~course_lib.metrics.ssim_y`), next to bicubic interpolation.

The paper's Set5 numbers (:data:`PAPER_SET5`) are printed beside ours for orientation only: Set5 is a
different set of five images, and the paper's bicubic is MATLAB's ``imresize``.

Training (``train_srcnn``) differs from the paper, on purpose and visibly: Adam with a cosine schedule
instead of SGD with momentum 0, the residual form ``bicubic + net(bicubic)``, zero padding, L2 loss on
36 x 36 patches with random flips/rotations, and some thousand steps rather than ~10^8 back-propagations
(see :mod:`course_lib.models.srcnn`). The fast profile loads weights trained once by
``python -m course_lib.experiments.super_resolution --scale S`` (``course_lib/weights/README.md``);
``COURSE_RETRAIN=1`` (or ``retrain=True``) trains them again.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..checkpoints import train_or_load
from ..data.restoration import augment, bicubic_degrade, held_out_crops, modcrop, sr_patches
from ..device import get_device, seed_everything
from ..metrics import psnr_y, ssim_y
from ..models.srcnn import SRCNN
from ..profile import Profile, get_profile
from ..train import train_loop
from ._restoration import adam_cosine, table_markdown, weight_path

SCALES = (2, 3, 4)

PAPER_SET5 = {2: {"bicubic": 33.66, "SRCNN": 36.66}, 3: {"bicubic": 30.39, "SRCNN": 32.75},
              4: {"bicubic": 28.42, "SRCNN": 30.49}}
"""Set5 luma PSNR (dB) of Dong et al., TPAMI 2016, Table 2 (SRCNN 9-5-5 trained on ImageNet)."""

TABLE_COLUMNS = ("scale", "bicubic_psnr", "srcnn_psnr", "gain_db", "bicubic_ssim", "srcnn_ssim",
                 "paper_set5_bicubic", "paper_set5_srcnn")


@dataclass(frozen=True)
class Config:
    """Sizes of the super-resolution experiment (build with :func:`make_config`).

    Attributes:
        scales: upscaling factors.
        f2: SRCNN mapping filter size (5: "9-5-5", 1: "9-1-5").
        residual: SRCNN's global skip (see :mod:`course_lib.models.srcnn`).
        n_patches, patch_size: training patches (HR luma side in pixels).
        steps: Adam steps for each scale of ``scales`` (same order): the CPU budget goes mostly to x2.
        batch_size, lr: patches per step, initial learning rate (cosine decay to 0).
        eval_crop: side of the centred window of each held-out photo that is scored (None: whole photo).
    """

    scales: tuple[int, ...] = SCALES
    f2: int = 5
    residual: bool = True
    n_patches: int = 8000
    patch_size: int = 36
    steps: tuple[int, ...] = (6000, 300, 600)
    batch_size: int = 16
    lr: float = 1e-3
    eval_crop: int | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["scales"], d["steps"] = list(self.scales), list(self.steps)
        return d

    def steps_for(self, scale: int) -> int:
        """Training steps of the model for ``scale``."""
        if len(self.steps) != len(self.scales):
            raise ValueError(f"steps {self.steps} must give one number per scale {self.scales}")
        return int(self.steps[self.scales.index(scale)]) if scale in self.scales else int(self.steps[0])


def make_config(profile: Profile | str | None = None, **overrides) -> Config:
    """The :class:`Config` of a profile (fields can be overridden, e.g. ``steps=100``)."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = dict(scales=SCALES, f2=5, residual=True,
               n_patches=P.pick(fast=8000, full=100000), patch_size=P.pick(fast=36, full=48),
               steps=P.pick(fast=(6000, 300, 600), full=(100000, 100000, 100000)), batch_size=P.pick(fast=16, full=64),
               lr=P.pick(fast=1e-3, full=1e-3), eval_crop=None)
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown Config fields {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    return Config(**cfg)


def build_model(cfg: Config, seed: int = 0) -> SRCNN:
    """A freshly initialised SRCNN (seeded)."""
    torch.manual_seed(seed)
    return SRCNN(f2=cfg.f2, residual=cfg.residual)


def train_srcnn(model: SRCNN, scale: int, cfg: Config, *, seed: int = 0, device="cpu", progress: bool = True,
                steps: int | None = None) -> dict[str, list]:
    """Train ``model`` for one scale with the per-pixel L2 loss (the paper's MSE, Eq. 4).

    Batches of ``cfg.batch_size`` random patches of :func:`sr_patches` (with random flips and rotations),
    Adam with cosine decay from ``cfg.lr``. ``steps`` overrides ``cfg.steps_for(scale)`` (tests use a few).

    Returns:
        The :func:`course_lib.train.train_loop` history (``"loss"`` per step, ``"_seconds"``).
    """
    steps = steps or cfg.steps_for(scale)
    seed_everything(seed)
    n = min(cfg.n_patches, max(64, steps * cfg.batch_size))
    x, y = sr_patches(scale, n, cfg.patch_size, seed=seed)
    g = torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt, sched = adam_cosine(model.parameters(), cfg.lr, steps)

    def batches():
        while True:
            idx = torch.randint(0, len(x), (cfg.batch_size,), generator=g)
            yield augment(x[idx], y[idx], generator=g)

    def step(batch):
        xb, yb = (t.to(device) for t in batch)
        loss = torch.mean((model(xb) - yb) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    return train_loop(step, batches(), steps, desc=f"SRCNN x{scale}", progress=progress)


def get_srcnn(scale: int, cfg: Config, profile: Profile | str | None = None, seed: int = 0,
              retrain: bool | None = None, progress: bool = True, device="cpu") -> tuple[SRCNN, dict]:
    """Train-or-load the SRCNN of one scale (:func:`course_lib.checkpoints.train_or_load`).

    The fast profile's weights are ``course_lib/weights/srcnn_x{scale}.pt``; ``retrain=True`` or
    ``COURSE_RETRAIN=1`` trains again with ``cfg`` and overwrites them. Returns ``(model in eval mode, meta)``.
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    model = build_model(cfg, seed)
    command = f"python -m course_lib.experiments.super_resolution --scale {scale} --seed {seed}" + \
        ("" if P.is_fast else " --profile full")

    def train_fn(m):
        hist = train_srcnn(m, scale, cfg, seed=seed, device=device, progress=progress)
        return {"scale": scale, "steps": cfg.steps_for(scale), "final_loss": float(np.mean(hist["loss"][-100:])),
                "train_seconds": round(hist["_seconds"][0], 1), "config": cfg.as_dict(), "loss": hist["loss"][::10]}

    meta = train_or_load(model, weight_path(f"srcnn_x{scale}", P), train_fn, command, retrain=retrain)
    return model.to(device).eval(), meta


def degrade_held_out(scale: int, crop: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``name -> (bicubic input, HR)`` luma pairs (``float32 H x W`` in [0, 1]) of the held-out photos."""
    out = {}
    for name, im in held_out_crops("luma", crop).items():
        hr = modcrop(im, scale)
        up = bicubic_degrade(torch.from_numpy(hr)[None, None], scale)[1][0, 0].numpy()
        out[name] = (up, hr)
    return out


@torch.no_grad()
def evaluate(model: SRCNN, scale: int, crop: int | None = None, device="cpu") -> list[dict]:
    """Per held-out photo: bicubic and SRCNN PSNR / SSIM (luma, border ``scale``), and the images.

    Returns a list of dicts ``{"photo", "bicubic_psnr", "srcnn_psnr", "bicubic_ssim", "srcnn_ssim",
    "images": (bicubic, srcnn, hr)}``.
    """
    model.to(device).eval()
    rows = []
    for name, (up, hr) in degrade_held_out(scale, crop).items():
        sr = model(torch.from_numpy(up)[None, None].to(device)).clamp(0, 1)[0, 0].cpu().numpy()
        rows.append({"photo": name, "bicubic_psnr": psnr_y(up, hr, scale), "srcnn_psnr": psnr_y(sr, hr, scale),
                     "bicubic_ssim": ssim_y(up, hr, scale), "srcnn_ssim": ssim_y(sr, hr, scale),
                     "images": (up, sr, hr)})
    return rows


def summary_row(scale: int, per_photo: list[dict]) -> dict:
    """The table row of one scale: means over the held-out photos and the paper's Set5 numbers."""
    mean = {k: float(np.mean([r[k] for r in per_photo])) for k in
            ("bicubic_psnr", "srcnn_psnr", "bicubic_ssim", "srcnn_ssim")}
    return {"scale": f"x{scale}", "bicubic_psnr": mean["bicubic_psnr"], "srcnn_psnr": mean["srcnn_psnr"],
            "gain_db": mean["srcnn_psnr"] - mean["bicubic_psnr"], "bicubic_ssim": mean["bicubic_ssim"],
            "srcnn_ssim": mean["srcnn_ssim"], "paper_set5_bicubic": PAPER_SET5[scale]["bicubic"],
            "paper_set5_srcnn": PAPER_SET5[scale]["SRCNN"]}


def show_examples(per_photo: list[dict], scale: int, window: int = 96, photos=None):
    """Figure: a ``window``-pixel detail of each held-out photo, bicubic | SRCNN | HR, PSNRs in the titles."""
    import matplotlib.pyplot as plt

    rows = [r for r in per_photo if photos is None or r["photo"] in photos]
    fig, axes = plt.subplots(len(rows), 3, figsize=(7, 2.4 * len(rows)), squeeze=False, layout="constrained")
    for i, r in enumerate(rows):
        up, sr, hr = r["images"]
        y, x = (hr.shape[0] - window) // 2, (hr.shape[1] - window) // 2
        titles = (f"bicubic {r['bicubic_psnr']:.2f} dB", f"SRCNN {r['srcnn_psnr']:.2f} dB", f"{r['photo']} (HR)")
        for j, (im, t) in enumerate(zip((up, sr, hr), titles)):
            axes[i, j].imshow(im[y:y + window, x:x + window], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[i, j].set_title(t, fontsize=8)
            axes[i, j].set_axis_off()
    fig.suptitle(f"x{scale}, luma, centre {window} x {window} pixels", fontsize=9)
    return fig


def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None,
        **overrides) -> dict:
    """Train-or-load one SRCNN per scale and score it and bicubic on the held-out photos.

    Returns ``{"profile", "device", "seed", "config", "table", "per_photo", "train"}``: ``table`` has one
    row per scale (:data:`TABLE_COLUMNS`), ``per_photo`` the per-photo PSNR/SSIM, ``train`` each model's
    weight-file metadata (steps, seconds, whether it was trained now). Valid JSON.
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P, **overrides)
    device = get_device()
    table, per_photo, train = [], [], {}
    for scale in cfg.scales:
        model, meta = get_srcnn(scale, cfg, P, seed=seed, retrain=retrain, progress=progress, device=device)
        rows = evaluate(model, scale, cfg.eval_crop, device)
        table.append(summary_row(scale, rows))
        per_photo += [{"scale": scale, **{k: v for k, v in r.items() if k != "images"}} for r in rows]
        train[f"x{scale}"] = {k: v for k, v in meta.items() if k not in ("loss", "config")}
    return {"profile": P.name, "device": str(device), "seed": seed, "config": cfg.as_dict(), "table": table,
            "per_photo": per_photo, "train": train}


def main(argv=None) -> int:
    """``python -m course_lib.experiments.super_resolution --scale S``: (re)train and save one weight file."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--scale", type=int, choices=SCALES, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=("fast", "full"), default="fast")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    P = get_profile(args.profile)
    cfg = make_config(P)
    start = time.perf_counter()
    model, meta = get_srcnn(args.scale, cfg, P, seed=args.seed, retrain=True, progress=False)
    row = summary_row(args.scale, evaluate(model, args.scale, None))
    print(f"x{args.scale}: trained {meta['steps']} steps in {time.perf_counter() - start:.0f} s; "
          f"held-out luma PSNR bicubic {row['bicubic_psnr']:.2f}, SRCNN {row['srcnn_psnr']:.2f} "
          f"({row['gain_db']:+.2f} dB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
