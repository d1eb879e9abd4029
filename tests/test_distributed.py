"""Data-parallel training (course_lib.distributed, common.fit under torchrun) on the CPU with gloo.

The slow tests start ``torchrun --standalone --nproc_per_node 2`` once on this file (the ``__main__`` part below
is the workers' script) and read what the two processes recorded; the same scenarios run in the test process
alone give the one-process reference. Tiny configs: pix2pix (L1 + cGAN, 32 x 32, global batch 8), CycleGAN and
the DDPM (batch 8), a few steps each. About 25 s on 2 cores with OMP_NUM_THREADS=1, most of it starting the two
processes and importing torch.

What is checked: the two ranks see different halves of every global batch (or, with
``COURSE_DDP_BATCH=per-process``, different whole batches); parameters (and the DDPM's weight
average) are identical across the ranks after training, also for a step that calls a network's method other than
``forward``; only rank 0 writes weights, checkpoints and output;
``--resume`` under torchrun continues a run interrupted after a checkpoint exactly; and a pix2pix whose step is
separable over the examples (BatchNorm and dropout taken out, so that the global batch's gradient is the
average of the slices' gradients) ends within ``EQUIVALENCE_TOL`` of the one-process run.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

SGD_LR = 0.05
EQUIVALENCE_TOL = 1e-5
"""Max abs difference of every pix2pix parameter, 2 processes vs 1, after 6 steps of the separable step with plain
SGD (lr ``SGD_LR``): float rounding of the gradient averaging (measured: see docs/distributed.md). The test swaps
Adam for SGD because Adam's first update is ``lr * g / |g|``: a gradient that is zero up to rounding moves its
parameter by +-lr with the sign the rounding picked (pix2pix's D output bias at step 1: 3.2e-6 in float64, -7.3e-7
summed over the batch in float32, +5.0e-6 as the mean of two halves), so Adam runs part at that level
(docs/distributed.md gives the measured Adam differences)."""
LOSS_TOL = 1e-5
"""Max abs difference of the logged losses (averaged over the ranks) of the separable step, 2 processes vs 1,
relative to the loss (at least 1)."""

TINY_P2P = dict(n_train=64, n_test=16, steps=6, batch_size=8, lr_schedule=None)  # constant rate: per-process batches too
TINY_CYCLE = dict(cycle_steps=6, batch_size=8, pool_size=4)  # edges <-> motorbikes, 64 x 64
TINY_DDPM = dict(steps_ddpm=6, n_train=64, batch_size=8, warmup=2)
SEED = 1  # not 0: the fast profile's seed-0 weights are the committed files in the package


# --- the scenarios (run by each torchrun worker, and alone in the test process) -------------------------------

def _separable(model: nn.Module) -> nn.Module:
    """BatchNorm -> identity and dropout off: each example's loss then depends on that example alone."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        elif isinstance(child, nn.Dropout):
            child.p = 0.0
        else:
            _separable(child)
    return model


@contextlib.contextmanager
def _patched(module, **attrs):
    old = {k: getattr(module, k) for k in attrs}
    for k, v in attrs.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(module, k, v)


def _recording(module, seen: list):
    """``module.train_step`` that also records the batch each call got (sum and rows of its first tensor) and
    the state of torch's global generator before it."""
    original = module.train_step

    def train_step(run, batch):
        first = batch[0] if isinstance(batch, (tuple, list)) else batch
        rng = hashlib.sha1(torch.get_rng_state().numpy().tobytes()).hexdigest()  # the global stream (noise, dropout)
        seen.append([float(first.double().sum()), len(first), rng])
        return original(run, batch)
    return train_step


def _states(run) -> dict:
    return {role: {k: v.detach().cpu().clone() for k, v in m.state_dict().items()} for role, m in run.models.items()}


