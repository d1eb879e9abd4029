"""``python -m course_lib bench``: how fast the course's training steps run on this machine, in fp32 and in
the fast path (bf16 autocast + channels_last + the fused optimizer kernels that :func:`common.fit` uses on
it), against the machine's own matrix-multiply rate.

For each model, one *full training step* as the course trains it (the experiment's own ``build`` and
``train_step``: forward, losses, backward, optimizer step, schedules) is timed on synthetic batches of the
stated size:

``pix2pix``
    Isola et al. 2017's settings: ``unet_256`` generator (ngf 64, BatchNorm, dropout) + 70 x 70 PatchGAN
    (``NLayerDiscriminator``, n_layers 3, ndf 64) on 3-channel 256 x 256 pairs, batch 1, the L1 + cGAN
    objective (:mod:`course_lib.experiments.pix2pix_ablation`, its full-profile ``Config``).
``cyclegan``
    Zhu et al. 2017's settings: two ``resnet_9blocks`` generators (InstanceNorm) + two 70 x 70 PatchGANs,
    3-channel 256 x 256, batch 1, LSGAN + cycle + identity losses, image pools
    (:func:`course_lib.experiments.cyclegan.train_step`; the networks built as its ``build`` does, with 3
    channels: its full profile is refused for scoring reasons only).
``dncnn``
    The course's DnCNN-style denoiser at its full-profile size: depth 20, 64 features, batches of 128
    patches of 50 x 50 (:mod:`course_lib.experiments.denoising`).
``ddpm``
    The DDPM U-Net of :mod:`course_lib.experiments.diffusion` (:data:`~course_lib.experiments.diffusion.ARCH`,
    the same in both profiles), batches of 32 images of 28 x 28, with its EMA update.

What is measured (all in one run, so the numbers can be compared):

* ``img_per_s``: images per step / the median wall-clock seconds of the timed steps (the warm-up steps,
  which allocate Adam's state and let the kernels pick their algorithms, are excluded);
* ``flops_per_step``: floating-point operations of one step counted by
  :class:`torch.utils.flop_counter.FlopCounterMode` (matrix multiplies and convolutions, forward and
  backward, ``2 x`` multiply-accumulates; elementwise ops, norms and the optimizer are not counted), the
  same for both precisions; ``achieved_flop_per_s`` = flops / median seconds, and its fraction of the
  square matrix multiply's rate in the same dtype measured in the same run (:func:`matmul_rate`), just
  before that model (stored as the model's ``matmul``; the run's first and last measurements are
  ``matmul`` and ``matmul_end``: on a shared virtual machine the rate changes over minutes);
* ``peak_memory_mib``: on CUDA ``torch.cuda.max_memory_allocated`` over the steps (parameters, optimizer
  state, activations; the caching allocator's reserve is not counted); on a CPU the growth of the process's
  resident set during the steps (``VmHWM`` of ``/proc/self/status`` after resetting it through
  ``/proc/self/clear_refs``, minus ``VmRSS`` before the first step, after ``malloc_trim``): the activations,
  gradients, optimizer state and workspaces the steps touched, plus whatever the allocator kept; where
  ``/proc`` cannot be reset, the growth of ``getrusage``'s ``ru_maxrss`` (a process-wide high-water mark: 0
  when an earlier measurement already went higher).

Sizes for the tests (``tiny=True``, the hidden ``--tiny`` option) run the same code path at 32 x 32 with
tiny widths.
"""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime as _dt
import itertools
import json
import os
import platform
import re
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

MODELS = ("pix2pix", "cyclegan", "dncnn", "ddpm")
"""The benchmarked training steps, in the order they run."""


# --- the fast path -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FastPath:
    """The fast path on one device: autocast in ``name`` (``"fp32"``: none) and channels_last.

    Attributes:
        name: ``"bf16"``, ``"fp16"`` or ``"fp32"`` (no low-precision type here).
        dtype: the autocast type (``torch.float32``: no autocast).
        source: which code chose it (``course_lib.precision.resolve`` when that module is there).
    """

    name: str
    dtype: torch.dtype
    device_type: str
    source: str

    def autocast(self):
        """The autocast context of the fast path (a null context for fp32)."""
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)


