"""Notebook 06: pix2pix's objective ablation in miniature -- L1 only, cGAN only, L1 + cGAN (lambda = 100).

Isola et al. 2017, Sec. 4.3 and Table 1 compare the three objectives on Cityscapes labels -> photo with
the FCN-score. Here (fast profile) the task is the offline edges -> shoes set
(:mod:`course_lib.data.shoes`, 32 x 32, Fashion-MNIST shoes with Canny edges); the U-Net generator
(``unet_32``, ngf 8, dropout) and the conditional PatchGAN scaled to the paper's 70/256 patch-to-image
ratio (10 x 10 at 32 x 32) are trained with Adam 2e-4, beta1 0.5, for each objective; the scores
(:func:`course_lib.translation.evaluate_shoes`) are the shoe-type accuracy judged by the course's
Fashion-MNIST recognizer (in the manner of the FCN-score), the Fréchet recognizer distance to real test
shoes, and pixel L1 / PSNR. The full profile uses the paper's settings on facades (256 x 256, batch 1,
200 epochs) and reports the pixel scores only (no recognizer for facades).

Train-or-load: in the fast profile with seed 0 the three generators are loaded from
``course_lib/weights/pix2pix_shoes_*.pt`` (``COURSE_RETRAIN=1`` retrains them); other seeds and the full
profile always train.
"""
from __future__ import annotations

from ..profile import Profile, get_profile
from ..translation import (VARIANTS, evaluate_shoes, load_pairs, make_config, train_or_load_pix2pix, train_pix2pix,
                           translate)

COMMAND = "COURSE_RETRAIN=1 python -m course_lib reproduce pix2pix_ablation --profile fast --seed 0"


def weight_name(variant: str) -> str:
    """File stem of a variant's stored generator, e.g. ``pix2pix_shoes_L1cGAN``."""
    return "pix2pix_shoes_" + variant.replace("+", "")


def generators(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None,
               data=None, variants=tuple(VARIANTS)) -> dict:
    """``{variant: (G, meta)}`` for the objectives ``variants`` (default all three of :data:`VARIANTS`):
    loaded (fast profile, seed 0) or trained.

    Raises:
        ValueError: an unknown variant.
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown pix2pix objective(s) {unknown}; known: {list(VARIANTS)}")
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P)
    if data is None:
        data = load_pairs(cfg)[:2]
    out = {}
    for variant in variants:
        if P.is_fast and seed == 0:
            out[variant] = train_or_load_pix2pix(cfg, variant, weight_name(variant), COMMAND, seed, retrain=retrain,
                                                 progress=progress, data=data)
        else:
            G, history = train_pix2pix(cfg, variant, seed, data, progress=progress)
            out[variant] = (G, {"history": history, "train_seconds": round(history["_seconds"][0], 1)})
    return out


def real_reference(test, recognizer=None) -> dict:
    """Scores of real shoes: type accuracy of the real test shoes, and the Fréchet recognizer distance
    between as many real *training* shoes and the test shoes (the floor a generator can reach)."""
    from ..data.shoes import SHOE_CLASSES, make_edges2shoes
    from ..metrics import frechet_recognizer_distance, recognizer_accuracy
    from ..models.recognizer import load_recognizer

    recognizer = recognizer or load_recognizer(progress=False)
    train = make_edges2shoes("train", len(test))
    return {"type_accuracy": recognizer_accuracy(test.shoes, test.types, recognizer, SHOE_CLASSES),
            "frd": frechet_recognizer_distance(train.shoes, test.shoes, recognizer), "l1": 0.0, "psnr": float("inf")}


def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None) -> dict:
    """Train (or load) the three objectives and score them; returns ``{"config", "table", "samples"}``.

    ``table``: one row per objective (``objective, type_accuracy, frd, l1, psnr, train_seconds``) and a
    ``real shoes`` reference row (fast profile); ``samples``: inputs, targets and each objective's outputs
    for the first 8 test pairs.
    """
    from ..metrics import pixel_scores

    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P)
    x, y, test = load_pairs(cfg)
    gens = generators(P, seed, progress, retrain, data=(x, y))
    rows, samples = [], {}
    for variant, (G, meta) in gens.items():
        if cfg.dataset == "shoes":
            scores = evaluate_shoes(G, test)
            samples[variant] = translate(G, test.edges[:8])
        else:
            xt, yt = test
            fake = translate(G, xt)
            scores = {"type_accuracy": float("nan"), "frd": float("nan"), **pixel_scores(fake, yt)}
            samples[variant] = fake[:8]
        rows.append({"objective": variant, **scores, "train_seconds": meta.get("train_seconds", float("nan"))})
    if cfg.dataset == "shoes":
        rows.append({"objective": "real shoes", **real_reference(test), "train_seconds": 0.0})
        samples["input"], samples["target"] = test.edges[:8], test.shoes[:8]
    return {"config": cfg.as_dict(), "table": rows, "samples": samples}
