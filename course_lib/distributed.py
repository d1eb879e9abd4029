"""Data-parallel training with ``torchrun`` and PyTorch's ``DistributedDataParallel`` (DDP).

``torchrun --nproc_per_node N -m course_lib train NAME [--member M]`` starts ``N`` copies of the command; each
reads its place from the variables torchrun sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``). :func:`init` joins them into one process group (backend ``nccl`` on CUDA GPUs, ``gloo`` on the
CPU) and gives each process the GPU ``cuda:LOCAL_RANK``. Without torchrun (or with one process) nothing here
changes anything: :func:`active` is false and every helper is a no-op.

What :func:`course_lib.experiments.common.fit` does with it (see ``docs/distributed.md``):

* **models**: every network with trainable parameters is wrapped in DDP for the training loop
  (:class:`DataParallelModel`, a thin proxy, so that the experiments' ``train_step`` calls ``run.G(x)`` unchanged)
  and unwrapped afterwards for saving and evaluation. DDP averages the gradients of all processes during
  ``backward`` (Li et al. 2020, "PyTorch Distributed", VLDB), so every process takes the same optimiser step and
  the parameters stay identical. A network whose parameters are all frozen for a moment (CycleGAN's
  discriminators during the generators' step) is called directly, without DDP.
* **data**: every process draws the same seeded *global* batch from ``run.batches()`` and keeps its contiguous
  slice (:func:`shard`); the mean losses of equal slices average to the mean over the global batch, so the
  averaged gradient is the one-process gradient of the same batch. A batch the processes cannot split (pix2pix's
  batch of 1 in the full profile) needs ``COURSE_DDP_BATCH=per-process``: each process takes whole batches in
  turn (:func:`interleaved`), the global batch is ``world_size()`` times larger and the run takes that many
  times fewer steps (the same epochs). Datasets read from files use
  :func:`torch.utils.data.distributed.DistributedSampler` instead (:func:`course_lib.data.official.loader`).
* **randomness inside a step** (noise, timesteps, dropout): rank 0 starts from the one-process generator state;
  every other rank is reseeded with a seed of its own (:func:`reseed_rank`), so that no two slices get the same
  noise. (Each rank draws noise for its slice only, so the draws differ from one process's after the first.)
* **BatchNorm**: each process normalises with the statistics of its own slice, and DDP does not copy rank 0's
  running statistics to the others before every forward (``broadcast_buffers=False``, ``forward_sync_buffers``
  in newer PyTorch: that copy would throw away the other ranks' updates, and cost a broadcast per call, three
  per GAN step); instead the running statistics are averaged over the processes before every checkpoint and at
  the end (:func:`average_batchnorm_statistics`), so the stored networks use every rank's data.
  ``COURSE_SYNC_BN=1`` converts BatchNorm to :class:`torch.nn.SyncBatchNorm` on CUDA (statistics of the global
  batch, as one process); PyTorch has no SyncBatchNorm on the CPU.
* **files and output**: rank 0 alone shows progress bars, prints, reads and writes checkpoints (the per-rank
  random states and image pools are gathered into its file and handed back on ``--resume``:
  :func:`gather_objects`, :func:`broadcast_object`) and stores weights.

Data loading (:func:`loader_options`) keeps a GPU busy: worker processes, pinned memory, persistent workers and
prefetching on CUDA, nothing of that on the CPU (``COURSE_NUM_WORKERS`` and ``COURSE_PIN_MEMORY`` override).
"""
from __future__ import annotations

import atexit
import functools
import inspect
import os
from typing import Any, Iterable, Iterator

import torch
import torch.distributed as dist
from torch import nn

SYNC_BN_ENV = "COURSE_SYNC_BN"
FIND_UNUSED_ENV = "COURSE_DDP_FIND_UNUSED"
BATCH_MODE_ENV = "COURSE_DDP_BATCH"
WORKERS_ENV = "COURSE_NUM_WORKERS"
PIN_ENV = "COURSE_PIN_MEMORY"
RANK_SEED_STRIDE = 1_000_003
"""Rank ``r > 0`` reseeds its global generators with ``seed + r * RANK_SEED_STRIDE`` (:func:`reseed_rank`)."""


# --- the process group --------------------------------------------------------------------------------