def fast_path(device: torch.device) -> FastPath:
    """The fast path on ``device``: bf16 autocast on a CPU with bf16 matrix units (AVX512-BF16 / AMX) and on
    GPUs with bf16; fp16 on older GPUs (timed without loss scaling: the experiments' steps call
    ``loss.backward()`` themselves); fp32 elsewhere. Chosen by :func:`course_lib.precision.resolve`
    (``bf16`` asked for on a CPU that has it, ``auto`` on a GPU) where that module is there."""
    try:
        from .precision import cpu_supports_bf16, resolve
    except ImportError:
        resolve = None
    if resolve is not None:
        if device.type == "cuda":
            p = resolve(device, "auto")
        else:
            p = resolve(device, "bf16" if cpu_supports_bf16() else "fp32")
        return FastPath(p.name, p.dtype, p.device_type, "course_lib.precision.resolve")
    if device.type == "cuda":
        name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    else:
        check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        name = "bf16" if device.type == "cpu" and check is not None and check() else "fp32"
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]
    return FastPath(name, dtype, device.type, "torch.autocast (course_lib.precision not found)")


FP32 = None
"""``time_steps``'s precision argument for plain fp32 (no autocast)."""


def to_channels_last(value):
    """``value`` (a module, a 4-d tensor, or a tuple / list of them) in channels_last memory format;
    anything else unchanged."""
    if isinstance(value, nn.Module):
        return value.to(memory_format=torch.channels_last)
    if isinstance(value, torch.Tensor):
        return value.contiguous(memory_format=torch.channels_last) if value.dim() == 4 else value
    if isinstance(value, (tuple, list)):
        return type(value)(to_channels_last(v) for v in value)
    return value


# --- the workloads ------------------------------------------------------------------------------------

@dataclass
class Workload:
    """One benchmarked training step: ``step()`` runs it once on the fixed synthetic ``batch``.

    Attributes:
        name: a key of :data:`MODELS`.
        description: the networks, input size and batch, in words.
        images_per_step: images (pairs for pix2pix; one image per domain counts once for CycleGAN) per step.
        run: the experiment's :class:`~course_lib.experiments.common.Run`.
        train_step: the experiment's ``train_step(run, batch)``.
        batch: the synthetic batch (on the device).
    """

    name: str
    description: str
    images_per_step: int
    run: object
    train_step: Callable
    batch: object

    def parameters(self) -> int:
        """Trainable parameters of the trained networks (the DDPM's EMA copy excluded)."""
        return sum(p.numel() for m in self.run.models.values() for p in m.parameters() if p.requires_grad)

    def step(self) -> dict:
        return self.train_step(self.run, self.batch)

    def fuse_optimizers(self) -> None:
        """The run's Adam / AdamW / SGD optimizers to their fused kernels, as :func:`common.fit` does on the
        fast path (:meth:`course_lib.precision.Precision.prepare_optimizer`)."""
        from .precision import FP32

        fused = dataclasses.replace(FP32, fused_optimizer=True)
        for value in self.run.state.values():
            if isinstance(value, torch.optim.Optimizer):
                fused.prepare_optimizer(value)

    def channels_last(self) -> None:
        """Networks and batch to channels_last (parameters keep their identity: the optimizers still hold them)."""
        for m in self.run.models.values():
            to_channels_last(m)
        self.batch = to_channels_last(self.batch)


@contextlib.contextmanager
def _course_device(device: torch.device):
    """The experiments' ``build`` put their networks on ``get_device()``: point it at ``device``."""
    from .device import DEVICE_ENV_VAR

    old = os.environ.get(DEVICE_ENV_VAR)
    os.environ[DEVICE_ENV_VAR] = str(device)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(DEVICE_ENV_VAR, None)
        else:
            os.environ[DEVICE_ENV_VAR] = old


def _images(n: int, channels: int, size: int, device, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, channels, size, size, generator=generator) * 2 - 1).to(device)