def pix2pix_separable(**overrides) -> dict:
    """pix2pix L1 + cGAN, BatchNorm and dropout taken out, SGD (see ``EQUIVALENCE_TOL``); returns parameters,
    history and data seen. ``overrides``: config fields instead of :data:`TINY_P2P`'s."""
    from course_lib import distributed
    from course_lib.experiments import common
    from course_lib.experiments import pix2pix_ablation as A

    cfg = A.Config.make("fast", **{**TINY_P2P, **overrides})
    original, seen = A.build, []

    def build(cfg_, member, seed=0):
        run = original(cfg_, member, seed)
        for m in run.models.values():
            _separable(m)
        run.state["opt_G"] = torch.optim.SGD(run.G.parameters(), lr=SGD_LR)
        run.state["opt_D"] = torch.optim.SGD(run.D.parameters(), lr=SGD_LR)
        return run

    with _patched(A, build=build, train_step=_recording(A, seen)):
        run = common.train(A, cfg, SEED, members=["L1+cGAN"], progress=False)["L1+cGAN"]
    return {"states": _states(run), "history": run.meta["history"], "seen": seen,
            "spread": max(distributed.max_parameter_difference(m) for m in run.models.values())}


def pix2pix_cli(out: Path) -> dict:
    """The real (BatchNorm, dropout) pix2pix through ``python -m course_lib train`` with a tiny config."""
    from course_lib import distributed
    from course_lib.__main__ import main
    from course_lib.experiments import pix2pix_ablation as A

    make = A.Config.make.__func__
    rank = distributed.rank()
    with _patched(A.Config, make=classmethod(lambda cls, profile=None, **kw: make(cls, profile, **{**TINY_P2P, **kw}))):
        with open(out / f"stdout_rank{rank}.txt", "w") as o, open(out / f"stderr_rank{rank}.txt", "w") as e:
            with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
                assert main(["train", "pix2pix_ablation", "--member", "L1+cGAN", "--seed", str(SEED)]) == 0
    from course_lib.experiments import common

    path = common.weights_path("pix2pix_motorbikes_L1cGAN", "fast", SEED)
    return {"weights": str(path), "exists": path.is_file()}


def cyclegan_resume() -> dict:
    """CycleGAN (BatchNorm, image pools, schedules) 6 steps with a checkpoint every 2: uninterrupted, then
    interrupted after step 5, then resumed; returns both final states and the checkpoint's fate."""
    from course_lib import distributed
    from course_lib.experiments import common
    from course_lib.experiments import cyclegan as C

    cfg = C.Config.make("fast", **TINY_CYCLE)
    full = common.train(C, cfg, SEED, members=["CycleGAN"], progress=False, checkpoint_every=2)["CycleGAN"]
    spread = max(distributed.max_parameter_difference(m) for m in full.models.values())
    calls, original = [0], C.train_step

    def crashing(run, batch):
        calls[0] += 1
        if calls[0] == 5:
            raise KeyboardInterrupt("interrupted by the test")
        return original(run, batch)

    ckpt = common.checkpoint_path("cyclegan_motorbikes_G_AB", "fast", SEED)
    with _patched(C, train_step=crashing), contextlib.suppress(KeyboardInterrupt):
        common.train(C, cfg, SEED, members=["CycleGAN"], progress=False, checkpoint_every=2)
    had_checkpoint = ckpt.is_file()
    distributed.barrier()
    resumed = common.train(C, cfg, SEED, members=["CycleGAN"], progress=False, checkpoint_every=2, resume=True)["CycleGAN"]
    return {"full": _states(full), "resumed": _states(resumed), "spread": spread,
            "history": full.meta["history"], "resumed_history": resumed.meta["history"],
            "had_checkpoint": had_checkpoint, "checkpoint_left": ckpt.is_file()}


def per_process_with_schedules() -> str:
    """The error of CycleGAN (learning-rate schedules over its steps) with per-process batches."""
    from course_lib.experiments import common
    from course_lib.experiments import cyclegan as C

    try:
        common.train(C, C.Config.make("fast", **TINY_CYCLE), SEED, members=["CycleGAN"], progress=False)
    except ValueError as err:
        return str(err)
    return ""


def ddpm() -> dict:
    """The DDPM member (noise and timesteps drawn per rank, weight average ``ema``)."""
    from course_lib import distributed
    from course_lib.experiments import common
    from course_lib.experiments import diffusion as D

    cfg = D.Config.make("fast", **TINY_DDPM)
    seen = []
    with _patched(D, train_step=_recording(D, seen)):
        run = common.train(D, cfg, SEED, members=["ddpm"], progress=False)["ddpm"]
    return {"states": _states(run), "history": run.meta["history"], "seen": seen,
            "spread": {role: distributed.max_parameter_difference(m) for role, m in run.models.items()}}


