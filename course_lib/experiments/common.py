"""What every experiment shares: one shape, one training driver, one results table.

Every experiment of the course (one module per notebook topic in ``course_lib/experiments/``) has the
same four parts, and nothing else; its figures live in a sibling module of ``course_lib/experiments/plots/``:

``Config``
    A frozen dataclass derived from :class:`ExperimentConfig`. Values that differ between the profiles
    are written side by side with :func:`fast_full`, e.g. ``steps: int = fast_full(3000, 80_000)``;
    ``Config.make(profile, **overrides)`` picks them.
``MEMBERS``
    The names of the separately trained runs of the experiment (pix2pix: one per objective;
    super-resolution: one per scale), or a function ``members(cfg) -> list[str]``. Empty when the
    experiment trains nothing (it only scores other experiments' weights); it then has no ``build``
    and no ``train_step``.
``build(cfg, member, seed=0) -> Run``
    Fresh, seeded networks, optimisers and the (lazy) training batches of one member.
``train_step(run, batch) -> dict[str, float]``
    One optimisation step, short enough to read in a notebook: the notebooks show the same step in
    their own cells and a test checks that both give identical results.
``evaluate(cfg, runs, seed=0, progress=True) -> list[dict]`` (or ``(rows, extras)``)
    Scores the trained or stored members ``runs`` (``{member: Run}``); one dict per table row.

This module drives them: :func:`train` runs :func:`course_lib.train.train_loop` over ``train_step`` and
stores the weights with the command that reproduces them; :func:`load` is train-or-load (the stored
weights by default, so notebooks stay fast); :func:`reproduce` is what
``python -m course_lib reproduce NAME [--seed ...] [--retrain]`` runs for every experiment alike.

Shared pieces: :func:`random_batches`, :func:`adam` (Adam with an optional cosine or linear-decay
schedule), :func:`weights_path`, :func:`train_command`, :func:`markdown_table`, :func:`summarize_seeds`.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib
import math
import os
import pkgutil
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .. import distributed
from ..checkpoints import WEIGHTS_DIR, load_weights, retrain_requested, save_weights
from ..device import seed_everything
from ..precision import FP32, Precision, model_device, resolve
from ..profile import Profile, get_profile
from ..train import infinite_batches, train_loop

# --- configs: fast and full values side by side ---------------------------------------------------

_FULL = "full_value"


def fast_full(fast: Any, full: Any) -> Any:
    """A dataclass field whose default is ``fast`` in the fast profile and ``full`` in the full one.

    Use in a :class:`ExperimentConfig` subclass: ``size: int = fast_full(32, 256)``. Values must be
    immutable (numbers, strings, tuples).
    """
    return field(default=fast, metadata={_FULL: full})


@dataclass(frozen=True)
class ExperimentConfig:
    """Base of every experiment's ``Config``: build one with :meth:`make`, never by hand.

    Attributes:
        profile: ``"fast"`` or ``"full"`` (:mod:`course_lib.profile`), the profile the values were picked for.
    """

    profile: str = "fast"

    @classmethod
    def make(cls, profile: Profile | str | None = None, **overrides):
        """The config of ``profile`` (default: ``COURSE_PROFILE``, else ``fast``),
        with ``overrides`` applied.

        Raises:
            ValueError: an override names no field of the config (the message lists the fields).
        """
        P = profile if isinstance(profile, Profile) else get_profile(profile)
        names = [f.name for f in dataclasses.fields(cls) if f.name != "profile"]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise ValueError(f"unknown {cls.__module__}.{cls.__name__} fields {unknown}; known: {names}")
        values = {}
        for f in dataclasses.fields(cls):
            if f.name == "profile":
                continue
            values[f.name] = f.metadata[_FULL] if (P.is_full and _FULL in f.metadata) else f.default
        values.update(overrides)
        return cls(profile=P.name, **values)

    @property
    def is_fast(self) -> bool:
        return self.profile == "fast"

    def replace(self, **changes):
        """A copy with ``changes`` (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The fields as a plain dict (``profile`` included), for JSON."""
        return dataclasses.asdict(self)


# --- data and optimisers ----------------------------------------------------------------------------

def random_batches(*tensors: torch.Tensor, batch_size: int, seed: int = 0,
                   generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
    """Endless random mini-batches of aligned tensors: each epoch is a fresh permutation (a generator
    seeded with ``seed``), cut into ``len // batch_size`` full batches (the remainder is dropped).

    Args:
        tensors: tensors with the same first dimension ``N``.
        batch_size: rows per batch (1 <= batch_size <= N).
        seed: seeds the permutations' own generator.
        generator: draw the permutations from this generator instead (``seed`` is then unused), for a
            caller that draws more from the same generator between batches (latents, shifts, flips): each
            epoch's permutation is drawn when its first batch is asked for.

    Yields:
        Tuples of ``len(tensors)`` tensors of ``batch_size`` rows (indexing copies them).

    Raises:
        ValueError: no tensors, tensors of different lengths, or a batch size outside [1, N].
    """
    if not tensors:
        raise ValueError("random_batches needs at least one tensor")
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"random_batches needs tensors of one length, got {[len(t) for t in tensors]}")
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}] for {n} examples, got {batch_size}")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=g)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            yield tuple(t[idx] for t in tensors)


def cosine_factor(steps: int) -> Callable[[int], float]:
    """Learning-rate factor for ``LambdaLR``: ``0.5 (1 + cos(pi min(s, steps) / steps))``, 1 -> 0 over ``steps``."""
    return lambda s: 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps))


def linear_decay_factor(steps: int) -> Callable[[int], float]:
    """CycleGAN's schedule as a ``LambdaLR`` factor: 1 for the first half of ``steps``, then linearly
    down to 0 at the end (Zhu et al. 2017, Sec. 7.1: 100 epochs constant, 100 epochs of decay)."""
    half = steps // 2
    return lambda s: 1.0 if s < half else max(0.0, 1.0 - (s - half) / max(1, steps - half))


def adam(params: Iterable, lr: float, betas: tuple[float, float] = (0.9, 0.999), *, schedule: str | None = None,
         steps: int | None = None):
    """Adam (Kingma & Ba 2015), optionally with a learning-rate schedule stepped once per training step.

    Args:
        params: parameters (or parameter groups) to optimise.
        lr: the initial learning rate; betas: Adam's (pix2pix, CycleGAN and DCGAN use ``(0.5, 0.999)``).
        schedule: ``None`` (constant), ``"cosine"`` (:func:`cosine_factor`) or ``"linear_decay"``
            (:func:`linear_decay_factor`); needs ``steps``.

    Returns:
        ``(optimizer, scheduler)``; the scheduler is ``None`` without a schedule.

    Raises:
        ValueError: an unknown schedule, or a schedule without a positive ``steps``.
    """
    opt = torch.optim.Adam(params, lr=lr, betas=betas)
    if schedule is None:
        return opt, None
    factors = {"cosine": cosine_factor, "linear_decay": linear_decay_factor}
    if schedule not in factors:
        raise ValueError(f"unknown schedule {schedule!r}; use None, 'cosine' or 'linear_decay'")
    if not steps or steps <= 0:
        raise ValueError(f"the {schedule} schedule needs the number of steps (> 0), got {steps}")
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factors[schedule](steps))


# --- one training run -------------------------------------------------------------------------------

@dataclass
class Run:
    """Everything one training run needs, as ``build`` returns it.

    Attributes:
        models: the networks by role (``{"G": ..., "D": ...}``); reach them as attributes (``run.G``).
        stored: role -> weight-file stem of the networks that are stored (``{"G": "pix2pix_motorbikes_L1"}``).
        steps: optimisation steps of a full training.
        batches: called once by :func:`train`; returns an endless iterator of batches for ``train_step``
            (lazy, so loading stored weights never builds the training set).
        state: optimisers, schedulers, loss objects, image pools, ... by name; reach them as attributes
            (``run.opt_G``).
        meta: after :func:`load` or :func:`train`: what the weight file records (command, steps, seconds, ...).
        precision: the :class:`course_lib.precision.Precision` that :func:`fit` trains under (fp32 until
            then). A ``train_step`` that calls ``run.precision.backward_step(loss, opt)`` instead of
            ``loss.backward(); opt.step()`` also trains in fp16 with loss scaling (set the module's
            ``PRECISION_HELPER = True``); every ``train_step`` runs under bf16 autocast unchanged.
    """

    models: dict[str, nn.Module]
    stored: dict[str, str]
    steps: int
    batches: Callable[[], Iterator]
    state: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    precision: Precision = FP32

    def __getattr__(self, name: str):
        # only called when normal lookup fails: models first, then state
        for part in ("models", "state"):
            values = self.__dict__.get(part)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"this Run has no model or state named {name!r} (models: "
                             f"{sorted(self.__dict__.get('models', {}))}, state: {sorted(self.__dict__.get('state', {}))})")

    def eval(self) -> "Run":
        """Every network in eval mode (dropout off, BatchNorm running statistics); returns the run."""
        for m in self.models.values():
            m.eval()
        return self


def user_weights_dir() -> Path:
    """Where weights other than the committed ones go: ``COURSE_WEIGHTS_DIR`` if set, else
    ``~/.cache/course_lib/weights``."""
    return Path(os.environ.get("COURSE_WEIGHTS_DIR") or Path.home() / ".cache" / "course_lib" / "weights")


def weights_path(stem: str, profile: str = "fast", seed: int = 0) -> Path:
    """Where training writes the weight file of ``stem``: ``course_lib/weights/<stem>.pt`` for the fast profile at
    seed 0 (the committed files the notebooks load), ``<user_weights_dir()>/<stem>_<profile>_seed<seed>.pt``
    otherwise. Loading looks in :func:`stored_weights_path`, which also finds the other seeds the course ships."""
    if profile == "fast" and seed == 0:
        return WEIGHTS_DIR / f"{stem}.pt"
    return user_weights_dir() / f"{stem}_{profile}_seed{seed}.pt"


def stored_weights_path(stem: str, profile: str = "fast", seed: int = 0) -> Path:
    """Where loading finds the weight file of ``stem``: :func:`weights_path` when that file exists (seed 0 of the
    fast profile, or a run of one's own), else ``course_lib/weights/<stem>_seed<seed>.pt`` for a fast-profile seed
    the course ships (the experiment's ``STORED_SEEDS``: seeds 1 and 2 of the ablations of notebooks 06-08, 1-4 of
    notebook 04's ring toy), else :func:`weights_path`
    (missing: train-or-load trains it there). Training never writes the shipped seeds' files, so a test or a retrain at seed 1 leaves them
    as they are."""
    path = weights_path(stem, profile, seed)
    shipped = WEIGHTS_DIR / f"{stem}_seed{seed}.pt"
    if not path.is_file() and profile == "fast" and seed != 0 and shipped.is_file():
        return shipped
    return path


def train_command(name: str, profile: str = "fast", seed: int = 0, member: str | None = None,
                  precision: str = "fp32") -> str:
    """The command stored with a weight file: ``python -m course_lib train NAME --profile P --seed S``
    (with ``--member M`` when it trains one member of several, and ``--precision bf16|fp16`` when it
    did not train in fp32)."""
    command = f"python -m course_lib train {name} --profile {profile} --seed {seed}"
    if member is not None:
        command += f" --member {member}" if " " not in member else f" --member '{member}'"
    if precision != "fp32":
        command += f" --precision {precision}"
    return command


def checkpoint_path(stem: str, profile: str = "fast", seed: int = 0) -> Path:
    """Where :func:`train` keeps the resumable checkpoint of a run whose weights are ``stem``:
    ``<user_weights_dir()>/<stem>_<profile>_seed<seed>.ckpt`` (beside the weights of every profile and
    seed but the committed ones, which live in the package and get no stray files)."""
    return user_weights_dir() / f"{stem}_{profile}_seed{seed}.ckpt"


def load_stored(net, name: str, stem: str, profile: str = "fast", seed: int = 0, member: str | None = None,
                device=None, what: str | None = None):
    """Load the stored weights ``stem`` (:func:`weights_path`) of experiment ``name`` into ``net``: the one-call
    loaders of the experiments (``load_srcnn``, ``load_pretrained``) end here.

    Returns:
        ``net`` in eval mode on ``device`` (default: :func:`course_lib.device.get_device`), the file's record as
        ``net.meta`` (command, steps, seconds, held-out curve).

    Raises:
        FileNotFoundError: no weight file for this profile and seed; the message gives the command that makes it
        (:func:`train_command`).
    """
    from ..checkpoints import load_weights
    from ..device import get_device

    path = stored_weights_path(stem, profile, seed)
    if not path.is_file():
        raise FileNotFoundError(f"no stored {what or stem} at {path}: make it with "
                                f"`{train_command(name, profile, seed, member)}`")
    net.meta = load_weights(net, path)
    return net.to(device if device is not None else get_device()).eval()


FULL_CHECKPOINT_EVERY = 1000
"""Default checkpoint period (steps) of the full profile's training; the fast profile keeps none unless asked."""


def loss_curve(history: Mapping[str, list], points: int = 100) -> dict[str, list]:
    """A compact curve of a training history for the weight file's record: every logged value averaged
    over ``len // points`` consecutive steps; ``"step"`` is the last step of each window (1-based)."""
    names = [k for k in history if not k.startswith("_")]
    if not names:
        return {}
    n = len(history[names[0]])
    width = max(1, n // points)
    ends = list(range(width, n + 1, width))
    curve = {"step": ends}
    for k in names:
        values = history[k]
        curve[k] = [round(statistics.fmean(values[e - width:e]), 6) for e in ends]
    return curve


def members_of(module: ModuleType, cfg) -> list[str]:
    """The experiment's ``MEMBERS`` (a tuple, or a function of the config)."""
    members = getattr(module, "MEMBERS", ())
    return list(members(cfg) if callable(members) else members)


def _name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def _select(module: ModuleType, cfg, members: Sequence[str] | None) -> list[str]:
    known = members_of(module, cfg)
    chosen = list(known if members is None else members)
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise ValueError(f"{_name(module)} has no member(s) {unknown}; its members: {known}")
    return chosen


def _resolve_precision(module: ModuleType, run: Run, precision: Precision | str | None) -> Precision:
    if isinstance(precision, Precision):
        p = precision
    else:
        p = resolve(model_device(run.models.values()), precision)
    asked = precision if not isinstance(precision, Precision) else p.name
    asked = (asked or os.environ.get("COURSE_PRECISION") or "auto").strip().lower()
    if p.use_scaler and not getattr(module, "PRECISION_HELPER", False):
        if asked == "auto":  # an older GPU: fp16 needs loss scaling that this train_step does not do
            return dataclasses.replace(FP32, device_type=p.device_type, channels_last=p.channels_last,
                                       compile=p.compile)
        raise ValueError(f"{_name(module)}'s train_step does not use run.precision.backward_step, which fp16 "
                         "needs for loss scaling (torch.amp.GradScaler): train it in bf16 or fp32")
    return p


def _snapshot(value: Any):
    """A checkpointable copy of one ``run.state`` entry (``None``: a constant from ``build``)."""
    if hasattr(value, "state_dict") and hasattr(value, "load_state_dict"):
        return ("state_dict", value.state_dict())
    if value is None or isinstance(value, (bool, int, float, str, tuple, torch.Tensor, torch.device)):
        return None
    if isinstance(value, torch.Generator):
        return ("generator", value.get_state())
    if isinstance(value, (list, dict)) or hasattr(value, "__dict__"):
        return ("copy", copy.deepcopy(value))
    return None


def _restore(value: Any, saved) -> None:
    kind, data = saved
    if kind == "state_dict":
        value.load_state_dict(data)
    elif kind == "generator":
        value.set_state(data)
    elif isinstance(value, list):
        value[:] = data
    elif isinstance(value, dict):
        value.clear()
        value.update(data)
    else:
        value.__dict__.update(data.__dict__)


def _rng_states() -> dict:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(path: Path, run: Run, step: int, steps: int, history: Mapping[str, list], seconds: float,
                    ranks: list | None = None) -> None:
    """Write everything needed to continue ``run`` after ``step`` of ``steps`` to ``path`` (atomically:
    a temporary file renamed): the models' and the state's ``state_dict`` (optimisers, schedulers, loss
    modules), deep copies of other mutable state (image pools), the generators of Python, NumPy, torch
    (and CUDA), the logged history, the seconds trained so far, and the precision (with the fp16
    scaler's state). Under torchrun, rank 0 writes it with ``ranks``: every process's
    :func:`_rank_state` (its own generators and image pools), by rank."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: snap for k, v in run.state.items() if (snap := _snapshot(v)) is not None}
    scaler = run.precision.scaler if run.precision.use_scaler else None
    payload = {"format": 1, "step": step, "steps": steps, "models": {k: m.state_dict() for k, m in run.models.items()},
               "state": state, "rng": _rng_states(), "history": {k: list(v) for k, v in history.items()},
               "seconds": seconds, "precision": run.precision.name,
               "scaler": scaler.state_dict() if scaler is not None else None}
    if ranks is not None:
        payload["ranks"] = ranks
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _rank_state(run: Run) -> dict:
    """What differs between the processes of a data-parallel run: the global generators (seeded per rank,
    :func:`course_lib.distributed.reseed_rank`) and copied state such as image pools of the rank's own fakes."""
    state = {k: snap for k, v in run.state.items() if (snap := _snapshot(v)) is not None and snap[0] != "state_dict"}
    return {"rng": _rng_states(), "state": state}


def _load_checkpoint(path: Path, run: Run, steps: int, ckpt: dict | None = None) -> dict:
    if ckpt is None:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)  # our own file: optimiser state, generators
    world = distributed.world_size()
    if len(ckpt.get("ranks") or [None]) != world:
        raise ValueError(f"the checkpoint {path} was written by {len(ckpt.get('ranks') or [None])} process(es), this "
                         f"run has {world}: resume with the same number (torchrun --nproc_per_node), or delete it")
    if ckpt.get("steps") != steps or ckpt.get("precision") != run.precision.name:
        raise ValueError(f"the checkpoint {path} is of a run of {ckpt.get('steps')} steps in {ckpt.get('precision')}, "
                         f"not {steps} in {run.precision.name}: delete it or train with the same settings")
    for k, m in run.models.items():
        m.load_state_dict(ckpt["models"][k])
    for k, saved in ckpt["state"].items():
        _restore(run.state[k], saved)
    if ckpt["scaler"] is not None:
        run.precision.scaler.load_state_dict(ckpt["scaler"])
    if "ranks" in ckpt:  # data-parallel: this process's own generators and image pools
        own = ckpt["ranks"][distributed.rank()]
        for k, saved in own["state"].items():
            _restore(run.state[k], saved)
        ckpt["rng"] = own["rng"]
    return ckpt


def fit(module: ModuleType, run: Run, *, steps: int | None = None, desc: str = "train", progress: bool = True,
        precision: Precision | str | None = None, checkpoint: str | Path | None = None,
        checkpoint_every: int | None = None, resume: bool = False) -> dict:
    """Train ``run`` in place with the experiment's ``train_step`` for ``steps`` (default ``run.steps``);
    returns the :func:`course_lib.train.train_loop` history.

    Args:
        precision: a :class:`~course_lib.precision.Precision`, a name (``"auto"``, ``"fp32"``, ``"bf16"``,
            ``"fp16"``) or ``None`` (``COURSE_PRECISION``, default ``auto``: fp32 on the CPU), resolved
            for the models' device (:func:`course_lib.precision.resolve`) and set as ``run.precision``.
            Each ``train_step`` runs under its autocast; models are prepared (channels_last, compile).
            In fp32 (without channels_last/compile) the step is called exactly as before. ``auto`` on a
            GPU without bf16 falls back to fp32 for an experiment whose ``train_step`` does not use
            ``run.precision.backward_step`` (module attribute ``PRECISION_HELPER``).
        checkpoint: the checkpoint file (:func:`save_checkpoint`); needed for ``checkpoint_every`` and ``resume``.
        checkpoint_every: write the checkpoint after every this many steps (``None``: never).
        resume: continue from ``checkpoint`` when the file exists (models, optimisers, schedulers, other
            state, random generators, history; the batch iterator is fast-forwarded by the steps done,
            which reproduces the uninterrupted run exactly when the batches come from their own seeded
            generator, as every experiment's do); train from the start when it does not.

    Under torchrun with several processes (:mod:`course_lib.distributed`, ``docs/distributed.md``) the
    training is data-parallel: the models are wrapped in DDP for the loop and unwrapped after it, each
    process trains on its slice of every global batch (with ``COURSE_DDP_BATCH=per-process``: on whole
    batches in turn, for ``ceil(steps / processes)`` steps), ranks > 0 draw their own random numbers, the
    logged losses are averaged over the processes, BatchNorm running statistics are averaged before
    each checkpoint and at the end; rank 0 alone shows progress and reads and writes the checkpoint.

    Raises:
        ValueError: fp16 for an experiment without the helper, an unknown precision (see ``resolve``),
            ``checkpoint_every``/``resume`` without ``checkpoint``, ``checkpoint_every < 1``, a
            checkpoint of another number of steps, precision or processes, or (data-parallel) a
            batch size that the number of processes does not divide, or ``per-process`` batches for a
            run with learning-rate schedules.
    """
    steps = steps or run.steps
    run.precision = p = _resolve_precision(module, run, precision)
    if (checkpoint_every or resume) and checkpoint is None:
        raise ValueError("checkpoint_every and resume need a checkpoint file (checkpoint=...)")
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1 steps, got {checkpoint_every}")
    for m in run.models.values():
        m.train()
        if not p.is_default:
            p.prepare(m)
    if not p.is_default:
        for value in run.state.values():  # Adam / AdamW / SGD to their fused kernels (Precision.prepare_optimizer)
            if isinstance(value, torch.optim.Optimizer):
                p.prepare_optimizer(value)
    if p.name == "fp32":
        step = lambda batch: module.train_step(run, batch)  # noqa: E731 -- the original path, untouched
    else:
        def step(batch):
            with p.autocast():
                return module.train_step(run, batch)
    parallel = distributed.active()
    if not parallel:
        return _fit_loop(run, step, run.batches, steps, desc, progress, checkpoint, checkpoint_every, resume, False)
    if distributed.batch_mode() == "per-process":  # whole batches in turn: P times the batch, 1/P of the steps
        schedules = [k for k, v in run.state.items() if isinstance(v, torch.optim.lr_scheduler.LRScheduler)]
        if schedules:
            raise ValueError(f"{desc}: {distributed.BATCH_MODE_ENV}=per-process takes 1/{distributed.world_size()} of "
                             f"the steps, but the schedules {schedules} were built for {steps}: use the default "
                             "(each batch split over the processes)")
        steps, batches = -(-steps // distributed.world_size()), lambda: distributed.interleaved(run.batches())
    else:
        batches = lambda: distributed.sharded(run.batches())  # noqa: E731
    distributed.reseed_rank()
    originals = dict(run.models)
    run.models.update({k: distributed.wrap(m) for k, m in originals.items()})
    try:
        history = _fit_loop(run, lambda batch: distributed.average_logs(step(batch)), batches, steps, desc,
                            progress and distributed.is_main(), checkpoint, checkpoint_every, resume, True)
    finally:
        run.models.update(originals)
    distributed.average_batchnorm_statistics(run.models.values())
    return history


def _fit_loop(run: Run, step: Callable, batches: Callable[[], Iterable], steps: int, desc: str, progress: bool,
              checkpoint: str | Path | None, checkpoint_every: int | None, resume: bool, parallel: bool) -> dict:
    """:func:`fit`'s loop, with the checkpoints; ``parallel``: rank 0 alone reads and writes them."""
    if checkpoint is None:
        history = train_loop(step, batches(), steps, desc=desc, progress=progress)
        run.eval()
        return history

    done, before, seconds = 0, {}, 0.0
    if resume:
        found = Path(checkpoint).is_file() if distributed.is_main() else None
        payload = torch.load(checkpoint, map_location="cpu", weights_only=False) if found else None
        payload = distributed.broadcast_object(payload) if parallel else payload  # our own file (see _load_checkpoint)
        if payload is not None:
            ckpt = _load_checkpoint(Path(checkpoint), run, steps, payload)
            done, before, seconds = ckpt["step"], ckpt["history"], ckpt["seconds"]
    data = infinite_batches(batches())
    for _ in range(done):  # fast-forward the batches (their own generator), then restore the global ones
        next(data)
    if done:
        _set_rng_states(ckpt["rng"])
    logged = {k: list(v) for k, v in before.items()}
    count = [done]
    start = time.perf_counter()

    def checkpointed(batch):
        logs = step(batch)
        count[0] += 1
        for k, v in logs.items():
            logged.setdefault(k, []).append(float(v))
        if checkpoint_every and count[0] % checkpoint_every == 0 and count[0] < steps:
            if parallel:
                distributed.average_batchnorm_statistics(run.models.values())
            ranks = distributed.gather_objects(_rank_state(run)) if parallel else None
            if distributed.is_main():
                save_checkpoint(Path(checkpoint), run, count[0], steps, logged, seconds + time.perf_counter() - start,
                                ranks=ranks)
        return logs

    if done < steps:
        history = train_loop(checkpointed, data, steps - done, desc=desc if not done else f"{desc} (from step {done})",
                             progress=progress)
    else:
        history = {"_samples": [], "_seconds": [0.0]}
    out = {k: logged[k] for k in logged}
    out["_samples"] = history["_samples"]
    out["_seconds"] = [seconds + history["_seconds"][0]]
    run.eval()
    return out


def train(module: ModuleType, cfg, seed: int = 0, *, members: Sequence[str] | None = None,
          progress: bool = True, precision: Precision | str | None = None, checkpoint_every: int | None = None,
          resume: bool = False) -> dict[str, Run]:
    """Train every member (or ``members``) of an experiment from scratch and store its weights.

    Each member is seeded with ``seed`` before ``build``; its stored networks go to
    :func:`weights_path` with :func:`train_command` and ``meta = {member, seed, steps, train_seconds,
    loss_curve}`` (:func:`loss_curve`; plus ``precision`` when it did not train in plain fp32, and
    ``held_out_curve`` when the ``train_step`` records one in ``run.state["held_out_curve"]``).

    Args:
        precision: see :func:`fit` (``None``: ``COURSE_PRECISION``, default ``auto``: fp32 on the CPU).
        checkpoint_every: write a resumable checkpoint (:func:`checkpoint_path`) every this many steps;
            ``None``: every :data:`FULL_CHECKPOINT_EVERY` steps in the full profile, never in the fast one;
            ``0``: never. The checkpoint is deleted once the weights are stored.
        resume: continue each member from its checkpoint where there is one (:func:`fit`).

    Started by torchrun with several processes (``torchrun --nproc_per_node N -m course_lib train NAME``), it
    joins their process group (:func:`course_lib.distributed.init`) and trains data-parallel (:func:`fit`);
    rank 0 alone stores the weights and removes the checkpoint.

    Returns:
        ``{member: Run}`` in eval mode, ``run.meta`` filled and ``run.meta["history"]`` the loss history.
    """
    distributed.init()
    name = _name(module)
    several = len(members_of(module, cfg)) > 1
    if checkpoint_every is None:
        checkpoint_every = FULL_CHECKPOINT_EVERY if cfg.profile == "full" else 0
    runs = {}
    for member in _select(module, cfg, members):
        seed_everything(seed)
        run = module.build(cfg, member, seed)
        ckpt = None
        if checkpoint_every or resume:
            stem = next(iter(run.stored.values()), f"{name}_{member}")
            ckpt = checkpoint_path(stem, cfg.profile, seed)
        history = fit(module, run, desc=f"{name} {member}", progress=progress, precision=precision,
                      checkpoint=ckpt, checkpoint_every=checkpoint_every or None, resume=resume)
        meta = {"member": member, "seed": seed, "steps": run.steps,
                "train_seconds": round(history["_seconds"][0], 1), "loss_curve": loss_curve(history)}
        if distributed.active():
            meta["processes"], meta["batches"] = distributed.world_size(), distributed.batch_mode()
        if not run.precision.is_default:
            meta["precision"] = run.precision.describe()
        if "held_out_curve" in run.state:  # a train_step that scores its own held-out curve (mode_collapse)
            meta["held_out_curve"] = run.state["held_out_curve"]
        command = train_command(name, cfg.profile, seed, member if several else None, run.precision.name)
        if distributed.is_main():
            for role, stem in run.stored.items():
                save_weights(run.models[role], weights_path(stem, cfg.profile, seed), command, meta)
            if ckpt is not None and ckpt.is_file():
                ckpt.unlink()
        distributed.barrier()
        run.meta = dict(meta, command=command, trained=True, history=history)
        runs[member] = run
    return runs


def load(module: ModuleType, cfg, seed: int = 0, *, members: Sequence[str] | None = None,
         retrain: bool | None = None, progress: bool = True) -> dict[str, Run]:
    """Train-or-load: every member (or ``members``) with its stored weights, trained first (and stored)
    when a weight file is missing or ``retrain`` is true (``None``: the environment variable
    ``COURSE_RETRAIN=1`` asks for it, :func:`course_lib.checkpoints.retrain_requested`, unless the module
    sets ``RETRAIN_FROM_ENVIRONMENT = False``, as the recognizer that judges the generators does).
    An experiment that scores another experiment's weights loads them with ``retrain=False``: retraining
    is the other experiment's own command.

    Returns:
        ``{member: Run}`` in eval mode; ``run.meta`` is the stored file's record (``trained`` says which).
    """
    if retrain is None:
        retrain = getattr(module, "RETRAIN_FROM_ENVIRONMENT", True) and retrain_requested()
    runs = {}
    for member in _select(module, cfg, members):
        seed_everything(seed)
        run = module.build(cfg, member, seed)
        paths = {role: stored_weights_path(stem, cfg.profile, seed) for role, stem in run.stored.items()}
        if retrain or not all(p.is_file() for p in paths.values()):
            runs.update(train(module, cfg, seed, members=[member], progress=progress))
            continue
        metas = [load_weights(run.models[role], p) for role, p in paths.items()]
        run.meta = dict(metas[0] if metas else {}, trained=False)
        runs[member] = run.eval()
    return runs


# --- results ----------------------------------------------------------------------------------------

def format_value(value: Any, digits: int = 3) -> str:
    """A table cell: floats with ``digits`` decimals (``.2g`` when that would show only zeros), infinity
    as ∞, None as a dash, everything else as ``str``."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "∞" if value == math.inf else str(value)
        return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.2g}"
    return str(value)


def markdown_table(rows: Sequence[Mapping], columns: Sequence[str] | None = None,
                   digits: int | Mapping[str, int] = 3, headers: Mapping[str, str] | None = None) -> str:
    """A Markdown table of flat dicts, e.g. for ``IPython.display.Markdown`` in a notebook.

    Args:
        rows: one dict per row.
        columns: the keys to show, in order (default: the first row's keys).
        digits: decimals of float cells (:func:`format_value`), one number or ``{column: digits}``
            (columns not named get 3).
        headers: ``{column: header text}`` for columns whose header is not the key itself.

    Raises:
        ValueError: no rows.
    """
    if not rows:
        raise ValueError("markdown_table needs at least one row")
    columns = list(columns or rows[0].keys())
    headers = dict(headers or {})
    places = digits if isinstance(digits, Mapping) else {}
    default = 3 if isinstance(digits, Mapping) else digits
    lines = ["| " + " | ".join(headers.get(c, c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(format_value(r.get(c), places.get(c, default)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _mean_sd(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    if not all(math.isfinite(v) for v in values):  # e.g. the PSNR of real images, inf at every seed
        return (values[0], 0.0 if len(values) > 1 else float("nan")) if len(set(values)) == 1 else (float("nan"),) * 2
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else float("nan")


def summarize_seeds(tables: list[list[dict]]) -> list[dict]:
    """Mean and sample standard deviation over seeds of every numeric column, row by row.

    Args:
        tables: one experiment table per seed (a list of row dicts, as ``evaluate`` returns); rows
            are matched by the value of their first column (e.g. ``"objective"``), which must name the same
            rows in the same order in every table.

    Returns:
        One dict per row: the first column's value, ``"n_seeds"``, and for every numeric column ``c``
        (int or float, not bool) ``c`` = the mean and ``c_sd`` = the sample standard deviation (``nan``
        with one seed; ``nan`` values are left out of both, and a column that is ``nan`` for every seed
        stays ``nan``; a column that is the same infinity at every seed, such as the PSNR of real images,
        keeps it with sd 0, and mixed infinite values give ``nan``).

    Raises:
        ValueError: no tables, or tables whose rows differ (names or order).
    """
    if not tables:
        raise ValueError("summarize_seeds needs at least one table (one per seed)")
    key = next(iter(tables[0][0]))
    names = [row[key] for row in tables[0]]
    for t in tables[1:]:
        if [row.get(key) for row in t] != names:
            raise ValueError(f"the seeds' tables name different rows: {names} vs {[row.get(key) for row in t]}; "
                             "summarize only runs of the same experiment and profile")
    out = []
    for i, name in enumerate(names):
        row = {key: name, "n_seeds": len(tables)}
        for col, value in tables[0][i].items():
            if col == key or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            values = [float(t[i][col]) for t in tables if not math.isnan(float(t[i][col]))]
            row[col], row[col + "_sd"] = _mean_sd(values)
        out.append(row)
    return out


# --- the command line's driver ------------------------------------------------------------------------

def experiment_names() -> list[str]:
    """Every experiment: the modules of ``course_lib/experiments/`` other than ``common``, ``plots`` and
    names starting with ``_`` (``tests/test_experiments.py`` checks that each has the shape)."""
    from . import __path__ as path

    names = []
    for m in pkgutil.iter_modules(path):
        if m.name in ("common", "plots") or m.name.startswith("_") or m.ispkg:
            continue
        names.append(m.name)
    return sorted(names)


def experiment(name: str) -> ModuleType:
    """The experiment module ``course_lib.experiments.<name>``.

    Raises:
        ValueError: no such experiment (the message lists them).
    """
    if name not in experiment_names():
        raise ValueError(f"unknown experiment {name!r}; experiments: {experiment_names()}")
    return importlib.import_module(f"{__package__}.{name}")


def reproduce(name: str, profile: Profile | str | None = None, seed: int = 0, *, retrain: bool | None = None,
              progress: bool = True) -> dict:
    """Score an experiment's stored weights (train-or-load; ``retrain`` trains first, ``None`` follows
    ``COURSE_RETRAIN``).

    Returns:
        ``{"experiment", "profile", "seed", "seconds", "config", "table", ...extras}`` where ``table`` is
        the list of row dicts ``evaluate`` returned (and ``extras`` what it returned beside them).
    """
    module = experiment(name)
    cfg = module.Config.make(profile)
    start = time.perf_counter()
    runs = load(module, cfg, seed, retrain=retrain, progress=progress)
    out = module.evaluate(cfg, runs, seed=seed, progress=progress)
    rows, extras = out if isinstance(out, tuple) else (out, {})
    return {"experiment": name, "profile": cfg.profile, "seed": seed,
            "seconds": round(time.perf_counter() - start, 1), "config": cfg.as_dict(), "table": rows, **extras}