def build_workload(name: str, device: torch.device | str = "cpu", tiny: bool = False, seed: int = 0) -> Workload:
    """The training step ``name`` (a key of :data:`MODELS`) built by its experiment, on ``device``, with a
    fixed synthetic batch in [-1, 1] (seeded with ``seed``).

    Args:
        tiny: the test sizes (32 x 32, tiny widths, small batches) through the same code.

    Raises:
        ValueError: an unknown name.
    """
    from .experiments import common

    device = torch.device(device)
    g = torch.Generator().manual_seed(seed)
    if name == "pix2pix":
        from .experiments import pix2pix_ablation as E

        small = dict(size=32, generator="unet_32", ngf=4, ndf=4) if tiny else {}
        cfg = E.Config.make("full", **small)  # facades: 3 -> 3 channels, unet_256, "basic" = 70 x 70, batch 1
        with _course_device(device):
            run = E.build(cfg, "L1+cGAN", seed)
        batch = (_images(cfg.batch_size, 3, cfg.size, device, g), _images(cfg.batch_size, 3, cfg.size, device, g))
        desc = (f"{cfg.generator} (ngf {cfg.ngf}) + 70x70 PatchGAN (ndf {cfg.ndf}), L1+cGAN, "
                f"batch {cfg.batch_size}, 3x{cfg.size}x{cfg.size}")
        return Workload(name, desc, cfg.batch_size, run, E.train_step, batch)
    if name == "cyclegan":
        from .experiments import cyclegan as E
        from .losses import GANLoss
        from .models.pix2pix import ImagePool, define_G
        from .translation import build_discriminator

        small = dict(size=32, ngf=4, ndf=4) if tiny else {}
        cfg = E.Config.make("full", **small)  # resnet_9blocks, instance norm, 70 x 70 PatchGANs, batch 1
        from .device import seed_everything

        seed_everything(seed)  # as E.build does, with the paper's 3 channels
        nets = {"G_AB": define_G(cfg.cycle_generator, 3, 3, cfg.ngf, cfg.cycle_norm),
                "G_BA": define_G(cfg.cycle_generator, 3, 3, cfg.ngf, cfg.cycle_norm),
                "D_A": build_discriminator(cfg, 3), "D_B": build_discriminator(cfg, 3)}
        nets = {role: net.to(device) for role, net in nets.items()}
        opt_G, sched_G = common.adam(itertools.chain(nets["G_AB"].parameters(), nets["G_BA"].parameters()), cfg.lr,
                                     (cfg.beta1, 0.999), schedule="linear_decay", steps=cfg.cycle_steps)
        opt_D, sched_D = common.adam(itertools.chain(nets["D_A"].parameters(), nets["D_B"].parameters()), cfg.lr,
                                     (cfg.beta1, 0.999), schedule="linear_decay", steps=cfg.cycle_steps)
        run = common.Run(models=nets, stored={}, steps=cfg.cycle_steps, batches=lambda: iter(()),
                         state={"opt_G": opt_G, "opt_D": opt_D, "sched_G": sched_G, "sched_D": sched_D,
                                "criterion": GANLoss("lsgan").to(device),
                                "pool_A": ImagePool(cfg.pool_size, seed), "pool_B": ImagePool(cfg.pool_size, seed + 1),
                                "lambda_cycle": cfg.lambda_cycle, "lambda_identity": cfg.lambda_identity})
        batch = (_images(cfg.batch_size, 3, cfg.size, device, g), _images(cfg.batch_size, 3, cfg.size, device, g))
        desc = (f"2x {cfg.cycle_generator} (ngf {cfg.ngf}, {cfg.cycle_norm}) + 2x 70x70 PatchGAN (ndf {cfg.ndf}), "
                f"batch {cfg.batch_size}, 3x{cfg.size}x{cfg.size}")
        return Workload(name, desc, cfg.batch_size, run, E.train_step, batch)
    if name == "dncnn":
        from .experiments import denoising as E

        small = dict(depth=3, features=8, patch_size=16, batch_size=4) if tiny else {}
        cfg = E.Config.make("full", **small)
        with _course_device(device):
            run = E.build(cfg, "dncnn", seed)
        noisy = torch.rand(cfg.batch_size, 1, cfg.patch_size, cfg.patch_size, generator=g)
        noise = torch.randn(noisy.shape, generator=g) * 25 / 255
        desc = (f"DnCNN depth {cfg.depth}, {cfg.features} features, batch {cfg.batch_size}, "
                f"1x{cfg.patch_size}x{cfg.patch_size}")
        return Workload(name, desc, cfg.batch_size, run, E.train_step, ((noisy + noise).to(device), noise.to(device)))
    if name == "ddpm":
        from .experiments import diffusion as E

        cfg = E.Config.make("full", **(dict(batch_size=2) if tiny else {}))
        run = E.build(cfg, "ddpm", seed)
        for m in run.models.values():
            m.to(device)  # in place: the optimizer keeps the same parameters
        x0 = _images(cfg.batch_size, 1, 28, device, g)
        arch = ", ".join(f"{k} {v}" for k, v in E.ARCH.items())
        return Workload(name, f"DDPM U-Net ({arch}), batch {cfg.batch_size}, 1x28x28", cfg.batch_size, run,
                        E.train_step, x0)
    raise ValueError(f"unknown benchmark model {name!r}; known: {list(MODELS)}")