class _Denoiser(nn.Module):
    """A network whose training step calls a method other than ``forward`` (as DnCNN's ``net.noise(y)``)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, y):
        return y[:, :1] - self.noise(y)

    def noise(self, y):
        return self.lin(y)


def method_call() -> float:
    """One SGD step through ``net.noise`` on data that differs per rank; returns the parameters' spread."""
    from course_lib import distributed

    torch.manual_seed(0)
    net = _Denoiser()
    wrapped = distributed.wrap(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    y = torch.randn(4, 3) + distributed.rank()
    loss = wrapped.noise(y).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        assert torch.equal(wrapped(y), net(y))  # evaluation calls the network directly
    return distributed.max_parameter_difference(net)


def _worker(out: Path) -> None:
    """One torchrun process: every scenario, its results to ``out/rank<r>.pt``; weights to a folder of its
    own (rank 1's must stay empty: only rank 0 writes)."""
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    os.environ["COURSE_WEIGHTS_DIR"] = str(out / f"weights_rank{rank}")
    from course_lib import distributed

    distributed.init()
    results = {"world": distributed.world_size(), "method": method_call(), "pix2pix": pix2pix_separable()}
    os.environ["COURSE_DDP_BATCH"] = "per-process"  # half the batch, twice the steps: whole batches in turn
    results["per_process"] = pix2pix_separable(batch_size=TINY_P2P["batch_size"] // 2, steps=2 * TINY_P2P["steps"])
    results["refused"] = per_process_with_schedules()
    del os.environ["COURSE_DDP_BATCH"]
    results |= {"cyclegan": cyclegan_resume(),
               "ddpm": ddpm(), "cli": pix2pix_cli(out)}
    torch.save(results, out / f"rank{rank}.pt")
    distributed.cleanup()


# --- the tests ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """What the two torchrun processes recorded: ``(results of rank 0, of rank 1, the folder)``."""
    out = tmp_path_factory.mktemp("ddp")
    env = dict(os.environ, OMP_NUM_THREADS="1", COURSE_PROGRESS="text")
    env.pop("COURSE_DEVICE", None)
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           __file__, str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in (0, 1)] + [out]


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The same scenarios in this process alone (no process group)."""
    weights = tmp_path_factory.mktemp("one")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_WEIGHTS_DIR", str(weights))
        mp.delenv("COURSE_DEVICE", raising=False)
        mp.delenv("WORLD_SIZE", raising=False)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return {"pix2pix": pix2pix_separable(), "ddpm": ddpm(), "cyclegan": cyclegan_resume()}
        finally:
            torch.set_num_threads(threads)


def _max_diff(a: dict, b: dict) -> float:
    return max(float((a[r][k].double() - b[r][k].double()).abs().max()) for r in a for k in a[r]
               if a[r][k].is_floating_point())


@pytest.mark.slow
def test_ranks_see_different_halves_of_every_global_batch(two_processes, one_process):
    r0, r1, _ = two_processes
    assert r0["world"] == r1["world"] == 2
    for name in ("pix2pix", "ddpm"):
        seen0, seen1, alone = r0[name]["seen"], r1[name]["seen"], one_process[name]["seen"]
        assert len(seen0) == len(seen1) == len(alone)
        for (s0, n0, g0), (s1, n1, g1), (s, n, g) in zip(seen0, seen1, alone):
            assert n0 == n1 == n // 2  # each rank a half of the global batch
            assert s0 != s1  # different halves
            assert s0 + s1 == pytest.approx(s, rel=1e-9, abs=1e-6)  # together the one-process batch
            assert g1 != g0  # rank 1 draws its own noise and dropout masks, not rank 0's
        assert seen0[0][2] == alone[0][2]  # rank 0 starts from the one-process generator state


@pytest.mark.slow
def test_parameters_stay_identical_across_ranks(two_processes):
    r0, r1, _ = two_processes
    assert r0["pix2pix"]["spread"] == 0.0
    assert r0["method"] == 0.0  # a step through net.noise(y) (not forward) is averaged too
    assert r0["cyclegan"]["spread"] == 0.0
    assert r0["ddpm"]["spread"] == {"net": 0.0, "ema": 0.0}  # the weight average too
    assert _max_diff(r0["ddpm"]["states"], r1["ddpm"]["states"]) == 0.0
    # BatchNorm running statistics are averaged at the end: the stored CycleGAN is the same on both ranks
    assert _max_diff(r0["cyclegan"]["full"], r1["cyclegan"]["full"]) == 0.0
    assert r0["ddpm"]["history"]["loss"] == r1["ddpm"]["history"]["loss"]  # losses averaged over the ranks


@pytest.mark.slow
def test_two_processes_match_one_process_within_the_stated_tolerance(two_processes, one_process):
    r0, _, _ = two_processes
    alone = one_process["pix2pix"]
    diff = _max_diff(r0["pix2pix"]["states"], alone["states"])
    assert diff <= EQUIVALENCE_TOL, diff
    moved = _max_diff(alone["states"], pix2pix_initial_states())
    assert moved > 100 * EQUIVALENCE_TOL  # the tolerance is far below what 6 steps change
    for k in ("D", "G_gan", "G_l1"):
        a, b = r0["pix2pix"]["history"][k], alone["history"][k]
        assert len(a) == len(b) == TINY_P2P["steps"]
        assert max(abs(x - y) for x, y in zip(a, b)) <= LOSS_TOL * max(1.0, max(map(abs, b)))
    # per-process batches of 4 in turn (6 steps of 2 x 4) are one process's 6 batches of 8
    per = r0["per_process"]
    assert [n for _, n, _ in per["seen"]] == [4] * TINY_P2P["steps"] and per["spread"] == 0.0
    assert _max_diff(per["states"], alone["states"]) <= EQUIVALENCE_TOL
    assert [s0 + s1 for (s0, _, _), (s1, _, _) in zip(per["seen"], two_processes[1]["per_process"]["seen"])] == \
        pytest.approx([s for s, _, _ in alone["seen"]], rel=1e-9, abs=1e-6)
    assert "schedules ['sched_G', 'sched_D'] were built for 6" in r0["refused"]  # they would stop half-way
    # the DDPM's noise differs per rank: the losses agree in size, not in value
    ddpm2, ddpm1 = r0["ddpm"]["history"]["loss"], one_process["ddpm"]["history"]["loss"]
    assert ddpm2 != ddpm1 and abs(sum(ddpm2) - sum(ddpm1)) / len(ddpm1) < 0.5


def pix2pix_initial_states() -> dict:
    from course_lib.experiments import pix2pix_ablation as A

    run = A.build(A.Config.make("fast", **TINY_P2P), "L1+cGAN", SEED)
    for m in run.models.values():
        _separable(m)
    return _states(run)


@pytest.mark.slow
def test_only_rank_0_writes_and_prints(two_processes):
    r0, r1, out = two_processes
    assert r0["cli"]["exists"] and not r1["cli"]["exists"]
    assert not (out / "weights_rank1").exists() or not any((out / "weights_rank1").rglob("*"))
    assert sorted(p.name for p in (out / "weights_rank0").iterdir()) == [
        "cyclegan_motorbikes_G_AB_fast_seed1.pt", "cyclegan_motorbikes_G_BA_fast_seed1.pt",
        "diffusion_ddpm_fast_seed1.pt", "pix2pix_motorbikes_L1cGAN_fast_seed1.pt"]
    printed0, printed1 = (out / "stdout_rank0.txt").read_text(), (out / "stdout_rank1.txt").read_text()
    assert "pix2pix_ablation L1+cGAN, seed 1: 6 steps" in printed0 and printed1 == ""
    assert "6/6 [" in printed0  # rank 0's progress bar (COURSE_PROGRESS=text: on standard output)


@pytest.mark.slow
def test_resume_under_torchrun_continues_exactly(two_processes, one_process):
    r0, r1, _ = two_processes
    for res in (r0["cyclegan"], one_process["cyclegan"]):
        assert res["had_checkpoint"] and not res["checkpoint_left"]
        assert _max_diff(res["full"], res["resumed"]) == 0.0
        logged = sorted(k for k in res["history"] if not k.startswith("_"))
        assert logged and all(res["history"][k] == res["resumed_history"][k] for k in logged)
    assert r1["cyclegan"]["had_checkpoint"] is False  # rank 1 neither wrote nor needed the file
    assert _max_diff(r1["cyclegan"]["full"], r1["cyclegan"]["resumed"]) == 0.0


# --- quick tests: no processes started -------------------------------------------------------------------

def test_shard_cuts_every_tensor_into_equal_contiguous_slices():
    from course_lib.distributed import shard

    x, y = torch.arange(8).view(8, 1), torch.arange(8, 16)
    batch = (x, {"y": y, "tag": "t", "t": torch.tensor(3)})
    parts = [shard(batch, r, 2) for r in range(2)]
    assert parts[0][0].flatten().tolist() == [0, 1, 2, 3] and parts[1][0].flatten().tolist() == [4, 5, 6, 7]
    assert parts[1][1]["y"].tolist() == [12, 13, 14, 15] and parts[1][1]["tag"] == "t"
    assert int(parts[0][1]["t"]) == 3
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    assert shard(batch, 0, 1) is batch
    with pytest.raises(ValueError, match="cannot be split evenly over 3 processes"):
        shard(x, 0, 3)


def test_interleaved_batches_and_the_batch_mode(monkeypatch):
    from course_lib.distributed import batch_mode, interleaved

    assert [list(interleaved(range(7), r, 3)) for r in range(3)] == [[0, 3, 6], [1, 4], [2, 5]]
    monkeypatch.delenv("COURSE_DDP_BATCH", raising=False)
    assert batch_mode() == "global"
    monkeypatch.setenv("COURSE_DDP_BATCH", "Per-Process")
    assert batch_mode() == "per-process"
    monkeypatch.setenv("COURSE_DDP_BATCH", "local")
    with pytest.raises(ValueError, match="COURSE_DDP_BATCH"):
        batch_mode()


def test_without_torchrun_everything_is_one_process(monkeypatch):
    from course_lib import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.init() and not distributed.active()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    net = nn.Linear(2, 2)
    assert distributed.wrap(net) is net and distributed.unwrap(net) is net
    assert distributed.average_logs({"a": 1.5}) == {"a": 1.5}
    assert distributed.gather_objects(3) == [3] and distributed.broadcast_object(4) == 4
    assert distributed.max_parameter_difference(net) == 0.0
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(RuntimeError, match="start the command with torchrun"):
        distributed.init()


def test_loader_options_by_device_and_overrides(monkeypatch):
    from course_lib.distributed import loader_options

    monkeypatch.delenv("COURSE_NUM_WORKERS", raising=False)
    monkeypatch.delenv("COURSE_PIN_MEMORY", raising=False)
    assert loader_options("cpu") == {"num_workers": 0, "pin_memory": False}  # the CPU path as before
    cuda = loader_options("cuda")
    assert cuda["pin_memory"] and cuda["num_workers"] >= 1
    assert cuda["persistent_workers"] and cuda["prefetch_factor"] >= 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(os.cpu_count() or 1))
    assert loader_options("cuda")["num_workers"] == 1  # the CPUs are shared by the processes on the node
    monkeypatch.setenv("COURSE_NUM_WORKERS", "2")
    monkeypatch.setenv("COURSE_PIN_MEMORY", "0")
    assert loader_options("cpu") == {"num_workers": 2, "pin_memory": False, "persistent_workers": True,
                                     "prefetch_factor": 2}
    monkeypatch.setenv("COURSE_NUM_WORKERS", "0")
    assert loader_options("cuda") == {"num_workers": 0, "pin_memory": False}
    monkeypatch.setenv("COURSE_NUM_WORKERS", "many")
    with pytest.raises(ValueError, match="COURSE_NUM_WORKERS"):
        loader_options("cpu")


def test_official_loader_gives_each_process_its_own_part_of_every_epoch():
    from torch.utils.data import TensorDataset

    from course_lib.data.official import loader

    data = TensorDataset(torch.arange(12).float())
    parts = [loader(data, 3, seed=5, device="cpu", rank=r, world=2) for r in range(2)]
    epochs = []
    for _ in range(2):  # two epochs of 2 batches of 3 per process
        seen = [torch.cat([next(part)[0] for _ in range(2)]).long().tolist() for part in parts]
        assert not set(seen[0]) & set(seen[1]) and sorted(seen[0] + seen[1]) == list(range(12))
        epochs.append(seen)
    assert epochs[0] != epochs[1]  # set_epoch: a new order each epoch
    alone = loader(data, 4, seed=5, device="cpu", rank=0, world=1)
    assert sorted(torch.cat([next(alone)[0] for _ in range(3)]).long().tolist()) == list(range(12))
    with pytest.raises(ValueError, match="make no batch of 7"):
        next(loader(data, 7, device="cpu", rank=0, world=2))


if __name__ == "__main__":  # a torchrun worker (see the fixture two_processes)
    _worker(Path(sys.argv[1]))
