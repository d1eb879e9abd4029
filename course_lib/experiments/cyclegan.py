"""Notebook 08: CycleGAN on unpaired edges and shoes, scored against pix2pix on the paired held-out set.

Zhu, Park, Isola & Efros (ICCV 2017) learn ``G: A -> B`` and ``F: B -> A`` from unpaired sets with two
discriminators, the LSGAN loss, a cycle-consistency loss (lambda = 10) and an identity loss (0.5 lambda),
an image pool of 50 and a linearly decaying learning rate; on paired data they report pix2pix as the upper
bound (Sec. 5.1). Here (fast profile): domain A = Canny edges of one half of the training shoes, domain B =
the photos of the other half (:func:`course_lib.data.shoes.make_unpaired_edges_shoes`), so no pair is ever
seen; both are scored on the paired test split with notebook 06's scores, beside pix2pix (L1 + cGAN) trained
on the same number of *paired* examples.

Train-or-load: fast profile, seed 0 -> ``course_lib/weights/cyclegan_shoes_G_AB.pt`` and ``..._G_BA.pt``
(``COURSE_RETRAIN=1`` retrains); the pix2pix row uses notebook 06's stored L1 + cGAN generator.
"""
from __future__ import annotations

from ..checkpoints import load_weights, retrain_requested, save_weights
from ..data.shoes import make_unpaired_edges_shoes
from ..profile import Profile, get_profile
from ..translation import CycleGAN, evaluate_shoes, make_config, train_cyclegan, translate, weights_path

COMMAND = "COURSE_RETRAIN=1 python -m course_lib reproduce cyclegan --profile fast --seed 0"


def train_or_load_cyclegan(cfg, data, seed: int = 0, retrain: bool | None = None, progress: bool = True):
    """``(CycleGAN in eval mode, meta)``: the two generators loaded from the weight files or trained
    (:func:`course_lib.translation.train_cyclegan`) and saved; the discriminators are not stored."""
    from ..device import seed_everything

    seed_everything(seed)  # the initial weights depend on the seed only
    model = CycleGAN(cfg)
    paths = {k: weights_path(f"cyclegan_shoes_{k}") for k in ("G_AB", "G_BA")}
    retrain = retrain_requested() if retrain is None else retrain
    if not retrain and all(p.is_file() for p in paths.values()):
        meta = {k: load_weights(getattr(model, k), p) for k, p in paths.items()}
        return model.eval(), dict(meta["G_AB"], trained=False)
    model, history = train_cyclegan(cfg, data.a, data.b, seed, progress=progress, model=model)
    meta = {"seed": seed, "steps": cfg.cycle_steps, "train_seconds": round(history["_seconds"][0], 1)}
    for k, p in paths.items():
        save_weights(getattr(model, k), p, COMMAND, meta)
    return model.eval(), dict(meta, history=history, trained=True)


def run(profile: Profile | str | None = None, seed: int = 0, progress: bool = True, retrain: bool | None = None) -> dict:
    """Train (or load) CycleGAN and the pix2pix upper bound, score both on the paired held-out set.

    Returns ``{"config", "table", "samples", "model"}``; table rows: ``model, supervision, type_accuracy,
    frd, l1, psnr``; ``samples``: inputs, targets, both models' outputs and CycleGAN's reconstructions
    ``F(G(a))`` for 8 test pairs.
    """
    from ..experiments import pix2pix_ablation as A

    P = profile if isinstance(profile, Profile) else get_profile(profile)
    cfg = make_config(P)
    if cfg.dataset != "shoes":
        raise NotImplementedError("the full profile's CycleGAN (horse2zebra, 256 px) is not scored here: it has no "
                                  "paired held-out set; use course_lib.translation.train_cyclegan on the download")
    data = make_unpaired_edges_shoes(cfg.n_train, cfg.n_test, seed)
    if P.is_fast and seed == 0:
        model, meta = train_or_load_cyclegan(cfg, data, seed, retrain, progress)
    else:
        model, history = train_cyclegan(cfg, data.a, data.b, seed, progress=progress)
    # the upper bound's stored file is made by the ablation's command: COURSE_RETRAIN retrains only CycleGAN here
    p2p = A.generators(P, seed, progress, retrain=False, variants=("L1+cGAN",))["L1+cGAN"][0]
    rows = [{"model": "CycleGAN", "supervision": f"unpaired ({len(data.a)} edge maps, {len(data.b)} photos)",
             **evaluate_shoes(model.G_AB, data.test)},
            {"model": "pix2pix (L1+cGAN)", "supervision": f"paired ({cfg.n_train} pairs)",
             **evaluate_shoes(p2p, data.test)}]
    a = data.test.edges[:8]
    fake = translate(model.G_AB, a)
    samples = {"input": a, "target": data.test.shoes[:8], "CycleGAN": fake, "reconstruction": translate(model.G_BA, fake),
               "pix2pix": translate(p2p, a)}
    return {"config": cfg.as_dict(), "table": rows, "samples": samples, "model": model}