# --- measuring ---------------------------------------------------------------------------------------

def synchronize(device: torch.device) -> None:
    """Wait for the queued GPU work (a no-op on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32, n: int | None = None,
                repeats: int = 5) -> dict:
    """The measured rate of a square ``n x n`` matrix multiply in ``dtype`` on ``device``.

    ``2 n^3`` floating-point operations per multiply; two warm-up multiplies, then the median of ``repeats``
    timed ones (each long enough to time: ``n`` defaults to 2048 on a CPU, 8192 on a GPU).

    Returns:
        ``{"dtype", "n", "seconds" (median), "flop_per_s"}``.
    """
    device = torch.device(device)
    n = n or (8192 if device.type == "cuda" else 2048)
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device=device, dtype=dtype)
    b = torch.randn(n, n, generator=g).to(device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        synchronize(device)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"dtype": str(dtype).removeprefix("torch."), "n": n, "seconds": seconds, "flop_per_s": 2 * n ** 3 / seconds}


def count_flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of ``fn()`` as :class:`torch.utils.flop_counter.FlopCounterMode` counts them
    (matrix multiplies and convolutions, forward and backward; ``2 x`` multiply-accumulates). Runs ``fn``
    once."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


class _PeakMemory:
    """Peak memory of the steps run inside the context (see the module docstring for what it means)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.method = memory_method(device)
        self.mib: float | None = None

    def __enter__(self):
        if self.device.type == "cuda":
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            _malloc_trim()
            self._proc = _reset_hwm()
            self._before = _rss_kib() if self._proc else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            synchronize(self.device)
            self.mib = torch.cuda.max_memory_allocated(self.device) / 2 ** 20
        elif self._proc:
            self.mib = max(0, _hwm_kib() - self._before) / 1024
        else:
            self.mib = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self._before) / 1024
        return False


def memory_method(device: torch.device) -> str:
    """What ``peak_memory_mib`` means on ``device`` (a sentence for the JSON)."""
    if device.type == "cuda":
        return "torch.cuda.max_memory_allocated over warm-up and timed steps (tensors alive at the peak, parameters included)"
    if _reset_hwm():
        return ("growth of the process's resident set over warm-up and timed steps: /proc/self/status VmHWM (reset "
                "through /proc/self/clear_refs) minus VmRSS before the first step, after malloc_trim")
    return "growth of getrusage ru_maxrss over the steps (a process-wide high-water mark: 0 if an earlier run went higher)"


def _proc_status(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+)", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def _rss_kib() -> int:
    return _proc_status("VmRSS")


def _hwm_kib() -> int:
    return _proc_status("VmHWM")


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _hwm_kib() > 0
    except OSError:
        return False


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _autocast(path: FastPath | None):
    return contextlib.nullcontext() if path is None else path.autocast()


def time_steps(work: Workload, device: torch.device, path: FastPath | None, warmup: int, steps: int,
               count: bool = False) -> dict:
    """Run ``warmup`` untimed and ``steps`` timed training steps of ``work`` on ``device`` under the fast
    path ``path`` (:data:`FP32`, None: plain fp32).

    Returns:
        ``{"step_seconds": [...], "step_seconds_median", "peak_memory_mib"}`` and, with ``count``,
        ``"flops_per_step"`` (counted on the first warm-up step).
    """
    out = {}
    with _PeakMemory(device) as mem:
        for i in range(warmup):
            with _autocast(path):
                if count and i == 0:
                    out["flops_per_step"] = count_flops(work.step)
                else:
                    work.step()
        synchronize(device)
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            with _autocast(path):
                work.step()
            synchronize(device)
            times.append(time.perf_counter() - start)
    out.update(step_seconds=[round(t, 5) for t in times], step_seconds_median=statistics.median(times),
               peak_memory_mib=round(mem.mib, 1))
    return out


