"""The one experiment shape (course_lib/experiments/common.py) and the command line that drives it."""
from __future__ import annotations

import argparse
import json
import math
import sys
import types
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from course_lib.experiments import common


# --- a tiny experiment of the course's shape: least squares with one linear layer -----------------

@dataclass(frozen=True)
class _Config(common.ExperimentConfig):
    steps: int = common.fast_full(60, 600)
    lr: float = 0.1
    width: int = common.fast_full(2, 8)


def _build(cfg, member, seed=0):
    net = nn.Linear(cfg.width, 1)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, cfg.width, generator=g)
    y = x.sum(1, keepdim=True) * (2.0 if member == "double" else 1.0)
    opt, sched = common.adam(net.parameters(), cfg.lr, schedule="cosine", steps=cfg.steps)
    return common.Run(models={"net": net}, stored={"net": f"_fake_{member}"}, steps=cfg.steps,
                      batches=lambda: common.random_batches(x, y, batch_size=16, seed=seed),
                      state={"opt": opt, "sched": sched})


def _train_step(run, batch):
    x, y = batch
    loss = (run.net(x) - y).pow(2).mean()
    run.opt.zero_grad()
    loss.backward()
    run.opt.step()
    run.sched.step()
    return {"loss": loss.item()}


def _evaluate(cfg, runs, seed=0, progress=True):
    x = torch.ones(1, cfg.width)
    with torch.no_grad():
        return [{"member": m, "output": float(r.net(x))} for m, r in runs.items()], {"n": len(runs)}


@pytest.fixture
def fake(monkeypatch, tmp_path):
    module = types.ModuleType("course_lib.experiments._fake")
    module.Config, module.MEMBERS, module.build = _Config, ("single", "double"), _build
    module.train_step, module.evaluate = _train_step, _evaluate
    monkeypatch.setitem(sys.modules, module.__name__, module)
    names = common.experiment_names()
    monkeypatch.setattr(common, "experiment_names", lambda: names + ["_fake"])
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path / "weights"))
    return module


def test_config_picks_fast_or_full_and_rejects_unknown_fields():
    fast, full = _Config.make("fast"), _Config.make("full", lr=0.5)
    assert (fast.profile, fast.steps, fast.width, fast.lr) == ("fast", 60, 2, 0.1)
    assert (full.profile, full.steps, full.width, full.lr) == ("full", 600, 8, 0.5)
    assert fast.is_fast and not full.is_fast and fast.as_dict()["steps"] == 60
    assert fast.replace(steps=3).steps == 3 and fast.steps == 60
    with pytest.raises(ValueError, match="unknown .*stepz"):
        _Config.make("fast", stepz=3)


def test_random_batches_cover_each_epoch_once_and_check_arguments():
    x = torch.arange(10)
    batches = common.random_batches(x, x * 2, batch_size=3, seed=0)
    epoch = [next(batches) for _ in range(3)]  # 10 // 3 full batches per epoch
    seen = torch.cat([b[0] for b in epoch])
    assert len(set(seen.tolist())) == 9 and all(torch.equal(b[1], 2 * b[0]) for b in epoch)
    again = common.random_batches(x, x * 2, batch_size=3, seed=0)
    assert all(torch.equal(next(again)[0], b[0]) for b in epoch)
    with pytest.raises(ValueError, match="one length"):
        next(common.random_batches(x, x[:5], batch_size=2))
    with pytest.raises(ValueError, match="batch_size"):
        next(common.random_batches(x, batch_size=11))


def test_adam_schedules():
    p = [nn.Parameter(torch.zeros(1))]
    opt, sched = common.adam(p, 1.0)
    assert sched is None and opt.defaults["betas"] == (0.9, 0.999)
    opt, sched = common.adam(p, 1.0, (0.5, 0.999), schedule="cosine", steps=4)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1.0, 0.5 * (1 + math.cos(math.pi / 4)), 0.5, 0.5 * (1 + math.cos(3 * math.pi / 4))])
    decay = common.linear_decay_factor(10)
    assert [decay(s) for s in (0, 4, 5, 6, 9, 10)] == pytest.approx([1, 1, 1, 0.8, 0.2, 0])
    with pytest.raises(ValueError, match="steps"):
        common.adam(p, 1.0, schedule="cosine")
    with pytest.raises(ValueError, match="unknown schedule"):
        common.adam(p, 1.0, schedule="step", steps=3)


