"""course_lib/precision.py (one switch for precision and layout) and its use in common.fit.

No GPU on the CI machine: the CUDA branches of ``resolve`` are tested with torch.cuda mocked; the
autocast itself runs only on the CPU here.
"""
from __future__ import annotations

import sys
import types

import pytest
import torch

from course_lib import precision as P
from course_lib.experiments import common


def test_resolve_on_the_cpu(monkeypatch):
    monkeypatch.delenv(P.PRECISION_ENV, raising=False)
    monkeypatch.delenv(P.CHANNELS_LAST_ENV, raising=False)
    monkeypatch.delenv(P.COMPILE_ENV, raising=False)
    p = P.resolve("cpu")
    assert p.name == "fp32" and p.dtype == torch.float32 and p.is_default and not p.use_scaler
    assert p.scaler is None
    monkeypatch.setenv(P.PRECISION_ENV, "fp32")
    assert P.resolve("cpu").is_default
    if P.cpu_supports_bf16():
        monkeypatch.setenv(P.PRECISION_ENV, "bf16")
        b = P.resolve("cpu")
        assert b.name == "bf16" and b.dtype == torch.bfloat16 and b.device_type == "cpu"
        with b.autocast():
            assert (torch.ones(2, 3) @ torch.ones(3, 2)).dtype == torch.bfloat16
        assert P.resolve("cpu", "fp32").name == "fp32"  # the argument overrides the environment
    with pytest.raises(ValueError, match="fp16 training needs a CUDA GPU"):
        P.resolve("cpu", "fp16")
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        P.resolve("cpu", "fp8")
    monkeypatch.setenv(P.PRECISION_ENV, "half")
    with pytest.raises(ValueError, match="COURSE_PRECISION"):
        P.resolve("cpu")
    monkeypatch.setenv(P.PRECISION_ENV, "auto")
    monkeypatch.setenv(P.CHANNELS_LAST_ENV, "1")
    assert P.resolve("cpu").channels_last and not P.resolve("cpu").is_default
    monkeypatch.setenv(P.COMPILE_ENV, "maybe")
    with pytest.raises(ValueError, match="COURSE_COMPILE must be 0 or 1"):
        P.resolve("cpu")
    with pytest.raises(ValueError, match="not on mps"):
        P.resolve("mps", "bf16")
    assert P.resolve("mps", "auto", compile=False).name == "fp32"


@pytest.mark.parametrize("major, expected", [(8, "bf16"), (9, "bf16"), (7, "fp16"), (6, "fp16")])
def test_resolve_auto_on_mocked_cuda_gpus(monkeypatch, major, expected):
    monkeypatch.delenv(P.PRECISION_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, 0))
    p = P.resolve("cuda", None, channels_last=False, compile=False)
    assert p.name == expected and p.device_type == "cuda" and p.use_scaler == (expected == "fp16")
    if major < 8:
        with pytest.raises(ValueError, match="no native bf16"):
            P.resolve("cuda", "bf16")
    assert P.resolve("cuda", "fp16").use_scaler


def test_backward_step_without_scaler_is_the_plain_two_calls():
    torch.manual_seed(0)
    nets = [torch.nn.Linear(3, 1) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    opts = [torch.optim.Adam(n.parameters(), 0.1) for n in nets]
    x = torch.randn(8, 3)
    for _ in range(3):
        for i, (n, o) in enumerate(zip(nets, opts)):
            o.zero_grad()
            loss = n(x).pow(2).mean()
            if i == 0:
                loss.backward()
                o.step()
            else:
                P.FP32.backward_step(loss, o)
    assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))


def _pix2pix_run(seed=0):
    from course_lib.device import seed_everything

    module = common.experiment("pix2pix_ablation")
    cfg = module.Config.make("fast", steps=3, batch_size=4, n_train=16)
    seed_everything(seed)
    return module, module.build(cfg, "L1+cGAN", seed)


def test_fp32_fit_is_bit_identical_to_the_original_loop(monkeypatch, tmp_path):
    """The default path (fp32 on the CPU) of common.fit, with and without checkpointing, gives exactly the
    parameters of the original code: train_loop over train_step, no autocast."""
    from course_lib.train import train_loop

    monkeypatch.delenv(P.PRECISION_ENV, raising=False)
    monkeypatch.delenv(P.CHANNELS_LAST_ENV, raising=False)
    monkeypatch.delenv(P.COMPILE_ENV, raising=False)
    module, ref = _pix2pix_run()
    for m in ref.models.values():
        m.train()
    train_loop(lambda b: module.train_step(ref, b), ref.batches(), ref.steps, progress=False)
    for kwargs in ({}, {"precision": "fp32"}, {"checkpoint": tmp_path / "c.ckpt", "checkpoint_every": 1}):
        _, run = _pix2pix_run()
        common.fit(module, run, progress=False, **kwargs)
        assert run.precision.is_default
        for role in ("G", "D"):
            for a, b in zip(ref.models[role].state_dict().values(), run.models[role].state_dict().values()):
                assert torch.equal(a, b), (kwargs, role)


