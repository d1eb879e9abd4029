"""Notebook 03: colorization as regression (L2) vs classification over ab bins, with and without rebalancing.

After Zhang, Isola & Efros, "Colorful Image Colorization", ECCV 2016 (Sec. 2-3), in miniature:

* data -- real photos that ship in the wheels (:mod:`course_lib.data.photos`): random crops of the
  *training* photos, scored on the whole *held-out* photos (never seen in training), all downscaled so
  that their shorter side is ``image_side`` pixels. Input ``L``, target ``ab``
  (:mod:`course_lib.color`); targets at half resolution, as the network predicts there.
* three networks with the same body (:class:`course_lib.models.colorization.ColorizationNet`, same
  initial body weights for a seed):

  - ``L2`` -- the regression head trained with the mean squared ab error;
  - ``classification`` -- the classification head over the Q = 261 in-gamut bins, trained with the
    cross-entropy against the soft-encoded ground truth;
  - ``rebalanced`` -- the same with the class-rebalancing weights of the training pixels.

* decoding of the classifiers -- mean, annealed mean (T = 0.38) and mode (:func:`course_lib.color.decode`).
* metrics on the held-out photos (:mod:`course_lib.metrics`): the raw-accuracy AuC of the per-pixel ab
  error over thresholds 0-150, colourfulness (Hasler & Süsstrunk 2003) of the colourized RGB image, and
  the ab MSE.

:func:`run` trains the three models and returns the table; the notebook loads weights trained by the same
code (:func:`load_or_train`, the command in ``course_lib/weights/README.md``).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import color
from ..checkpoints import WEIGHTS_DIR, train_or_load
from ..data.photos import PHOTO_SPLITS, load_photo
from ..device import get_device, seed_everything
from ..losses import rebalanced_cross_entropy_sparse
from ..metrics import ab_accuracy_auc, ab_mse, colourfulness
from ..models.colorization import ColorizationNet
from ..profile import Profile, get_profile
from ..train import train_loop

MODELS = ("L2", "classification", "rebalanced")
"""The three trained models, in table order."""
MODEL_KIND = {"L2": "regression", "classification": "classification", "rebalanced": "classification"}

TABLE_COLUMNS = ("model", "decoding", "auc", "colourfulness", "colourfulness_vs_L2", "mse")


@dataclass(frozen=True)
class Config:
    """Sizes of one run; build it with :func:`make_config`.

    Attributes:
        image_side: every photo is resized so that its shorter side has this many pixels.
        crop: side of the square training crops (multiple of 4).
        n_crops: training crops drawn from the training photos (half of them mirrored).
        width: channels of the body's first level.
        steps, batch_size, lr: Adam steps, crops per step, peak learning rate (cosine decay to 0).
        T: temperature of the annealed mean.
    """

    image_side: int = 96
    crop: int = 32
    n_crops: int = 4000
    width: int = 16
    steps: int = 800
    batch_size: int = 32
    lr: float = 3e-3
    T: float = color.ANNEAL_T

    def as_dict(self) -> dict:
        return asdict(self)


def make_config(profile: Profile | str | None = None, **overrides) -> Config:
    """The :class:`Config` of a profile (``"fast"``, ``"full"``, a Profile or None for the active one),
    with optional field overrides (e.g. ``steps=50``)."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = dict(image_side=P.pick(fast=96, full=256), crop=P.pick(fast=32, full=128),
               n_crops=P.pick(fast=4000, full=20000), width=P.pick(fast=16, full=64),
               steps=P.pick(fast=800, full=20000), batch_size=P.pick(fast=32, full=32),
               lr=P.pick(fast=3e-3, full=1e-3), T=color.ANNEAL_T)
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ValueError(f"unknown Config fields {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    if cfg["crop"] % 4:
        raise ValueError(f"crop must be a multiple of 4, got {cfg['crop']}")
    return Config(**cfg)


# ----------------------------------------------------------------------------- data

def resize_photo(image: np.ndarray, side: int) -> np.ndarray:
    """Resize (anti-aliased) so the shorter side is ``side``, then crop both sides down to multiples of 4.
    Returns ``uint8 H x W x 3``."""
    from skimage.transform import resize

    h, w = image.shape[:2]
    s = side / min(h, w)
    out = resize(image, (round(h * s), round(w * s)), anti_aliasing=True, preserve_range=True)
    out = np.clip(out, 0, 255).round().astype(np.uint8)
    return out[:out.shape[0] // 4 * 4, :out.shape[1] // 4 * 4]


def half_resolution(ab: torch.Tensor) -> torch.Tensor:
    """The ab target at the network's output resolution: 2 x 2 average pooling of ``N x 2 x H x W``."""
    return F.avg_pool2d(ab, 2)


@dataclass
class Data:
    """Training crops and held-out photos, as tensors.

    Attributes:
        L, ab: training crops, ``N x 1 x c x c`` (L in [0, 100]) and ``N x 2 x c/2 x c/2`` (ab at the
            output resolution).
        index, weight: soft-encoded ``ab``, ``int64`` / ``float32 N x 5 x c/2 x c/2``
            (:func:`course_lib.color.soft_encode_sparse`).
        prior: empirical bin distribution of the training targets, ``float64 Q``.
        weights: rebalancing weights, ``float32 Q``.
        test_names: the held-out photos; test_rgb (``uint8 H x W x 3``), test_L and test_ab (``1 x 1 x H x W``,
            ``1 x 2 x H x W``) per photo.
    """

    L: torch.Tensor
    ab: torch.Tensor
    index: torch.Tensor
    weight: torch.Tensor
    prior: torch.Tensor
    weights: torch.Tensor
    test_names: list
    test_rgb: list
    test_L: list
    test_ab: list


def make_data(cfg: Config, seed: int = 0) -> Data:
    """Crops of the training photos and the held-out photos of :data:`course_lib.data.photos.PHOTO_SPLITS`."""
    bins = color.ab_bins()
    train = [resize_photo(load_photo(n), cfg.image_side) for n in PHOTO_SPLITS["train"]]
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(cfg.n_crops):
        im = train[rng.integers(len(train))]
        y = rng.integers(im.shape[0] - cfg.crop + 1)
        x = rng.integers(im.shape[1] - cfg.crop + 1)
        c = im[y:y + cfg.crop, x:x + cfg.crop]
        crops.append(c[:, ::-1] if rng.random() < 0.5 else c)
    L, ab_full = color.lab_tensors(np.stack(crops))
    ab = half_resolution(ab_full)
    index, weight = color.soft_encode_sparse(ab, bins)
    prior = color.bin_distribution(ab, bins)
    weights = color.rebalancing_weights(prior, bins)
    names = list(PHOTO_SPLITS["test"])
    rgb = [resize_photo(load_photo(n), cfg.image_side) for n in names]
    labs = [color.lab_tensors(im[None]) for im in rgb]
    return Data(L, ab, index, weight, prior, weights, names, rgb, [t[0] for t in labs], [t[1] for t in labs])


# ----------------------------------------------------------------------------- models and training

def build_model(name: str, cfg: Config, seed: int = 0) -> ColorizationNet:
    """A fresh model for one of :data:`MODELS`; the body's initial weights depend only on ``seed``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; use one of {MODELS}")
    torch.manual_seed(seed)
    return ColorizationNet(MODEL_KIND[name], len(color.AB_BINS), cfg.width)


def train_model(model: ColorizationNet, name: str, data: Data, cfg: Config, seed: int = 0,
                device=None, progress: bool = True, steps: int | None = None) -> dict:
    """Train ``model`` (one of :data:`MODELS`) on ``data``'s crops; returns the :func:`train_loop` history.

    ``L2``: mean squared ab error (Zhang et al., Eq. 1). ``classification``: soft cross-entropy
    (Eq. 2). ``rebalanced``: the same with the rebalancing weights (Eq. 3-4). Adam, cosine decay of the
    learning rate, batches drawn with a generator seeded by ``seed``.
    """
    device = torch.device(device or "cpu")
    steps = steps or cfg.steps
    seed_everything(seed)
    g = torch.Generator().manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    weights = data.weights.to(device) if name == "rebalanced" else None

    def batches():
        while True:
            order = torch.randperm(len(data.L), generator=g)
            for i in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
                yield order[i:i + cfg.batch_size]

    def step(idx):
        out = model(data.L[idx].to(device))
        if name == "L2":
            loss = F.mse_loss(out, data.ab[idx].to(device))
        else:
            loss = rebalanced_cross_entropy_sparse(out, data.index[idx].to(device), data.weight[idx].to(device),
                                                   weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    return train_loop(step, batches(), steps, desc=name, progress=progress)


@torch.no_grad()
def training_loss(model: ColorizationNet, name: str, data: Data, index=None) -> float:
    """The training loss of one of :data:`MODELS` on the crops ``index`` (default: all), in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    idx = torch.arange(len(data.L)) if index is None else torch.as_tensor(index)
    out = torch.cat([model(data.L[idx[i:i + 256]].to(device)).cpu() for i in range(0, len(idx), 256)])
    if name == "L2":
        return F.mse_loss(out, data.ab[idx]).item()
    return rebalanced_cross_entropy_sparse(out, data.index[idx], data.weight[idx],
                                           data.weights if name == "rebalanced" else None).item()


@torch.no_grad()
def predict_ab(model: ColorizationNet, L: torch.Tensor, decoding: str = "annealed mean",
               T: float = color.ANNEAL_T) -> torch.Tensor:
    """ab ``float32 N x 2 x H x W`` (full resolution, bilinear upsampling) for ``L`` ``N x 1 x H x W``.
    ``decoding`` is ignored by the regression model."""
    model.eval()
    device = next(model.parameters()).device
    out = model(L.to(device)).float().cpu()
    ab = out if model.kind == "regression" else color.decode(out, color.ab_bins(), decoding, T)
    return F.interpolate(ab, size=L.shape[-2:], mode="bilinear", align_corners=False)


def score(pred_ab: list, data: Data) -> dict:
    """AuC, colourfulness and MSE of predicted ab maps (one ``1 x 2 x H x W`` per held-out photo),
    each the mean over the photos."""
    auc, colourful, mse = [], [], []
    for ab, L, true_ab in zip(pred_ab, data.test_L, data.test_ab):
        auc.append(ab_accuracy_auc(ab, true_ab))
        mse.append(ab_mse(ab, true_ab))
        colourful.append(colourfulness(color.lab_to_rgb_tensor(L, ab)[0]))
    return {"auc": float(np.mean(auc)), "colourfulness": float(np.mean(colourful)), "mse": float(np.mean(mse)),
            "colourfulness_per_photo": dict(zip(data.test_names, map(float, colourful)))}


def evaluate(models: dict, data: Data, T: float = color.ANNEAL_T) -> tuple[list, dict]:
    """Score every model (and decoding) on the held-out photos.

    Returns ``(rows, predictions)``: one dict per (model, decoding) with the columns of
    :data:`TABLE_COLUMNS` (plus per-photo colourfulness), including the baselines ``grey`` (ab = 0) and
    ``ground truth``; ``predictions[(model, decoding)]`` is the list of ab maps.
    """
    predictions = {("grey", "-"): [torch.zeros_like(ab) for ab in data.test_ab]}
    for name, model in models.items():
        decodings = ("-",) if model.kind == "regression" else color.DECODINGS
        for dec in decodings:
            predictions[(name, dec)] = [predict_ab(model, L, dec if dec != "-" else "mean", T) for L in data.test_L]
    predictions[("ground truth", "-")] = list(data.test_ab)
    rows = [dict(model=m, decoding=d, **score(p, data)) for (m, d), p in predictions.items()]
    ref = next((r["colourfulness"] for r in rows if r["model"] == "L2"), float("nan"))
    for r in rows:
        r["colourfulness_vs_L2"] = r["colourfulness"] / ref
    return rows, predictions


# ----------------------------------------------------------------------------- weights (train-or-load)

def weights_path(name: str, directory=None):
    """The stored fast-profile weights of one of :data:`MODELS`: ``course_lib/weights/colorization_<name>.pt``
    (or the same file name in ``directory``)."""
    from pathlib import Path

    return Path(directory or WEIGHTS_DIR) / f"colorization_{name.lower()}.pt"


WEIGHTS_COMMAND = "python -m course_lib.experiments.colorization --save-weights --seed 0"


def load_or_train(data: Data, cfg: Config, seed: int = 0, retrain: bool | None = None, device=None,
                  progress: bool = True) -> tuple[dict, dict]:
    """The three models, loaded from ``course_lib/weights/`` (made by :data:`WEIGHTS_COMMAND` with the
    fast profile) or trained with :func:`train_model` when ``retrain`` (or ``COURSE_RETRAIN=1``), when a
    file is missing, or when ``cfg`` is not the fast profile's. Returns ``(models, meta)``."""
    fast = make_config("fast")
    stored_ok = cfg == fast and seed == 0
    models, meta = {}, {}
    for name in MODELS:
        model = build_model(name, cfg, seed)

        def fit(m, name=name):
            start = time.perf_counter()
            hist = train_model(m, name, data, cfg, seed, device, progress)
            return {"final_loss": float(np.mean(hist["loss"][-50:])), "train_seconds": round(time.perf_counter() - start, 1),
                    "config": cfg.as_dict(), "seed": seed}

        if stored_ok:
            meta[name] = train_or_load(model, weights_path(name), fit, WEIGHTS_COMMAND, retrain=retrain)
        else:
            meta[name] = dict(fit(model), trained=True)
        models[name] = model.to(device or "cpu").eval()
    return models, meta


# ----------------------------------------------------------------------------- figure

def show_colorizations(data: Data, predictions: dict, columns=None, size: float = 1.9):
    """One row per held-out photo: grey input, then the colourized versions, then the ground truth.

    Args:
        predictions: from :func:`evaluate`.
        columns: ``(title, (model, decoding))`` pairs; default grey input / L2 / classification /
            rebalanced (mode) / rebalanced (mean) / rebalanced (annealed mean) / ground truth.
    """
    import matplotlib.pyplot as plt

    columns = columns or [("grey input", ("grey", "-")), ("L2", ("L2", "-")),
                          ("classification\n(annealed mean)", ("classification", "annealed mean")),
                          ("rebalanced\n(mode)", ("rebalanced", "mode")),
                          ("rebalanced\n(mean)", ("rebalanced", "mean")),
                          ("rebalanced\n(annealed mean)", ("rebalanced", "annealed mean")),
                          ("ground truth", ("ground truth", "-"))]
    rows = len(data.test_names)
    h, w = data.test_L[0].shape[-2:]
    fig, axes = plt.subplots(rows, len(columns), figsize=(size * len(columns), size * rows * h / w + 0.6),
                             squeeze=False, layout="constrained")
    for r in range(rows):
        for c, (title, key) in enumerate(columns):
            rgb = color.lab_to_rgb_tensor(data.test_L[r], predictions[key][r])[0]
            axes[r, c].imshow(rgb)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(title, fontsize=9)
        axes[r, 0].set_ylabel(data.test_names[r], fontsize=9)
    return fig


def table_markdown(rows: list) -> str:
    """The rows of :func:`evaluate` as a Markdown table (AuC, colourfulness, its ratio to L2's, MSE)."""
    lines = ["| model | decoding | AuC (0-150) | colourfulness | vs L2 | ab MSE |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['decoding']} | {r['auc']:.3f} | {r['colourfulness']:.1f} | "
                     f"{r['colourfulness_vs_L2']:.2f} | {r['mse']:.0f} |")
    return "\n".join(lines)


def compare(rows: list, goal: float = 1.5) -> list[str]:
    """Sentences about the table, computed from it: the colourfulness ratio against the goal and which
    model has the lowest MSE."""
    get = {(r["model"], r["decoding"]): r for r in rows}
    reb, l2, truth = get[("rebalanced", "annealed mean")], get[("L2", "-")], get[("ground truth", "-")]
    ratio = reb["colourfulness"] / l2["colourfulness"]
    models = [r for r in rows if r["model"] not in ("grey", "ground truth")]
    best_mse = min(models, key=lambda r: r["mse"])
    best_auc = max(models, key=lambda r: r["auc"])
    return [
        f"Rebalanced classification (annealed mean) is {ratio:.2f}x as colourful as L2 "
        f"({reb['colourfulness']:.1f} vs {l2['colourfulness']:.1f}; the held-out photos themselves: "
        f"{truth['colourfulness']:.1f}): the goal of {goal}x is {'met' if ratio >= goal else 'missed'}.",
        f"Lowest ab MSE: {best_mse['model']} ({best_mse['decoding']}), {best_mse['mse']:.0f}; L2 has {l2['mse']:.0f}.",
        f"Highest AuC: {best_auc['model']} ({best_auc['decoding']}), {best_auc['auc']:.3f}; "
        f"L2 {l2['auc']:.3f}, grey (ab = 0) {get[('grey', '-')]['auc']:.3f}.",
    ]


def show_lab(rgb: np.ndarray, size: float = 2.6):
    """An RGB photo and its L, a and b channels side by side; returns the figure."""
    import matplotlib.pyplot as plt

    lab = color.rgb_to_lab(rgb)
    fig, axes = plt.subplots(1, 4, figsize=(4 * size, size * rgb.shape[0] / rgb.shape[1] + 0.5), layout="constrained")
    panels = [(rgb, "RGB", None, None), (lab[..., 0], "L (lightness, 0-100)", "gray", (0, 100)),
              (lab[..., 1], "a (green - / red +)", "RdYlGn_r", (-80, 80)),
              (lab[..., 2], "b (blue - / yellow +)", "coolwarm", (-80, 80))]
    for ax, (img, title, cmap, lim) in zip(axes, panels):
        ax.imshow(img, cmap=cmap, vmin=lim[0] if lim else None, vmax=lim[1] if lim else None)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_bins(values=None, L: float = 60.0, ax=None, title: str | None = None, log: bool = False):
    """The in-gamut ab bins as squares. Without ``values`` each square shows its own colour at lightness ``L``
    (out-of-gamut colours clipped); with ``values`` (``Q``) a colour map of them (log scale if ``log``)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    bins = color.AB_BINS
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    g = color.GRID_SIZE
    if values is None:
        lab = np.concatenate([np.full((len(bins), 1), L, np.float32), bins], 1)
        colours = color.lab_to_rgb(lab[:, None])[:, 0]
        ax.scatter(bins[:, 0], bins[:, 1], c=colours, marker="s", s=48, edgecolors="none")
    else:
        v = np.asarray(values, dtype=float)
        norm = LogNorm(vmin=max(v[v > 0].min(), 1e-6), vmax=v.max()) if log else None
        sc = ax.scatter(bins[:, 0], bins[:, 1], c=np.where(v > 0, v, np.nan) if log else v, marker="s", s=48,
                        cmap="viridis", norm=norm, edgecolors="none")
        plt.colorbar(sc, ax=ax, shrink=0.8)
    ax.set_xlabel("a (green - / red +)")
    ax.set_ylabel("b (blue - / yellow +)")
    ax.set_xlim(-100, 110)
    ax.set_ylim(-120, 100)
    ax.set_aspect("equal")
    ax.grid(alpha=0.2)
    ax.set_title(title or f"{len(bins)} in-gamut bins (grid {g})", fontsize=9)
    return ax


# ----------------------------------------------------------------------------- everything

def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, models_out: dict | None = None,
        **overrides) -> dict:
    """Train L2, classification and rebalanced classification from scratch and score them on the held-out photos.

    ``models_out``: a dict that receives the trained models by name (e.g. to store their weights).

    Returns ``{"profile", "device", "seed", "config", "Q", "table", "rows", "train_seconds"}``; ``table`` has
    the columns of :data:`TABLE_COLUMNS`, one row per (model, decoding). Only JSON types.
    """
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P, **overrides)
    device = get_device()
    seed_everything(seed)
    data = make_data(cfg, seed)
    models, seconds = {}, {}
    for name in MODELS:
        model = build_model(name, cfg, seed)
        start = time.perf_counter()
        train_model(model, name, data, cfg, seed, device, progress)
        seconds[name] = round(time.perf_counter() - start, 1)
        models[name] = model
    if models_out is not None:
        models_out.update(models)
    rows, _ = evaluate(models, data, cfg.T)
    table = [{k: r[k] for k in TABLE_COLUMNS} for r in rows]
    return {"profile": P.name, "device": str(device), "seed": seed, "config": cfg.as_dict(),
            "Q": len(color.AB_BINS), "table": table, "rows": rows, "train_seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the three colorization models of notebook 03 with the fast "
                                     "profile (what `python -m course_lib reproduce colorization` does), store "
                                     "their weights in course_lib/weights/ and write the results as JSON.")
    parser.add_argument("--save-weights", action="store_true", help="overwrite the stored weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results (the run() dict) to this JSON file")
    parser.add_argument("--model", choices=MODELS, help="train and store only this model (the same training as "
                        "in the full run: the three are independent, so they can be trained in parallel)")
    parser.add_argument("--weights-dir", help="where --model stores and --evaluate reads the weights "
                        "(default course_lib/weights)")
    parser.add_argument("--evaluate", action="store_true", help="score the three stored models (no training)")
    args = parser.parse_args(argv)
    import json

    from ..checkpoints import save_weights

    if args.model:
        cfg = make_config("fast")
        data = make_data(cfg, args.seed)
        model = build_model(args.model, cfg, args.seed)
        start = time.perf_counter()
        hist = train_model(model, args.model, data, cfg, args.seed, progress=False)
        seconds = round(time.perf_counter() - start, 1)
        command = f"python -m course_lib.experiments.colorization --save-weights --seed {args.seed} --model {args.model}"
        if args.save_weights:
            path = save_weights(model, weights_path(args.model, args.weights_dir), command,
                                {"config": cfg.as_dict(), "seed": args.seed, "train_seconds": seconds,
                                 "final_loss": float(np.mean(hist["loss"][-50:]))})
            print(f"{args.model}: {seconds} s; {path} ({path.stat().st_size / 1e6:.2f} MB)")
        return 0

    if args.evaluate:
        from ..checkpoints import load_weights

        cfg = make_config("fast")
        data = make_data(cfg, args.seed)
        models = {}
        for name in MODELS:
            models[name] = build_model(name, cfg, args.seed)
            load_weights(models[name], weights_path(name, args.weights_dir))
        rows, _ = evaluate(models, data, cfg.T)
        for r in rows:
            print(f"{r['model']:15s} {r['decoding']:14s} AuC {r['auc']:.3f}  colourfulness {r['colourfulness']:6.2f} "
                  f"({r['colourfulness_vs_L2']:.2f} x L2)  MSE {r['mse']:7.1f}")
        print("\n".join(compare(rows)))
        if args.out:
            with open(args.out, "w") as f:
                json.dump({"seed": args.seed, "config": cfg.as_dict(), "weights_dir": str(args.weights_dir or WEIGHTS_DIR),
                           "table": [{k: r[k] for k in TABLE_COLUMNS} for r in rows], "rows": rows}, f, indent=2)
        return 0
    models = {}
    start = time.perf_counter()
    results = run("fast", seed=args.seed, progress=False, models_out=models)
    results["seconds"] = round(time.perf_counter() - start, 1)
    for r in results["table"]:
        print(f"{r['model']:15s} {r['decoding']:14s} AuC {r['auc']:.3f}  colourfulness {r['colourfulness']:6.2f} "
              f"({r['colourfulness_vs_L2']:.2f} x L2)  MSE {r['mse']:7.1f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    if args.save_weights:
        command = f"python -m course_lib.experiments.colorization --save-weights --seed {args.seed}"
        for name, model in models.items():
            path = save_weights(model, weights_path(name), command,
                                {"config": results["config"], "seed": args.seed,
                                 "train_seconds": results["train_seconds"][name]})
            print(f"{name}: {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
