"""The Context Encoder's training step on a batch smaller than the configured one (a data-parallel slice under
torchrun, docs/distributed.md): the hole is the same for every image, so a slice uses the first rows of
run.mask; the full batch is unchanged."""
from __future__ import annotations

import copy

import pytest
import torch

from course_lib.data.restoration import apply_mask
from course_lib.device import seed_everything
from course_lib.experiments import inpainting as E
from course_lib.losses import masked_l2_loss


@pytest.mark.parametrize("member", E.MEMBERS)
def test_a_slice_of_the_batch_trains_on_its_own_images(member):
    seed_everything(0)
    run = E.build(E.Config.make("fast"), member, 0)
    x = torch.rand(run.mask.shape[0], 3, *run.mask.shape[-2:], generator=torch.Generator().manual_seed(1))
    half = x[: len(x) // 2]
    twin = copy.deepcopy(run)
    with torch.no_grad():  # what the step's reconstruction loss must be before its update
        expected = masked_l2_loss(run.G(apply_mask(half, run.mask[: len(half)])), half, run.mask[: len(half)])
    logs = E.train_step(run, half.clone())
    assert logs["rec"] == pytest.approx(expected.item(), rel=1e-6)
    changed = [not torch.equal(a, b) for a, b in zip(run.G.parameters(), twin.G.parameters())]
    assert any(changed)
    full = E.train_step(twin, x)  # the configured batch works as before
    assert set(full) == set(logs)