def launched() -> bool:
    """Whether this process was started by torchrun (or another launcher) with more than one process:
    ``WORLD_SIZE`` > 1 in the environment."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1


def _env_int(name: str) -> int:
    value = os.environ.get(name)
    if value is None:
        raise RuntimeError(f"{name} is not set: start the command with torchrun (torchrun --nproc_per_node N "
                           "-m course_lib train NAME), which sets RANK, WORLD_SIZE and LOCAL_RANK")
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name}={value!r} is not an integer; it is set by torchrun") from None


def init(backend: str | None = None) -> bool:
    """Join the process group that torchrun describes in the environment, once; returns :func:`active`.

    Does nothing (and returns False) when ``WORLD_SIZE`` is unset or 1. Otherwise: on a machine with CUDA
    (unless ``COURSE_DEVICE`` asks for the CPU) process ``LOCAL_RANK`` takes ``cuda:LOCAL_RANK`` (also written
    to ``COURSE_DEVICE``, which :func:`course_lib.device.get_device` reads) and the backend is ``nccl``; on the
    CPU it is ``gloo``. The group is destroyed at exit (:func:`cleanup`).

    Args:
        backend: force a backend (``"gloo"``, ``"nccl"``); ``None`` picks by device as above.

    Raises:
        RuntimeError: ``RANK`` or ``LOCAL_RANK`` missing, or ``LOCAL_RANK`` names a GPU this machine lacks.
    """
    if dist.is_initialized():
        return active()
    if not launched():
        return False
    rank, world, local = _env_int("RANK"), _env_int("WORLD_SIZE"), _env_int("LOCAL_RANK")
    wanted = (os.environ.get("COURSE_DEVICE") or "").strip().lower()
    use_cuda = torch.cuda.is_available() and not wanted.startswith(("cpu", "mps"))
    if use_cuda:
        if local >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local} but this machine has {torch.cuda.device_count()} GPU(s): "
                               "start at most that many processes per node (--nproc_per_node)")
        torch.cuda.set_device(local)
        os.environ["COURSE_DEVICE"] = f"cuda:{local}"
    backend = backend or ("nccl" if use_cuda else "gloo")
    kwargs = {"device_id": torch.device("cuda", local)} if backend == "nccl" else {}
    dist.init_process_group(backend=backend, rank=rank, world_size=world, **kwargs)
    atexit.register(cleanup)
    return True


def active() -> bool:
    """Whether a process group of more than one process is running (training is then data-parallel)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank in ``[0, world_size())`` (0 without a process group)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """Number of processes (1 without a process group)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def local_rank() -> int:
    """The process's rank on its machine (torchrun's ``LOCAL_RANK``; 0 without torchrun)."""
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def is_main() -> bool:
    """Whether this process logs, shows progress and writes files: rank 0, or the only process."""
    return rank() == 0


def barrier() -> None:
    """Wait until every process gets here (nothing without a process group)."""
    if active():
        dist.barrier()


def cleanup() -> None:
    """Leave and destroy the process group (nothing when there is none); safe to call twice."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def describe() -> str:
    """One line for ``python -m course_lib info``: the process's place when torchrun started it."""
    if not launched():
        return "one process (start with torchrun --nproc_per_node N for data-parallel training)"
    return (f"rank {os.environ.get('RANK', '?')} of {os.environ.get('WORLD_SIZE', '?')} processes "
            f"(local rank {local_rank()}), started by torchrun")