def test_run_exposes_models_and_state_by_name():
    run = common.Run(models={"G": nn.Linear(1, 1)}, stored={}, steps=1, batches=lambda: iter(()), state={"opt": 3})
    assert isinstance(run.G, nn.Linear) and run.opt == 3
    with pytest.raises(AttributeError, match="no model or state named 'D'"):
        run.D


def test_loss_curve_averages_windows():
    curve = common.loss_curve({"loss": [float(i) for i in range(1, 11)], "_seconds": [1.0]}, points=5)
    assert curve == {"step": [2, 4, 6, 8, 10], "loss": [1.5, 3.5, 5.5, 7.5, 9.5]}
    assert common.loss_curve({"_seconds": [1.0]}) == {}


def test_weights_path_committed_only_for_fast_seed_0(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    assert common.weights_path("x", "fast", 0).parent.name == "weights"
    assert common.weights_path("x", "fast", 0).parent.parent.name == "course_lib"
    assert common.weights_path("x", "fast", 2) == tmp_path / "x_fast_seed2.pt"
    assert common.weights_path("x", "full", 0) == tmp_path / "x_full_seed0.pt"
    # the seeds the course ships are found for loading, never written by training (a run of one's own wins)
    shipped = common.WEIGHTS_DIR / "pix2pix_motorbikes_L1cGAN_seed1.pt"
    assert shipped.is_file() and common.weights_path("pix2pix_motorbikes_L1cGAN", "fast", 1).parent == tmp_path
    assert common.stored_weights_path("pix2pix_motorbikes_L1cGAN", "fast", 1) == shipped
    own = common.weights_path("pix2pix_motorbikes_L1cGAN", "fast", 1)
    own.write_bytes(b"")
    assert common.stored_weights_path("pix2pix_motorbikes_L1cGAN", "fast", 1) == own
    assert common.stored_weights_path("x", "fast", 2) == tmp_path / "x_fast_seed2.pt"
    assert common.train_command("pix2pix_ablation", "fast", 1) == \
        "python -m course_lib train pix2pix_ablation --profile fast --seed 1"
    assert common.train_command("pix2pix_ablation", "fast", 0, "L1+cGAN").endswith("--seed 0 --member L1+cGAN")
    assert common.train_command("inpainting", "full", 0, "CE (L2)").endswith("--member 'CE (L2)'")


def test_train_stores_weights_that_load_reproduces(fake, tmp_path):
    cfg = _Config.make("fast")
    trained = common.train(fake, cfg, seed=1, progress=False)
    assert list(trained) == ["single", "double"]
    history = trained["single"].meta["history"]
    assert history["loss"][-1] < 0.05 * history["loss"][0]  # it learned
    path = tmp_path / "weights" / "_fake_single_fast_seed1.pt"
    blob = torch.load(path, weights_only=True)
    assert blob["command"] == "python -m course_lib train _fake --profile fast --seed 1 --member single"
    assert blob["meta"]["steps"] == 60 and blob["meta"]["member"] == "single"
    curve = blob["meta"]["loss_curve"]
    assert curve["step"][0] == 1 and curve["step"][-1] == 60 and len(curve["loss"]) == 60
    assert curve["loss"] == pytest.approx(history["loss"], abs=1e-5)
    loaded = common.load(fake, cfg, seed=1, members=["single"])
    assert loaded["single"].meta["trained"] is False
    for a, b in zip(loaded["single"].net.state_dict().values(), trained["single"].net.state_dict().values()):
        assert torch.equal(a, b.half().float())  # stored as float16
    again = common.train(fake, cfg, seed=1, members=["single"], progress=False)  # same seed, same weights
    assert torch.equal(again["single"].net.weight, trained["single"].net.weight)
    with pytest.raises(ValueError, match="no member"):
        common.load(fake, cfg, seed=1, members=["triple"])


def test_load_trains_missing_weights_and_retrain_overwrites(fake, tmp_path):
    cfg = _Config.make("fast", steps=5)
    runs = common.load(fake, cfg, seed=3, members=["double"], progress=False)
    assert runs["double"].meta["trained"] is True
    path = tmp_path / "weights" / "_fake_double_fast_seed3.pt"
    assert path.is_file()
    stamp = path.stat().st_mtime_ns
    assert common.load(fake, cfg, seed=3, members=["double"])["double"].meta["trained"] is False
    assert common.load(fake, cfg, seed=3, members=["double"], retrain=True, progress=False)["double"].meta["trained"]
    assert path.stat().st_mtime_ns != stamp


def test_cli_train_then_reproduce_several_seeds(fake, tmp_path, capsys):
    from course_lib.__main__ import _reproduce, _train

    assert _train(argparse.Namespace(name="_fake", profile="fast", seed=[1], member=["single"], quiet=True)) == 0
    assert (tmp_path / "weights" / "_fake_single_fast_seed1.pt").is_file()
    assert not (tmp_path / "weights" / "_fake_double_fast_seed1.pt").exists()
    out = tmp_path / "m.json"
    args = argparse.Namespace(name="_fake", profile="fast", seed=[1, 2], quiet=True, out=str(out), retrain=False)
    assert _reproduce(args) == 0
    data = json.loads(out.read_text())
    assert data["seeds"] == [1, 2] and [r["seed"] for r in data["runs"]] == [1, 2]
    assert [r["member"] for r in data["summary"]] == ["single", "double"]
    assert data["summary"][0]["n_seeds"] == 2 and "output_sd" in data["summary"][0]
    printed = capsys.readouterr().out
    assert "mean and sample sd over seeds [1, 2]" in printed and "# _fake, profile fast, seed 2" in printed


def test_every_experiment_has_the_shape():
    """Each module of course_lib/experiments/ defines Config, MEMBERS and evaluate, and build and train_step
    when it trains something (a scoring-only experiment has MEMBERS = ())."""
    names = common.experiment_names()
    assert len(names) >= 10
    for name in names:
        module = common.experiment(name)
        needed = ["Config", "MEMBERS", "evaluate"]
        if hasattr(module, "Config") and common.members_of(module, module.Config.make("fast")):
            needed += ["build", "train_step"]
        missing = [a for a in needed if not hasattr(module, a)]
        assert not missing, f"course_lib.experiments.{name} lacks {missing}"
        assert issubclass(module.Config, common.ExperimentConfig), name
        assert not hasattr(module, "main") and not hasattr(module, "make_config"), name
    with pytest.raises(ValueError, match="unknown experiment"):
        common.experiment("nope")


def test_every_stored_seed_ships_every_members_weights():
    """An experiment's STORED_SEEDS (what the notebooks, the findings tests and the results page load) names only seeds
    whose weight files are committed for every member: a seed added before its files are (or a file removed) fails
    here instead of making the notebook train it."""
    with_seeds = [n for n in common.experiment_names() if hasattr(common.experiment(n), "STORED_SEEDS")]
    assert {"pix2pix_ablation", "patchgan_sizes", "patchgan_sizes_128", "patchgan_capacity_128", "cyclegan"} <= set(with_seeds)
    for name in with_seeds:
        module = common.experiment(name)
        cfg = module.Config.make("fast")
        assert module.STORED_SEEDS and module.STORED_SEEDS[0] == 0, name
        for seed in module.STORED_SEEDS:
            for member in common.members_of(module, cfg):
                for stem in module.build(cfg, member, seed).stored.values():
                    shipped = common.WEIGHTS_DIR / (f"{stem}.pt" if seed == 0 else f"{stem}_seed{seed}.pt")
                    assert shipped.is_file(), f"{name} {member!r} seed {seed}: {shipped.name} is not committed"


def test_markdown_table_digits_and_headers():
    rows = [{"model": "L2", "auc": 0.81714, "mse": 544.98, "n": 12, "note": None},
            {"model": "real", "auc": 1.0, "mse": 0.0, "n": 3, "note": "ceiling"}]
    table = common.markdown_table(rows, ("model", "auc", "mse", "n", "note"), digits={"mse": 0},
                                  headers={"auc": "AuC"})
    assert table.splitlines() == ["| model | AuC | mse | n | note |", "|---|---|---|---|---|",
                                  "| L2 | 0.817 | 545 | 12 | – |", "| real | 1.000 | 0 | 3 | ceiling |"]
    assert common.markdown_table(rows[:1], ("auc",), digits=1).splitlines()[-1] == "| 0.8 |"
    with pytest.raises(ValueError, match="at least one row"):
        common.markdown_table([])


def test_course_retrain_reaches_only_the_experiment_asked(fake, monkeypatch, tmp_path):
    """COURSE_RETRAIN=1 retrains what common.load is asked for, but never the judge, and an experiment that
    scores another one's weights loads them with retrain=False."""
    import ast
    import inspect

    cfg = _Config.make("fast", steps=5)
    common.load(fake, cfg, seed=4, members=["single"], progress=False)
    monkeypatch.setenv("COURSE_RETRAIN", "1")
    assert common.load(fake, cfg, seed=4, members=["single"], progress=False)["single"].meta["trained"]
    assert common.load(fake, cfg, seed=4, members=["single"], retrain=False)["single"].meta["trained"] is False
    fake.RETRAIN_FROM_ENVIRONMENT = False
    assert common.load(fake, cfg, seed=4, members=["single"])["single"].meta["trained"] is False
    assert common.experiment("recognizer").RETRAIN_FROM_ENVIRONMENT is False
    for name in ("cyclegan", "patchgan_sizes", "generative_scores"):
        tree = ast.parse(inspect.getsource(common.experiment(name)))
        loads = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                 and c.func.attr == "load" and getattr(c.func.value, "id", "") == "common"]
        assert loads, name
        for call in loads:
            retrain = [k.value for k in call.keywords if k.arg == "retrain"]
            assert retrain and isinstance(retrain[0], ast.Constant) and retrain[0].value is False, \
                f"{name} loads another experiment's weights without retrain=False (line {call.lineno})"


