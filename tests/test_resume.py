"""Resumable training (common.fit / common.train with checkpoint_every and resume): training 2k steps
gives bit-identical weights to training k steps, being interrupted, and resuming for k more (fp32 on the
CPU: the same kernels on the same inputs in the same order, with every generator restored)."""
from __future__ import annotations

import types

import pytest
import torch

from course_lib.device import seed_everything
from course_lib.experiments import common


class _Stop(Exception):
    pass


def _interrupting(module, after: int):
    """The experiment ``module`` whose train_step raises once it has run ``after`` steps (a killed job)."""
    count = [0]

    def train_step(run, batch):
        if count[0] == after:
            raise _Stop
        count[0] += 1
        return module.train_step(run, batch)

    names = ("Config", "MEMBERS", "build", "evaluate")
    return types.SimpleNamespace(**{k: getattr(module, k) for k in names}, train_step=train_step,
                                 __name__=module.__name__)


def _state(run):
    return {f"{role}.{k}": v.clone() for role, m in run.models.items() for k, v in m.state_dict().items()}


# (experiment, member, config overrides): GAN with dropout and two optimisers; DDPM with EMA, LambdaLR,
# its own batch generator and global noise; CycleGAN with image pools and linear-decay schedulers
CASES = [  # pix2pix takes ~2 s on 2 cores (slow); the DDPM case alone fails when the generators are not restored
    pytest.param("pix2pix_ablation", "L1+cGAN", dict(steps=6, batch_size=4, n_train=16), marks=pytest.mark.slow),
    ("diffusion", "ddpm", dict(steps_ddpm=6, batch_size=4, n_train=64)),
    ("cyclegan", "CycleGAN", dict(cycle_steps=6, batch_size=2, n_train=8, pool_size=3)),
]


@pytest.mark.parametrize("name, member, overrides", CASES, ids=["pix2pix_ablation", "diffusion", "cyclegan"])
def test_train_interrupted_and_resumed_equals_uninterrupted(monkeypatch, tmp_path, name, member, overrides):
    monkeypatch.setenv("COURSE_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_PRECISION", raising=False)
    module = common.experiment(name)
    cfg = module.Config.make("fast", **overrides)
    k = 3
    whole = common.train(module, cfg, seed=2, members=[member], progress=False)[member]
    with pytest.raises(_Stop):
        common.train(_interrupting(module, k), cfg, seed=2, members=[member], progress=False, checkpoint_every=k)
    stem = next(iter(whole.stored.values()))
    ckpt = common.checkpoint_path(stem, "fast", 2)
    assert ckpt.is_file() and torch.load(ckpt, weights_only=False)["step"] == k
    resumed = common.train(module, cfg, seed=2, members=[member], progress=False, checkpoint_every=k,
                           resume=True)[member]
    a, b = _state(whole), _state(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    hist_a, hist_b = whole.meta["history"], resumed.meta["history"]
    for key in (k_ for k_ in hist_a if not k_.startswith("_")):
        assert hist_a[key] == hist_b[key], key
    assert not ckpt.exists()  # deleted once the weights are stored


def test_fit_checkpoint_errors(tmp_path):
    module = common.experiment("pix2pix_ablation")
    cfg = module.Config.make("fast", steps=2, batch_size=4, n_train=16)
    seed_everything(0)
    run = module.build(cfg, "L1", 0)
    with pytest.raises(ValueError, match="need a checkpoint file"):
        common.fit(module, run, checkpoint_every=1, progress=False)
    with pytest.raises(ValueError, match=">= 1"):
        common.fit(module, run, checkpoint=tmp_path / "c", checkpoint_every=0, progress=False)
    common.save_checkpoint(tmp_path / "c", run, 1, 5, {}, 0.1)
    with pytest.raises(ValueError, match="of a run of 5 steps"):
        common.fit(module, run, checkpoint=tmp_path / "c", resume=True, progress=False)
    # resume without a checkpoint file: trains from the start
    history = common.fit(module, run, checkpoint=tmp_path / "none", resume=True, progress=False)
    assert {len(v) for k, v in history.items() if not k.startswith("_")} == {2}