@pytest.mark.skipif(not P.cpu_supports_bf16(), reason="this CPU has no bf16")
def test_bf16_fit_runs_under_autocast_and_is_recorded(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    module = common.experiment("pix2pix_ablation")
    seen = []
    step = module.train_step

    def spy(run, batch):
        seen.append(torch.is_autocast_enabled("cpu"))
        return step(run, batch)

    fake = types.SimpleNamespace(**{k: getattr(module, k) for k in ("Config", "MEMBERS", "build", "evaluate")},
                                 train_step=spy, __name__="course_lib.experiments.pix2pix_ablation")
    cfg = module.Config.make("fast", steps=2, batch_size=4, n_train=16)
    runs = common.train(fake, cfg, seed=5, members=["L1"], progress=False, precision="bf16")
    run = runs["L1"]
    assert seen == [True, True] and run.precision.name == "bf16"
    assert run.meta["command"].endswith("--member L1 --precision bf16")
    assert run.meta["precision"] == "bf16 autocast on cpu"
    assert all(p.dtype == torch.float32 for p in run.G.parameters())  # autocast keeps fp32 weights


def test_fp16_needs_the_helper(monkeypatch):
    pix2pix, run = _pix2pix_run()
    module = types.SimpleNamespace(train_step=pix2pix.train_step, __name__="course_lib.experiments.nohelper")
    monkeypatch.setattr(P, "resolve", lambda device, name: P.Precision("fp16", torch.float16, "cuda", use_scaler=True))
    monkeypatch.setattr(common, "resolve", P.resolve)
    with pytest.raises(ValueError, match="backward_step"):
        common.fit(module, run, steps=1, progress=False, precision="fp16")
    # auto on an older GPU falls back to fp32 for such an experiment
    monkeypatch.delenv(P.PRECISION_ENV, raising=False)
    assert common._resolve_precision(module, run, None).name == "fp32"


def test_train_command_names_the_precision():
    assert common.train_command("x", "fast", 0) == "python -m course_lib train x --profile fast --seed 0"
    assert common.train_command("x", "full", 1, "L1", "bf16").endswith("--member L1 --precision bf16")


def test_cli_has_the_precision_and_resume_options(monkeypatch, tmp_path):
    from course_lib import __main__ as cli

    seen = {}
    monkeypatch.setattr(common, "train", lambda module, cfg, seed, **kw: seen.update(kw) or {})
    assert cli.main(["train", "denoising", "--precision", "bf16", "--checkpoint-every", "7", "--resume",
                     "--quiet"]) == 0
    assert seen["precision"] == "bf16" and seen["checkpoint_every"] == 7 and seen["resume"] is True


def test_backward_step_with_a_scaler_matches_the_plain_step():
    """The fp16 branch (GradScaler) runs on the CPU too: a power-of-two loss scale is undone exactly, so
    without overflow the step is the plain one; an overflowing step is skipped and the scale halved."""
    torch.manual_seed(0)
    nets = [torch.nn.Linear(3, 1) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    opts = [torch.optim.Adam(n.parameters(), 0.1) for n in nets]
    scaled = P.Precision("fp16", torch.float16, "cpu", use_scaler=True)
    x = torch.randn(8, 3)
    for _ in range(3):
        for p, n, o in zip((P.FP32, scaled), nets, opts):
            o.zero_grad()
            p.backward_step(n(x).pow(2).mean(), o)
    assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))
    before = [t.clone() for t in nets[1].parameters()]
    scale = scaled.scaler.get_scale()
    opts[1].zero_grad()
    scaled.backward_step(nets[1](x).sum() * float("inf"), opts[1])
    assert all(torch.equal(a, b) for a, b in zip(before, nets[1].parameters()))
    assert scaled.scaler.get_scale() == scale / 2


def test_fp16_path_of_fit_runs_where_the_experiment_uses_the_helper(tmp_path):
    """The GPU-only fp16 setting, built by hand for the CPU (fp16 autocast runs there, slowly), through
    fit with checkpointing: the scaler's state is checkpointed and the losses are finite."""
    module, run = _pix2pix_run()
    assert module.PRECISION_HELPER
    p = P.Precision("fp16", torch.float16, "cpu", use_scaler=True)
    history = common.fit(module, run, steps=2, progress=False, precision=p, checkpoint=tmp_path / "c",
                         checkpoint_every=1)
    assert run.precision is p and p.scaler.get_scale() > 0
    assert all(torch.isfinite(torch.tensor(v)).all() for k, v in history.items() if not k.startswith("_"))