def test_the_old_instructor_command_points_to_course_admin(capsys):
    from course_lib.__main__ import main

    assert main(["instructor", "autograde", "a01_receptive_fields"]) == 2
    assert "python -m course_admin autograde a01_receptive_fields" in capsys.readouterr().err


def test_every_mechanism_cell_is_compared_with_the_library():
    """Each function a notebook's `mechanism` cell defines is run by some test through
    tests/notebook_cells.cell_namespace(notebook, defines=NAME) (or, in a cell defining several, named by the
    test that ran the cell): a newly tagged cell without a test fails here."""
    import ast
    from pathlib import Path

    from notebook_cells import NOTEBOOKS, mechanism_cells

    tested = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        constants = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant)}
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "cell_namespace" and call.args:
                first = call.args[0]
                notebook = first.value if isinstance(first, ast.Constant) else constants.get(getattr(first, "id", ""))
                for k in call.keywords:
                    if k.arg == "defines" and isinstance(k.value, ast.Constant) and notebook:
                        # the whole cell runs: its other functions count where the test names them too
                        for source in mechanism_cells(notebook):
                            names = [n.name for n in ast.parse(source).body
                                     if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
                            if k.value.value in names:
                                tested.update((notebook, n) for n in names
                                              if n == k.value.value or f'"{n}"' in path.read_text())
    defined = {(nb.name, node.name) for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
               for source in mechanism_cells(nb.name) for node in ast.parse(source).body
               if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    assert len(defined) >= 15, sorted(defined)  # notebooks 02-10 show their forward passes and steps
    assert not defined - tested, f"mechanism cells no test runs: {sorted(defined - tested)}"
