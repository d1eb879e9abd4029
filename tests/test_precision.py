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
    monkeypatch.delenv(P.FUSED_ENV, raising=False)
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
    monkeypatch.delenv(P.FUSED_ENV, raising=False)
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
    assert run.meta["precision"] == "bf16 autocast on cpu, fused optimizer"
    assert all(p.dtype == torch.float32 for p in run.G.parameters())  # autocast keeps fp32 weights
    assert all(g["fused"] for opt in (run.opt_G, run.opt_D) for g in opt.param_groups)


def test_fused_optimizer_switch(monkeypatch):
    """On for the low-precision settings, off for fp32 (its results stay bit for bit), overridable."""
    monkeypatch.delenv(P.FUSED_ENV, raising=False)
    assert not P.resolve("cpu", "fp32").fused_optimizer
    assert P.resolve("cpu", "fp32", fused_optimizer=True).fused_optimizer
    assert not P.resolve("cpu", "fp32", fused_optimizer=True).is_default
    monkeypatch.setenv(P.FUSED_ENV, "1")
    assert P.resolve("cpu", "fp32").fused_optimizer
    monkeypatch.setenv(P.FUSED_ENV, "sometimes")
    with pytest.raises(ValueError, match="COURSE_FUSED_OPTIMIZER must be 0 or 1"):
        P.resolve("cpu", "fp32")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    monkeypatch.delenv(P.FUSED_ENV, raising=False)
    assert P.resolve("cuda", "auto").fused_optimizer
    monkeypatch.setenv(P.FUSED_ENV, "0")
    assert not P.resolve("cuda", "auto").fused_optimizer


def _adam_runs(make, steps=50):
    """Parameters of a small conv net after ``steps`` updates by the optimizer ``make(params)``, as built and
    switched to its fused kernel by Precision.prepare_optimizer."""
    out = []
    for fused in (False, True):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 2, 3))
        opt = make(net.parameters())
        prec = P.resolve("cpu", "fp32", fused_optimizer=fused)
        assert prec.prepare_optimizer(opt) is opt
        assert all(g.get("fused") is (True if fused else g.get("fused")) for g in opt.param_groups)
        g = torch.Generator().manual_seed(1)
        for _ in range(steps):
            x = torch.randn(4, 3, 9, 9, generator=g)
            loss = net(x).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        out.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    return out


@pytest.mark.parametrize("make", [lambda ps: torch.optim.Adam(ps, lr=2e-3, betas=(0.5, 0.999)),
                                  lambda ps: torch.optim.AdamW(ps, lr=2e-3, weight_decay=0.1),
                                  lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)],
                         ids=["Adam", "AdamW", "SGD"])
def test_the_fused_optimizer_is_the_same_update(make):
    """The fused kernel runs the same algorithm as PyTorch's loop: after 50 steps the parameters agree to
    float32 rounding (measured: max relative difference ~1e-7), and they did change."""
    loop, fused = _adam_runs(make)
    torch.manual_seed(0)
    start = torch.cat([p.detach().flatten() for p in torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 2, 3)).parameters()])
    assert (loop - start).abs().max() > 1e-2
    torch.testing.assert_close(fused, loop, rtol=1e-5, atol=1e-6)


def test_prepare_optimizer_leaves_what_it_cannot_fuse():
    prec = P.resolve("cpu", "fp32", fused_optimizer=True)
    net = torch.nn.Linear(3, 2)
    rms = torch.optim.RMSprop(net.parameters())
    prec.prepare_optimizer(rms)
    assert not any(g.get("fused") for g in rms.param_groups)

    class MyAdam(torch.optim.Adam):  # a subclass may change step(): left alone
        pass

    mine = MyAdam(net.parameters())
    prec.prepare_optimizer(mine)
    assert not any(g.get("fused") for g in mine.param_groups)
    ints = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    ints.param_groups[0]["params"] = [torch.zeros(2, dtype=torch.int64)]
    prec.prepare_optimizer(ints)
    assert not ints.param_groups[0].get("fused")
    off = P.resolve("cpu", "fp32", fused_optimizer=False)
    adam = torch.optim.Adam(net.parameters())
    off.prepare_optimizer(adam)
    assert not any(g.get("fused") for g in adam.param_groups)


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