BREAKDOWN_GROUPS = ("convolution", "optimizer", "dtype and layout copies", "normalization", "other")
"""The parts of a step that :func:`breakdown` reports."""


def _group(op: str) -> str:
    if "convolution" in op or op in ("aten::mm", "aten::addmm", "aten::bmm", "aten::linear"):
        return "convolution"
    if op in ("aten::copy_", "aten::_to_copy", "aten::to", "aten::contiguous", "aten::clone"):
        return "dtype and layout copies"
    if "norm" in op:
        return "normalization"
    return "other"


def breakdown(work: Workload, device: torch.device, path: FastPath | None, steps: int = 1) -> dict:
    """Where one training step's time goes (on a CPU; ``torch.profiler``, after one untimed step): milliseconds
    per step of the optimizer (``Optimizer.step`` and ``zero_grad``, everything inside them), convolutions and
    matrix multiplies (forward and backward), dtype/layout copies (autocast's casts of the weights and
    activations, channels_last conversions), normalization layers, and the rest (activations, losses,
    concatenation, dropout, autograd bookkeeping). Profiling slows a step a little; the shares are what it
    is for.

    Returns:
        ``{"milliseconds": {group: ms per step}, "profiled_step_ms": ..., "top_ops": [[op, ms per step], ...]}``.
    """
    from torch.profiler import ProfilerActivity, profile

    with _autocast(path):
        work.step()
    synchronize(device)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            with _autocast(path):
                work.step()
        synchronize(device)
    events = prof.events()
    optimizer_us = sum(e.cpu_time_total for e in events
                       if e.name.startswith("Optimizer.step") or e.name.startswith("Optimizer.zero_grad"))
    inside = set()
    for e in events:  # the ops inside the optimizer's regions are counted once, as "optimizer"
        if e.name.startswith("Optimizer."):
            stack = list(e.cpu_children)
            while stack:
                child = stack.pop()
                inside.add(id(child))
                stack.extend(child.cpu_children)
    groups = dict.fromkeys(BREAKDOWN_GROUPS, 0.0)
    groups["optimizer"] = optimizer_us
    per_op: dict[str, float] = {}
    for e in events:
        if id(e) in inside or e.name.startswith("Optimizer.") or not e.name.startswith("aten::"):
            continue
        groups[_group(e.name)] += e.self_cpu_time_total
        per_op[e.name] = per_op.get(e.name, 0.0) + e.self_cpu_time_total
    total = sum(groups.values())
    top = sorted(per_op.items(), key=lambda kv: -kv[1])[:8]
    return {"milliseconds": {k: round(v / 1000 / steps, 1) for k, v in groups.items()},
            "profiled_step_ms": round(total / 1000 / steps, 1),
            "top_ops": [[name, round(us / 1000 / steps, 1)] for name, us in top]}


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name (``/proc/cpuinfo``, else ``platform.processor()``)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        if match:
            return match.group(1).strip()
    return platform.processor() or platform.machine()


def resolve_device(name: str | None) -> torch.device:
    """``--device``: ``cpu``, ``cuda`` or ``cuda:N`` (default: CUDA when available, else the CPU).

    Raises:
        ValueError: another name, or CUDA asked for where none is available (the message says which).
    """
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}: use cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not benchmarked: use cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for but CUDA is not available here (torch "
                             f"{torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: there are {torch.cuda.device_count()} CUDA devices")
    return device


