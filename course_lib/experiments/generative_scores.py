"""One score for every generator of the course (notebooks 04, 05, 09): DCGAN, VAE, DDPM and real images.

Each generator draws ``n`` images; the course's Fashion-MNIST recognizer
(:mod:`course_lib.models.recognizer`, trained once on the real training split) judges them, in the manner
of the pix2pix FCN-score (Isola et al. 2017, Sec. 4.2):

* **confidence** -- mean top-class probability; **coverage entropy** -- entropy (nats) of the predicted
  class histogram, ``log 10 = 2.303`` at most (both from :func:`course_lib.metrics.recognizer_score`, in the
  spirit of the Inception Score, Salimans et al. 2016);
* **FRD** -- Fréchet recognizer distance to ``n`` held-out real images (the FID formula of Heusel et al. 2017
  on the recognizer's features, :func:`course_lib.metrics.frechet_recognizer_distance`; *not* FID).

The ceiling row is ``n`` other held-out real images: the Fashion-MNIST test split is cut into a reference half
(images ``0 .. n-1``) and the "real" row (images ``n .. 2n-1``), so even real images have FRD > 0 from sampling.

**Adding a generator** (e.g. the diffusion notebook's DDPM): add one entry to :data:`SAMPLERS` with
:func:`register_sampler` at the end of this module -- a function ``sample(n, seed, device) -> N x 1 x H x W`` in
[-1, 1] and a function telling whether its weights are present. A generator whose weights are missing is
listed with a note instead of being trained here.

Run: ``python -m course_lib reproduce generative_scores`` (``--profile full`` for more images).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from ..device import get_device, seed_everything
from ..profile import Profile, get_profile

TABLE_COLUMNS = ("model", "confidence", "coverage_entropy", "frd", "n", "sample_seconds", "note")
REAL = "real held-out images (ceiling)"


@dataclass(frozen=True)
class Sampler:
    """A generator in the score table.

    Attributes:
        name: the row's name.
        sample: ``sample(n, seed, device) -> N x 1 x H x W`` float in [-1, 1] (28 or 32 pixels a side).
        available: ``available() -> bool``; False when its weights are missing (the row then shows ``note``).
        note: what the row is (shown in the table), e.g. the weight file and its training budget.
        missing: what to do when not available, e.g. the command that makes the weights.
    """

    name: str
    sample: Callable[[int, int, torch.device], torch.Tensor]
    available: Callable[[], bool]
    note: str = ""
    missing: str = ""


SAMPLERS: dict[str, Sampler] = {}
"""name -> :class:`Sampler`, in table order (the real-image ceiling is added by :func:`run`)."""


def register_sampler(name: str, sample, available=lambda: True, note: str = "", missing: str = "") -> Sampler:
    """Add (or replace) a generator of the score table; returns its :class:`Sampler`."""
    SAMPLERS[name] = Sampler(name, sample, available, note, missing)
    return SAMPLERS[name]


# --- the generators -------------------------------------------------------------------------------

def _dcgan_sample(n: int, seed: int, device) -> torch.Tensor:
    from ..models.dcgan import load_dcgan

    return load_dcgan(device=device, retrain=False).sample(n, seed=seed, device=device)


def _vae_sample(n: int, seed: int, device) -> torch.Tensor:
    from ..models.vae import load_vae

    return load_vae(16, device=device, retrain=False).sample(n, seed=seed, device=device)


def _weights(name: str) -> Callable[[], bool]:
    from ..checkpoints import WEIGHTS_DIR

    return lambda: (WEIGHTS_DIR / name).is_file()


register_sampler("DCGAN", _dcgan_sample, _weights("dcgan_fashion.pt"),
                 note="dcgan_fashion.pt: 1,200 steps of 64 images",
                 missing="weights missing: python -m course_lib.models.dcgan")
register_sampler("VAE (z = 16)", _vae_sample, _weights("vae_fashion_z16.pt"),
                 note="vae_fashion_z16.pt: 1,500 steps of 64; decoder mean",
                 missing="weights missing: python -m course_lib.models.vae --z-dim 16")


def _ddpm_sample(n: int, seed: int, device) -> torch.Tensor:
    from .diffusion import load_model, sample_ddpm

    return sample_ddpm(load_model("ddpm", retrain=False, device=device), n, steps=50, seed=seed)


register_sampler("DDPM (DDIM 50 steps)", _ddpm_sample, _weights("diffusion_ddpm.pt"),
                 note="diffusion_ddpm.pt: 1,200 steps of 32; sampled with DDIM, 50 steps, eta 0",
                 missing="weights missing: python -m course_lib.experiments.diffusion train ddpm")


# --- the experiment ------------------------------------------------------------------------------------

def default_n(profile: Profile | str | None = None) -> int:
    """Images per row: 2,000 in the fast profile, 5,000 in the full one (the test split has 10,000,
    cut into the reference and the real row)."""
    P = profile if isinstance(profile, Profile) else get_profile(profile)
    return P.pick(fast=2000, full=5000)


def held_out_split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(reference, real)``: Fashion-MNIST test images ``0..n-1`` and ``n..2n-1``, ``N x 1 x 32 x 32`` in [-1, 1].

    Raises:
        ValueError: if ``2 n`` exceeds the 10,000 test images.
    """
    from ..data.fashion_mnist import fashion_mnist_tensors

    if not 2 <= n <= 5000:
        raise ValueError(f"n must lie in [2, 5000] (two disjoint halves of the 10,000 test images), got {n}")
    x, _ = fashion_mnist_tensors("test", 2 * n, value_range="-1,1", pad_to=32)
    return x[:n], x[n:]


