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

This experiment trains nothing (``MEMBERS = ()``): :func:`evaluate` loads the generators of the other
experiments (:data:`GENERATORS`; train-or-load with :func:`course_lib.experiments.common.load`, same profile and
seed). Adding a generator is one entry there.

Run: ``python -m course_lib reproduce generative_scores`` (``--profile full`` for more images).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from . import common

MEMBERS = ()
TABLE_COLUMNS = ("model", "confidence", "coverage_entropy", "frd", "n", "sample_seconds", "note")
REAL = "real held-out images (ceiling)"

GENERATORS = {
    # row: (experiment, member, sample(run, n, seed, device) -> N x 1 x H x W in [-1, 1], note)
    "DCGAN": ("dcgan", "dcgan_fashion", lambda run, n, seed, device: run.gan.to(device).sample(n, seed, device),
              "dcgan_fashion.pt: 1,200 steps of 64 images"),
    "VAE (z = 16)": ("vae", "vae_fashion_z16", lambda run, n, seed, device: run.vae.to(device).sample(n, seed, device),
                     "vae_fashion_z16.pt: 1,500 steps of 64; decoder mean"),
    "DDPM (DDIM 50 steps)": ("diffusion", "ddpm",
                             lambda run, n, seed, device: _sample_ddpm(run.ema.to(device), n, steps=50, seed=seed),
                             "diffusion_ddpm.pt: 1,200 steps of 32; sampled with DDIM, 50 steps, eta 0"),
}
"""The rows of the table after the ceiling, in order."""


def _sample_ddpm(net, n, steps, seed):
    from .diffusion import sample_ddpm

    return sample_ddpm(net, n, steps=steps, seed=seed)


@dataclass(frozen=True)
class Config(common.ExperimentConfig):
    """Attributes:
        n: images per row (the test split's 10,000 are cut into the reference and the real row).
        models: the rows of :data:`GENERATORS` to score (all by default).
    """

    n: int = common.fast_full(2000, 5000)
    models: tuple[str, ...] = tuple(GENERATORS)


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


def score_rows(samplers: dict[str, Callable], n: int, seed: int = 0, notes: dict[str, str] | None = None,
               progress: bool = True) -> list[dict]:
    """The real-image ceiling and one row per generator, each with :data:`TABLE_COLUMNS`.

    Args:
        samplers: row name -> ``sample(n, seed, device)`` returning ``N x 1 x H x W`` in [-1, 1] (28 or 32 pixels).
        n: images per row; seed: of every generator's latents; notes: row name -> the row's note.
    """
    from ..device import get_device
    from ..models.recognizer import load_recognizer

    device = get_device()
    recognizer = load_recognizer(device=device)
    reference, real = held_out_split(n)
    rows = [dict(model=REAL, **score_images(real, reference, recognizer), n=n, sample_seconds=0.0,
                 note=f"Fashion-MNIST test images {n}..{2 * n - 1}; reference: images 0..{n - 1}")]
    for name, sample in samplers.items():
        start = time.perf_counter()
        images = sample(n, seed, device).detach().float().cpu()
        seconds = time.perf_counter() - start
        if progress:
            print(f"{name}: {n} samples in {seconds:.1f} s")
        rows.append(dict(model=name, **score_images(images, reference, recognizer), n=n,
                         sample_seconds=round(seconds, 2), note=(notes or {}).get(name, "")))
    return rows


def evaluate(cfg: Config, runs: dict, seed: int = 0, progress: bool = True):
    """Score the generators ``cfg.models`` (loaded with the same profile and ``seed``) and the real-image ceiling.

    Returns:
        ``(rows, {"n", "recognizer_accuracy", "markdown"})``; each row has :data:`TABLE_COLUMNS`.

    Raises:
        ValueError: an unknown row name in ``cfg.models``.
    """
    from ..models.recognizer import load_recognizer

    unknown = [m for m in cfg.models if m not in GENERATORS]
    if unknown:
        raise ValueError(f"unknown generator(s) {unknown}; known: {list(GENERATORS)}")
    samplers, notes = {}, {}
    for name in cfg.models:
        experiment, member, sample, notes[name] = GENERATORS[name]
        module = common.experiment(experiment)
        run = common.load(module, module.Config.make(cfg.profile), seed, members=[member], progress=progress, retrain=False)[member]
        samplers[name] = lambda n, s, device, run=run, sample=sample: sample(run, n, s, device)
    rows = score_rows(samplers, cfg.n, seed, notes, progress)
    return rows, {"n": cfg.n, "recognizer_accuracy": load_recognizer().meta.get("test_accuracy"),
                  "markdown": table_markdown(rows)}


def table_markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table (what the README shows)."""
    return common.markdown_table(rows, ("model", "confidence", "coverage_entropy", "frd", "note"),
                                 digits={"frd": 2},
                                 headers={"coverage_entropy": f"coverage entropy (max {math.log(10):.3f})",
                                          "frd": "FRD to held-out real"})