def benchmark(device: torch.device | str | None = None, models: tuple[str, ...] | list[str] = MODELS,
              steps: int = 5, warmup: int = 2, tiny: bool = False, matmul_n: int | None = None,
              explain: tuple[str, ...] | list[str] = (), progress: Callable[[str], None] | None = None) -> dict:
    """Measure every model's training step in fp32 and in the fast path, and the matrix-multiply rates.

    Args:
        device: see :func:`resolve_device`.
        models: keys of :data:`MODELS`.
        steps: timed steps per model and precision (>= 1); warmup: untimed steps before them (>= 1; the first
            fp32 one is the one whose FLOPs are counted).
        tiny: the tests' sizes.
        matmul_n: side of the timed square matrix multiply (default: :func:`matmul_rate`'s).
        explain: models whose fp32 and fast steps are also profiled on a CPU (:func:`breakdown`, stored as
            the model's ``breakdown``), after the timed steps.
        progress: called with a line of text as each measurement ends.

    Returns:
        The JSON-ready record (every field is described in ``docs/results.md``'s benchmark section): machine,
        ``matmul`` rates, and per model ``fp32`` and ``fast`` results with img/s, FLOP/s and their fraction of
        the matmul rate of the same dtype, and peak memory.

    Raises:
        ValueError: a bad device, an unknown model, ``steps`` or ``warmup`` < 1.
    """
    device = device if isinstance(device, torch.device) else resolve_device(device)
    unknown = [m for m in [*models, *explain] if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown benchmark models {unknown}; known: {list(MODELS)}")
    if steps < 1 or warmup < 1:
        raise ValueError(f"steps and warmup must be >= 1, got steps={steps}, warmup={warmup}")
    say = progress or (lambda line: None)
    path = fast_path(device)
    fast_name = path.name
    load_before = [round(x, 2) for x in os.getloadavg()]

    def rates() -> dict:
        out = {"fp32": matmul_rate(device, torch.float32, n=matmul_n)}
        if fast_name != "fp32":
            out[fast_name] = matmul_rate(device, path.dtype, n=matmul_n)
        say("matmul " + ", ".join(f"{k} {v['flop_per_s'] / 1e9:.1f} GFLOP/s" for k, v in out.items())
            + f" (n = {out['fp32']['n']})")
        return out

    matmul = None
    rows = []
    for name in models:
        mm = rates()  # before each model: a shared machine's rate can change during a run
        matmul = matmul or mm
        work = build_workload(name, device, tiny=tiny)
        entry = {"model": name, "description": work.description, "images_per_step": work.images_per_step,
                 "parameters": work.parameters(), "matmul": {k: v["flop_per_s"] for k, v in mm.items()}}
        fp32 = time_steps(work, device, FP32, warmup, steps, count=True)
        flops = fp32.pop("flops_per_step")
        entry["flops_per_step"] = flops
        explained = name in explain and device.type == "cpu"
        parts = {"fp32": breakdown(work, device, FP32)} if explained else {}
        del work
        # the fast path on a fresh build, converted before its first step (as common.fit prepares models):
        # Adam's state is then created in the parameters' channels_last layout; state left in the other
        # layout by fp32 steps would make every optimizer step run on mixed strides (measured 1.7x slower)
        work = build_workload(name, device, tiny=tiny)
        work.channels_last()
        work.fuse_optimizers()
        fast = time_steps(work, device, path, warmup, steps)
        if explained:
            parts["fast"] = breakdown(work, device, path)
            entry["breakdown"] = parts
        for key, res, kind in (("fp32", fp32, "fp32"), ("fast", fast, fast_name)):
            seconds = res["step_seconds_median"]
            achieved = flops / seconds
            entry[key] = {"precision": kind, "channels_last": key == "fast", **res,
                          "img_per_s": work.images_per_step / seconds, "achieved_flop_per_s": achieved,
                          "fraction_of_matmul": achieved / mm[kind]["flop_per_s"]}
        entry["speedup"] = entry["fast"]["img_per_s"] / entry["fp32"]["img_per_s"]
        rows.append(entry)
        say(f"{name}: fp32 {entry['fp32']['img_per_s']:.3g} img/s, {fast_name} {entry['fast']['img_per_s']:.3g} img/s "
            f"({entry['speedup']:.2f}x)")
        del work
    return {"device": str(device), "device_name": device_name(device), "torch": torch.__version__,
            "python": platform.python_version(), "threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "cpu_count": os.cpu_count(),
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "fast_path": {"autocast_dtype": fast_name if fast_name != "fp32" else None, "channels_last": True,
                          "fused_optimizer": True, "chosen_by": path.source},
            "warmup_steps": warmup, "timed_steps": steps, "statistic": "median of the timed steps",
            "tiny": tiny, "flop_counter": "torch.utils.flop_counter.FlopCounterMode, one fp32 step",
            "memory_method": memory_method(device), "matmul": matmul, "matmul_end": rates(), "models": rows}


def matmul_span(result: dict) -> dict[str, tuple[float, float]]:
    """``{dtype: (lowest, highest)}`` matrix-multiply rate (FLOP/s) measured over a benchmark run."""
    seen: dict[str, list[float]] = {}
    for rec in (result["matmul"], result["matmul_end"]):
        for k, v in rec.items():
            seen.setdefault(k, []).append(v["flop_per_s"])
    for row in result["models"]:
        for k, v in row["matmul"].items():
            seen.setdefault(k, []).append(v)
    return {k: (min(v), max(v)) for k, v in seen.items()}


def markdown(result: dict) -> str:
    """The benchmark as a markdown table (one row per model; fp32 and fast path side by side)."""
    fast = result["fast_path"]["autocast_dtype"] or "fp32"
    spans = matmul_span(result)
    lines = [f"{result['device_name']} ({result['device']}, {result['threads']} threads), torch {result['torch']}; "
             "matmul " + ", ".join(f"{k} {lo / 1e9:.0f}-{hi / 1e9:.0f} GFLOP/s" for k, (lo, hi) in spans.items())
             + " over the run", "",
             f"| model | GFLOP/step | fp32 img/s | {fast}+CL img/s | speedup | fp32 % of matmul | {fast} % of matmul "
             f"| fp32 peak MiB | {fast} peak MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["models"]:
        a, b = r["fp32"], r["fast"]
        lines.append(f"| {r['model']} | {r['flops_per_step'] / 1e9:.3g} | {a['img_per_s']:.3g} | {b['img_per_s']:.3g} | "
                     f"{r['speedup']:.2f}x | {100 * a['fraction_of_matmul']:.0f}% | {100 * b['fraction_of_matmul']:.0f}% "
                     f"| {a['peak_memory_mib']:.0f} | {b['peak_memory_mib']:.0f} |")
    return "\n".join(lines)


def add_arguments(p) -> None:
    """The ``bench`` subcommand's options (on an argparse parser)."""
    import argparse

    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available, else cpu)")
    p.add_argument("--models", nargs="+", default=list(MODELS), metavar="MODEL",
                   help=f"which training steps (default: all of {' '.join(MODELS)})")
    p.add_argument("--steps", type=int, default=5, help="timed steps per model and precision (default 5; median)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.add_argument("--out", help="write the measurements to this JSON file")
    p.add_argument("--explain", nargs="*", default=[], metavar="MODEL",
                   help="also profile these models' steps (CPU only): milliseconds in convolutions, the optimizer, "
                        "dtype/layout copies, normalization and the rest")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the tests' sizes
    p.add_argument("--matmul-n", type=int, default=None, help=argparse.SUPPRESS)


def command_line(args) -> str:
    """The ``python -m course_lib bench ...`` command that the parsed ``args`` stand for."""
    parts = ["python -m course_lib bench"]
    if args.device:
        parts.append(f"--device {args.device}")
    if list(args.models) != list(MODELS):
        parts.append("--models " + " ".join(args.models))
    parts.append(f"--steps {args.steps} --warmup {args.warmup}")
    if args.tiny:
        parts.append("--tiny")
    if args.matmul_n:
        parts.append(f"--matmul-n {args.matmul_n}")
    if args.explain:
        parts.append("--explain " + " ".join(args.explain))
    if args.out:
        parts.append(f"--out {Path(args.out).name}")
    return " ".join(parts)


def main(args) -> int:
    """Run the benchmark from parsed ``bench`` arguments; print the table; write ``--out``."""
    try:
        device = resolve_device(args.device)
        result = benchmark(device, args.models, steps=args.steps, warmup=args.warmup, tiny=args.tiny,
                           matmul_n=args.matmul_n, explain=args.explain, progress=lambda line: print(line, flush=True))
    except ValueError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2
    result["command"] = command_line(args)
    print()
    print(markdown(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nwritten to {args.out}")
    return 0
