"""Notebook 10, inpainting: the findings the notebook states, checked on the stored Context Encoders (issue 12: the L2
model beats biharmonic on hole PSNR; the adversarial one is sharper in the hole at a small PSNR cost), the sharpness
measure, and the score-vs-steps curves recorded with the weights. The notebook's own table (all 460 Caltech test
photos) feeds the findings."""
from __future__ import annotations

import pytest
import torch

from course_lib.data.restoration import center_mask
from course_lib.experiments import common
from course_lib.experiments import inpainting as ip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stored():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cfg = ip.Config.make("fast")
    runs = common.load(ip, cfg, 0, retrain=False, progress=False)
    rows, extras = ip.evaluate(cfg, runs, progress=False)
    return cfg, runs, rows, extras


def test_findings_are_what_the_notebook_says(stored):
    _, _, rows, extras = stored
    found = extras["findings"]
    assert found == ip.findings(rows)
    assert {k: found[k] for k in ip.FINDINGS_STATED} == ip.FINDINGS_STATED, found
    by = {r["method"]: r for r in rows}
    assert list(by) == list(ip.METHODS) and len(extras["outputs"]["clean"]) == 460
    # the baselines are what they must be: grey fill has no detail, biharmonic little, and nothing is sharper than
    # twice the truth
    assert by["mid-grey fill"]["grad_energy_vs_truth"] == 0 and by["biharmonic"]["grad_energy_vs_truth"] < 0.3
    assert all(r["grad_energy_vs_truth"] < 2 for r in rows)


def test_findings_are_computed_from_the_table():
    def row(method, p, g):
        return {"method": method, "hole_psnr": p, "grad_energy_vs_truth": g}

    rows = [row("biharmonic", 15.0, 0.1), row("CE (L2)", 16.0, 0.2), row("CE (L2+adv)", 15.5, 0.5)]
    found = ip.findings(rows)
    assert found["l2_margin_db"] == pytest.approx(1.0) and found["adv_cost_db"] == pytest.approx(0.5)
    assert found["l2_beats_biharmonic"] and found["adv_beats_biharmonic"] and found["adv_sharper_than_l2"]
    assert found["adv_psnr_cost_small"]
    rows[2] = row("CE (L2+adv)", 14.5, 6.0)    # 6x the truth's energy is further from it (log scale) than 0.2x
    found = ip.findings(rows)
    assert not found["adv_beats_biharmonic"] and not found["adv_sharper_than_l2"] and not found["adv_psnr_cost_small"]


def test_gradient_energy_by_hand():
    mask = center_mask(6, 2, 1)                      # hole rows/cols 2..3: 2 horizontal + 2 vertical pairs
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 2, 2] = 1.0                               # differs from its right and lower neighbours in the hole
    x[0, 0, 0, 0] = 5.0                               # outside the hole: ignored
    assert ip.gradient_energy(x, mask).tolist() == pytest.approx([2 / 4])
    assert ip.gradient_energy(torch.full((2, 3, 6, 6), 0.3), center_mask(6, 2, 2)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="neighbouring"):
        ip.gradient_energy(x, center_mask(6, 1, 1))
    with pytest.raises(ValueError, match="N x C x H x W"):
        ip.gradient_energy(x[0], mask)


def test_stored_weights_record_their_held_out_curve(stored):
    cfg, runs, _, _ = stored
    for member, run in runs.items():
        curve = run.meta["held_out_curve"]
        assert curve["step"] == list(range(1000, cfg.steps + 1, 1000)), member
        assert len(curve["hole_psnr"]) == len(curve["step"])
        assert ip.held_out_hole_psnr(run.G, cfg) == pytest.approx(curve["hole_psnr"][-1], abs=0.01)
        assert run.meta["steps"] == cfg.steps and run.meta["command"] == common.train_command(
            "inpainting", "fast", 0, member, "bf16"), member