def score_images(images: torch.Tensor, reference: torch.Tensor, recognizer) -> dict:
    """``{"confidence", "coverage_entropy", "frd"}`` of ``images`` against ``reference`` (see the module text)."""
    from ..metrics import frechet_recognizer_distance, recognizer_score

    s = recognizer_score(images, recognizer)
    return {"confidence": s["confidence"], "coverage_entropy": s["coverage_entropy"],
            "frd": frechet_recognizer_distance(images, reference, recognizer)}


def run(profile=None, seed: int = 0, progress: bool = True, n: int | None = None, names=None) -> dict:
    """Score every available generator of :data:`SAMPLERS` and the real-image ceiling.

    Args:
        profile: ``"fast"``, ``"full"``, a :class:`Profile` or None (active profile); sets ``n``.
        seed: seed of every generator's latents.
        n: images per row (default :func:`default_n`).
        names: generators to include (default: all registered).

    Returns:
        ``{"table": rows, "n", "seed", "recognizer_accuracy", "markdown"}``; each row has
        :data:`TABLE_COLUMNS` (scores ``None`` for a generator whose weights are missing).
    """
    from ..models.recognizer import load_recognizer

    P = profile if isinstance(profile, Profile) else get_profile(profile)
    n = n or default_n(P)
    device = get_device()
    seed_everything(seed)
    recognizer = load_recognizer(device=device, retrain=False)
    reference, real = held_out_split(n)
    rows = [dict(model=REAL, **score_images(real, reference, recognizer), n=n, sample_seconds=0.0,
                 note=f"Fashion-MNIST test images {n}..{2 * n - 1}; reference: images 0..{n - 1}")]
    for name, sampler in SAMPLERS.items():
        if names is not None and name not in names:
            continue
        if not sampler.available():
            rows.append(dict(model=name, confidence=None, coverage_entropy=None, frd=None, n=0, sample_seconds=None,
                             note=sampler.missing or "weights missing"))
            continue
        start = time.perf_counter()
        images = sampler.sample(n, seed, device).detach().float().cpu()
        seconds = time.perf_counter() - start
        if progress:
            print(f"{name}: {n} samples in {seconds:.1f} s")
        rows.append(dict(model=name, **score_images(images, reference, recognizer), n=n,
                         sample_seconds=round(seconds, 2), note=sampler.note))
    return {"table": rows, "n": n, "seed": seed, "profile": P.name,
            "recognizer_accuracy": recognizer.meta.get("test_accuracy"), "markdown": table_markdown(rows)}


def table_markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table (what the README shows)."""
    def f(v, digits):
        return "–" if v is None else f"{v:.{digits}f}"

    lines = [f"| model | confidence | coverage entropy (max {math.log(10):.3f}) | FRD to held-out real | note |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {f(r['confidence'], 3)} | {f(r['coverage_entropy'], 3)} | {f(r['frd'], 2)} "
                     f"| {r['note']} |")
    return "\n".join(lines)
