"""One switch for numeric precision and memory layout of training: fp32, bf16 or fp16 autocast,
channels_last, ``torch.compile``.

Chosen by ``COURSE_PRECISION`` (``auto`` when unset; a ``name=`` argument overrides it), resolved per device
by :func:`resolve`:

============  ===========================  ===============================  ============
name          CUDA GPU with bf16           CUDA GPU without bf16            CPU / MPS
============  ===========================  ===============================  ============
``auto``      bf16 autocast                fp16 autocast + ``GradScaler``   **fp32**
``fp32``      fp32                         fp32                             fp32
``bf16``      bf16 autocast                ValueError                       bf16 autocast (CPU: where
                                                                            bf16 runs; MPS: ValueError)
``fp16``      fp16 autocast + GradScaler   fp16 autocast + GradScaler       ValueError
============  ===========================  ===============================  ============

The CPU default stays fp32 on purpose: the committed weights and the results tables are reproduced
bit for bit by the commands stored with them, which ran in fp32. On a CPU with fast bf16 matrix
multiplies (AVX512-BF16 / AMX; this course's reference machine runs them ~5x faster than fp32) opt in
with ``COURSE_PRECISION=bf16`` (or ``python -m course_lib train NAME --precision bf16``); weights
trained so record the precision in their meta and their command.

Autocast (``torch.autocast``) runs matrix multiplies and convolutions in the low-precision type and
keeps the parameters, the optimiser state and precision-sensitive ops (losses, norms, softmax) in
fp32 (Micikevicius et al. 2018, "Mixed precision training"; PyTorch's automatic mixed precision docs).
fp16 has a narrow exponent range, so small gradients underflow: its loss is scaled before backward and
the gradients unscaled before the step (``torch.amp.GradScaler``); :meth:`Precision.backward_step`
does that where a training step uses it.

The optimiser, in every setting but fp32: Adam, AdamW and SGD switched to their fused kernels (one pass over
each parameter for the whole update, ``fused=True``; PyTorch's default on the CPU is a Python loop over the
parameters). Same algorithm, different order of floating-point operations: the results differ from the
loop's by rounding (measured: max relative parameter difference ~1e-7 after 50 Adam steps,
``tests/test_precision.py``). On this course's 2-core CPU the update of pix2pix's 57 M parameters takes
about a third of the loop's time, which is what makes the bf16 path's step more than 2x faster than
fp32's (``python -m course_lib bench``). ``COURSE_FUSED_OPTIMIZER=0`` keeps the loop, ``=1`` fuses in fp32
too.

Layout and compilation, off by default: ``COURSE_CHANNELS_LAST=1`` stores conv nets' weights (and
should be paired with inputs) in NHWC ``channels_last`` (faster convolutions with cuDNN/oneDNN on
tensor-core GPUs and bf16 CPUs); ``COURSE_COMPILE=1`` wraps models in ``torch.compile`` (first steps
slow, later steps faster; models are compiled in place with ``module.compile()``, so state dicts and
attribute access stay the same).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

PRECISION_ENV = "COURSE_PRECISION"
CHANNELS_LAST_ENV = "COURSE_CHANNELS_LAST"
FUSED_ENV = "COURSE_FUSED_OPTIMIZER"
COMPILE_ENV = "COURSE_COMPILE"
NAMES = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    """A resolved precision setting (build it with :func:`resolve`).

    Attributes:
        name: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (never ``"auto"``: that is resolved).
        dtype: the autocast type (``torch.float32`` for fp32: no autocast).
        device_type: ``"cpu"``, ``"cuda"`` or ``"mps"``: where autocast applies.
        use_scaler: fp16 with a ``torch.amp.GradScaler`` (loss scaling).
        channels_last: :meth:`prepare` converts models to ``channels_last``.
        compile: :meth:`prepare` compiles models with ``torch.compile``.
        fused_optimizer: :meth:`prepare_optimizer` switches Adam, AdamW and SGD to their fused kernels.
    """

    name: str
    dtype: torch.dtype
    device_type: str
    use_scaler: bool = False
    channels_last: bool = False
    compile: bool = False
    fused_optimizer: bool = False

    @property
    def is_default(self) -> bool:
        """fp32 with no layout change, no compilation and the optimisers as built: exactly the course's
        original path."""
        return self.name == "fp32" and not self.channels_last and not self.compile and not self.fused_optimizer

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context to run forward passes and losses in: ``torch.autocast(device_type, dtype)``, or a
        no-op (``contextlib.nullcontext``) for fp32, so that the fp32 path is the original code."""
        if self.name == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def prepare(self, model: nn.Module) -> nn.Module:
        """Apply the layout and compilation settings to ``model`` in place and return it: ``channels_last``
        (``model.to(memory_format=torch.channels_last)``; parameters of other ranks are unchanged) and
        ``model.compile()``. A no-op when both are off."""
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        if self.compile:
            model.compile()
        return model

    def prepare_optimizer(self, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Switch ``optimizer`` to its fused kernel in place (``fused=True`` in every parameter group) and
        return it, when :attr:`fused_optimizer` is on, it is an ``Adam``, ``AdamW`` or ``SGD`` (exactly
        those classes), and every parameter is a floating-point tensor on a CPU or CUDA device (where
        PyTorch has the kernels). Anything else is returned unchanged, as is a ``differentiable`` one.
        The update is the same algorithm (Adam: Kingma & Ba 2015, Algorithm 1, with PyTorch's
        conventions); only the order of floating-point operations differs."""
        if not self.fused_optimizer or type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD):
            return optimizer
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if not params or any(g.get("differentiable") for g in optimizer.param_groups):
            return optimizer
        if not all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params):
            return optimizer
        for group in optimizer.param_groups:
            group["fused"], group["foreach"] = True, False
        return optimizer

    def input(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in ``channels_last`` when that is on and ``x`` is a 4-D image batch ``N x C x H x W``;
        else ``x`` itself."""
        if self.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    @functools.cached_property
    def scaler(self) -> "torch.amp.GradScaler | None":
        """The ``torch.amp.GradScaler`` of an fp16 setting (one per :class:`Precision` object; its state
        belongs in checkpoints), else ``None``."""
        return torch.amp.GradScaler(self.device_type) if self.use_scaler else None

    def backward_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """``loss.backward(); optimizer.step()``, with fp16 loss scaling where the setting has a scaler
        (``scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()``: a step whose
        gradients overflowed is skipped and the scale lowered). Call ``optimizer.zero_grad`` before, as
        without it. For fp32 and bf16 this is exactly the two plain calls."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def describe(self) -> str:
        """A short label, e.g. ``"bf16 autocast on cpu"`` or ``"fp32"``."""
        parts = [self.name if self.name == "fp32" else f"{self.name} autocast on {self.device_type}"]
        if self.use_scaler:
            parts.append("GradScaler")
        if self.channels_last:
            parts.append("channels_last")
        if self.compile:
            parts.append("torch.compile")
        if self.fused_optimizer:
            parts.append("fused optimizer")
        return ", ".join(parts)


def _flag(env: str) -> bool:
    value = os.environ.get(env, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{env} must be 0 or 1, got {os.environ[env]!r}")


@functools.lru_cache(maxsize=None)
def cpu_supports_bf16() -> bool:
    """Whether this CPU runs bf16 matrix multiplies natively: oneDNN reports bf16 support
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported``, AVX512-BF16/AMX or AVX512 emulation) and a tiny
    bf16 matmul gives the right answer. Without it bf16 autocast would still run, only slower than fp32."""
    probe = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    try:
        if probe is not None and not probe():
            return False
        a = torch.ones(4, 4, dtype=torch.bfloat16)
        return bool(torch.equal(a @ a, torch.full((4, 4), 4.0, dtype=torch.bfloat16)))
    except (RuntimeError, TypeError):
        return False


def cuda_supports_bf16(device: torch.device) -> bool:
    """Whether the CUDA GPU ``device`` has native bf16 (compute capability 8.0+, Ampere and later)."""
    return torch.cuda.is_available() and torch.cuda.get_device_capability(device)[0] >= 8


def resolve(device: torch.device | str | None = None, name: str | None = None, *,
            channels_last: bool | None = None, compile: bool | None = None,
            fused_optimizer: bool | None = None) -> Precision:
    """The precision setting for training on ``device``.

    Args:
        device: where the models live (default: :func:`course_lib.device.get_device`).
        name: ``"auto"``, ``"fp32"``, ``"bf16"`` or ``"fp16"`` (case-insensitive); ``None`` reads
            ``COURSE_PRECISION`` (default ``auto``). The table in this module's docstring says what
            each means on each device.
        channels_last, compile: override ``COURSE_CHANNELS_LAST`` / ``COURSE_COMPILE`` (default off).
        fused_optimizer: override ``COURSE_FUSED_OPTIMIZER`` (default: on for bf16 and fp16, off for fp32).

    Returns:
        A :class:`Precision`.

    Raises:
        ValueError: an unknown name; fp16 on the CPU or MPS; bf16 on a CPU or GPU without bf16 or on MPS;
            an environment flag that is not 0/1.
    """
    from .device import get_device

    dev = torch.device(device) if device is not None else get_device()
    raw = name if name is not None else (os.environ.get(PRECISION_ENV) or "auto")
    key = str(raw).strip().lower()
    if key not in NAMES:
        raise ValueError(f"unknown precision {raw!r} (from {'the argument' if name is not None else PRECISION_ENV}); "
                         f"use one of {NAMES}")
    kind = dev.type
    if key == "auto":
        if kind == "cuda":
            key = "bf16" if cuda_supports_bf16(dev) else "fp16"
        else:
            key = "fp32"  # CPU and MPS: the reproducible default (opt in to bf16 on a CPU with COURSE_PRECISION=bf16)
    if key == "fp16" and kind != "cuda":
        raise ValueError(f"fp16 training needs a CUDA GPU (loss scaling and fast fp16 kernels); on {kind} use "
                         "bf16 (a CPU with bf16 support) or fp32")
    if key == "bf16":
        if kind == "cpu" and not cpu_supports_bf16():
            raise ValueError("this CPU has no native bf16 matrix multiplies (oneDNN reports none): use fp32")
        if kind == "cuda" and not cuda_supports_bf16(dev):
            raise ValueError(f"the GPU {dev} has no native bf16 (compute capability < 8.0): use fp16 or fp32")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"bf16 autocast is supported here on the CPU and CUDA GPUs, not on {kind}: use fp32")
    return Precision(name=key, dtype=_DTYPES[key], device_type=kind if kind in ("cpu", "cuda", "mps") else "cpu",
                     use_scaler=key == "fp16",
                     channels_last=_flag(CHANNELS_LAST_ENV) if channels_last is None else bool(channels_last),
                     compile=_flag(COMPILE_ENV) if compile is None else bool(compile),
                     fused_optimizer=(bool(fused_optimizer) if fused_optimizer is not None
                                      else _flag(FUSED_ENV) if os.environ.get(FUSED_ENV, "").strip()
                                      else key != "fp32"))


FP32 = Precision("fp32", torch.float32, "cpu")
"""The plain fp32 setting (no autocast, no scaler, no layout change, no compilation)."""


def model_device(models) -> torch.device:
    """The device of the first parameter of the first model in ``models`` (an iterable of modules); the
    CPU when there are none."""
    for m in models:
        for p in m.parameters():
            return p.device
    return torch.device("cpu")


@contextlib.contextmanager
def using(precision: Precision) -> Iterator[Precision]:
    """``with using(p): ...`` runs the block under ``p.autocast()`` and yields ``p``."""
    with precision.autocast():
        yield precision


__all__ = ["Precision", "resolve", "FP32", "cpu_supports_bf16", "cuda_supports_bf16", "model_device", "using",
           "PRECISION_ENV", "CHANNELS_LAST_ENV", "COMPILE_ENV", "FUSED_ENV", "NAMES"]