def _comm_device() -> torch.device:
    """Where tensors of a collective must live: the process's GPU under nccl, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


# --- models --------------------------------------------------------------------------------------------

_NO_BUFFER_SYNC = ({"forward_sync_buffers": False}
                   if "forward_sync_buffers" in inspect.signature(nn.parallel.DistributedDataParallel).parameters
                   else {"broadcast_buffers": False})
"""DDP's option not to copy rank 0's buffers before every forward (``forward_sync_buffers`` where this PyTorch
has it, as 2.14 does, else the older ``broadcast_buffers``; the initial copy of rank 0's parameters and buffers
happens either way)."""


def _find_unused() -> bool:
    return os.environ.get(FIND_UNUSED_ENV, "0").strip() not in ("", "0", "false", "no")


class DataParallelModel(nn.Module):
    """A network wrapped in :class:`torch.nn.parallel.DistributedDataParallel` for training, looking like the
    network itself: ``parameters()``, ``state_dict()``, ``load_state_dict()``, ``requires_grad_()`` and any other
    attribute reach the wrapped ``module``; a call goes through DDP (gradients averaged over the processes in
    ``backward``) while gradients are recorded and some parameter requires one, and straight to ``module``
    otherwise (evaluation under ``torch.no_grad()``, a discriminator frozen during the generator's step). So do
    the module's own methods (``run.net.noise(y)``): DDP averages only what passes through its ``forward``, so
    such a call runs the method as ``forward`` for that once.

    Args:
        module: the network, already on this process's device (its parameters are the ones optimisers hold;
            DDP copies rank 0's parameters and buffers to every process when it is built).
        find_unused_parameters: DDP's option for steps that leave some parameters without a gradient
            (default: ``COURSE_DDP_FIND_UNUSED=1``; slower, needed only by such steps).

    Raises:
        RuntimeError: called with some but not all parameters frozen without ``find_unused_parameters``
            (DDP would wait for the frozen ones' gradients for ever).
    """

    def __init__(self, module: nn.Module, *, find_unused_parameters: bool | None = None):
        super().__init__()
        self.module = module
        find_unused = _find_unused() if find_unused_parameters is None else find_unused_parameters
        device = next(module.parameters()).device
        ddp = nn.parallel.DistributedDataParallel(
            module, device_ids=[device] if device.type == "cuda" else None, find_unused_parameters=find_unused,
            **_NO_BUFFER_SYNC)
        object.__setattr__(self, "ddp", ddp)  # not a submodule: parameters and state_dict stay the module's
        object.__setattr__(self, "find_unused", find_unused)
        object.__setattr__(self, "_params", [p for p in module.parameters() if p.requires_grad])

    def forward(self, *args, **kwargs):
        return self.ddp(*args, **kwargs) if self._needs_ddp() else self.module(*args, **kwargs)

    def train(self, mode: bool = True):
        super().train(mode)
        self.ddp.training = mode
        return self

    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.module.load_state_dict(*args, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            module = super().__getattr__("module")
            value = getattr(module, name)
            if callable(value) and getattr(value, "__self__", None) is module and not hasattr(nn.Module, name):
                return functools.partial(self._call_method, name)  # e.g. DnCNN's net.noise(y): through DDP too
            return value

    def _call_method(self, name: str, *args, **kwargs):
        """``module.<name>(*args, **kwargs)``, through DDP like a call (the gradients of a method other than
        ``forward`` are averaged too): DDP calls ``module.forward``, so that is the method for this one call."""
        module = self.module
        if not self._needs_ddp():
            return getattr(module, name)(*args, **kwargs)
        method = getattr(type(module), name)

        def forward(*a, **k):
            module.__dict__.pop("forward", None)  # the method's own self(...) calls reach the real forward
            return method(module, *a, **k)

        module.forward = forward
        try:
            return self.ddp(*args, **kwargs)
        finally:
            module.__dict__.pop("forward", None)

    def _needs_ddp(self) -> bool:
        if not torch.is_grad_enabled():
            return False
        trainable = sum(p.requires_grad for p in self._params)
        if trainable == 0:
            return False
        if trainable < len(self._params) and not self.find_unused:
            raise RuntimeError(f"{type(self.module).__name__} is partly frozen ({trainable} of {len(self._params)} "
                               f"parameters require gradients): DDP needs {FIND_UNUSED_ENV}=1 for such a step")
        return True


def unwrap(model: nn.Module) -> nn.Module:
    """The network inside a :class:`DataParallelModel` or a DDP wrapper; any other module itself."""
    while isinstance(model, (DataParallelModel, nn.parallel.DistributedDataParallel)):
        model = model.module
    return model


def wrap(model: nn.Module) -> nn.Module:
    """``model`` in a :class:`DataParallelModel` when a process group is active and it has a parameter that
    requires gradients (an exponential average, ``requires_grad_(False)``, stays as it is); else ``model``.
    With ``COURSE_SYNC_BN=1`` on CUDA its BatchNorm layers become ``SyncBatchNorm`` first (in place).

    Raises:
        ValueError: ``COURSE_SYNC_BN=1`` on the CPU (PyTorch's SyncBatchNorm needs GPUs).
    """
    if not active() or not any(p.requires_grad for p in model.parameters()):
        return model
    if os.environ.get(SYNC_BN_ENV, "0").strip() not in ("", "0"):
        if next(model.parameters()).device.type != "cuda":
            raise ValueError(f"{SYNC_BN_ENV}=1 needs CUDA GPUs (PyTorch's SyncBatchNorm has no CPU version): "
                             "unset it on the CPU")
        _convert_sync_batchnorm(model)
    return DataParallelModel(model)


def _convert_sync_batchnorm(model: nn.Module) -> None:
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.SyncBatchNorm.convert_sync_batchnorm(child))
        else:
            _convert_sync_batchnorm(child)


@torch.no_grad()
def average_batchnorm_statistics(models: Iterable[nn.Module]) -> None:
    """Replace the running mean and variance of every BatchNorm layer by their average over the processes
    (nothing without a process group). Each process's running statistics follow its own slices of the
    data; the average of the running means is the running mean of the global batches (the update is
    linear), the average of the variances leaves out the spread between the slices' means."""
    if not active():
        return
    world = world_size()
    for model in models:
        for m in unwrap(model).modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
                for buf in (m.running_mean, m.running_var):
                    if buf is not None:
                        t = buf.to(_comm_device())
                        dist.all_reduce(t)
                        buf.copy_(t.div_(world))


def max_parameter_difference(model: nn.Module) -> float:
    """The largest absolute difference between this process's parameters and buffers and rank 0's (0.0
    without a process group): 0 when DDP kept the processes in step. Every process must call it."""
    if not active():
        return 0.0
    worst = torch.zeros((), dtype=torch.float64, device=_comm_device())
    for t in list(unwrap(model).parameters()) + list(unwrap(model).buffers()):
        if not t.is_floating_point():
            continue
        ref = t.detach().to(_comm_device(), copy=True)
        dist.broadcast(ref, 0)
        worst = torch.maximum(worst, (ref - t.detach().to(ref.device)).abs().max().double())
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    return float(worst)


# --- data and randomness -------------------------------------------------------------------------------

def shard(batch: Any, rank_: int | None = None, world: int | None = None) -> Any:
    """This process's contiguous slice of a global batch: every tensor (in tuples, lists and dicts, nested)
    cut along its first dimension into ``world`` equal parts, part ``rank_`` kept; other values unchanged.

    Args:
        batch: a tensor ``B x ...``, or tuples/lists/dicts of them (all with the same ``B``).
        rank_, world: default :func:`rank` and :func:`world_size`.

    Returns:
        The same structure with tensors of ``B / world`` rows (views of the global batch).

    Raises:
        ValueError: ``B`` not divisible by ``world`` (choose ``--nproc_per_node`` dividing the batch size).
    """
    r = rank() if rank_ is None else rank_
    w = world_size() if world is None else world
    if w == 1:
        return batch
    if isinstance(batch, torch.Tensor):
        if batch.dim() == 0:
            return batch
        n = batch.shape[0]
        if n % w:
            raise ValueError(f"a global batch of {n} cannot be split evenly over {w} processes: start a number "
                             f"of processes that divides {n} (torchrun --nproc_per_node), or give each process "
                             f"whole batches with {BATCH_MODE_ENV}=per-process (docs/distributed.md)")
        k = n // w
        return batch[r * k:(r + 1) * k]
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # a named tuple
        return type(batch)(*(shard(b, r, w) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(b, r, w) for b in batch)
    if isinstance(batch, dict):
        return {k: shard(v, r, w) for k, v in batch.items()}
    return batch


def sharded(batches: Iterable) -> Iterator:
    """Every batch of ``batches`` cut to this process's slice (:func:`shard`)."""
    for batch in batches:
        yield shard(batch)


def interleaved(batches: Iterable, rank_: int | None = None, world: int | None = None) -> Iterator:
    """Batches ``rank_, rank_ + world, rank_ + 2 world, ...`` of ``batches``: each process its own whole batches,
    the ``world`` consecutive batches of the seeded stream making one step's global batch
    (:data:`BATCH_MODE_ENV` ``=per-process``)."""
    r = rank() if rank_ is None else rank_
    w = world_size() if world is None else world
    for i, batch in enumerate(batches):
        if i % w == r:
            yield batch


def batch_mode() -> str:
    """How a data-parallel run splits the data: ``"global"`` (default; every process a slice of each
    configured batch, :func:`shard`: the run of one process) or ``"per-process"`` (each process whole batches of
    the configured size, :func:`interleaved`: a global batch ``world_size()`` times larger and
    ``world_size()`` times fewer steps, for configs whose batch cannot be split, such as pix2pix's batch of 1),
    from ``COURSE_DDP_BATCH``.

    Raises:
        ValueError: another value.
    """
    mode = os.environ.get(BATCH_MODE_ENV, "global").strip().lower() or "global"
    if mode not in ("global", "per-process"):
        raise ValueError(f"{BATCH_MODE_ENV}={mode!r}: use 'global' (split each batch over the processes) or "
                         "'per-process' (each process whole batches)")
    return mode


def reseed_rank(seed: int | None = None) -> None:
    """Give ranks ``r > 0`` random streams of their own (Python, NumPy, torch, CUDA), seeded with
    ``seed + r * RANK_SEED_STRIDE`` (``seed`` default: ``torch.initial_seed()``, the seed the run was built
    with); rank 0 keeps its state, the one a single process would start from. Nothing without a process group."""
    if not active() or rank() == 0:
        return
    from .device import seed_everything

    base = torch.initial_seed() if seed is None else seed
    seed_everything(int((base + rank() * RANK_SEED_STRIDE) % (2 ** 63)))


def average_logs(logs: dict) -> dict:
    """The logged floats of one step averaged over the processes (each logs the losses of its slice; the
    average is the loss of the global batch). The same keys on every process; unchanged without a group."""
    if not active() or not logs:
        return logs
    keys = sorted(logs)
    t = torch.tensor([float(logs[k]) for k in keys], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t)
    t /= world_size()
    return {**logs, **dict(zip(keys, t.tolist()))}


# --- objects between processes (checkpoints) -----------------------------------------------------------

def gather_objects(obj: Any) -> list | None:
    """Every process's ``obj`` (picklable) as a list indexed by rank on rank 0, ``None`` on the others;
    ``[obj]`` without a process group."""
    if not active():
        return [obj]
    out = [None] * world_size() if is_main() else None
    dist.gather_object(obj, out, dst=0)
    return out


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every process (the others pass anything, e.g. ``None``); ``obj`` without a group."""
    if not active():
        return obj
    box = [obj if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# --- data loading --------------------------------------------------------------------------------------

def loader_options(device: torch.device | str | None = None) -> dict:
    """Keyword arguments for :class:`torch.utils.data.DataLoader` that keep ``device`` busy.

    CUDA: ``num_workers`` = the machine's CPUs shared by the processes on it (at most 8 each),
    ``pin_memory=True`` (page-locked batches copy to the GPU asynchronously), ``persistent_workers=True`` (no
    restart every epoch) and ``prefetch_factor=4`` (batches ready per worker). Other devices (the CPU): no
    worker processes and no pinning -- the loader's defaults, since workers would compete with the training
    for the cores.

    Overrides: ``COURSE_NUM_WORKERS=N`` (0: load in the training process), ``COURSE_PIN_MEMORY=0|1``.

    Raises:
        ValueError: an override that is not a non-negative integer / 0 or 1.
    """
    from .device import get_device

    device = torch.device(device) if device is not None else get_device()
    cuda = device.type == "cuda"
    if cuda:
        per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
        workers = min(8, max(1, (os.cpu_count() or 1) // max(1, per_node) - 1))
    else:
        workers = 0
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        if not raw.isdigit():
            raise ValueError(f"{WORKERS_ENV}={raw!r}: give a number of worker processes (0 or more)")
        workers = int(raw)
    pin = cuda
    raw = os.environ.get(PIN_ENV, "").strip()
    if raw:
        if raw not in ("0", "1"):
            raise ValueError(f"{PIN_ENV}={raw!r}: use 1 (pin) or 0 (do not)")
        pin = raw == "1"
    options = {"num_workers": workers, "pin_memory": pin}
    if workers > 0:
        options.update(persistent_workers=True, prefetch_factor=4 if cuda else 2)
    return options
