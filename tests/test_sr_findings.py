"""Notebook 10, super-resolution: the findings the notebook states, checked on the stored weights (issue 12), and the
score-vs-steps curves recorded with them. The notebook's own table (Kodak24, kodim01-04, whole images) feeds the
findings; ``python -m course_lib reproduce super_resolution`` computes the same on all 24 images."""
from __future__ import annotations

import pytest
import torch

from course_lib.experiments import common
from course_lib.experiments import super_resolution as sr

pytestmark = pytest.mark.slow

NOTEBOOK_IMAGES = 4
"""The notebook's subset of Kodak24 (``cfg_sr_nb = cfg_sr.replace(eval_images=4)``)."""


@pytest.fixture(scope="module")
def stored():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cfg = sr.Config.make("fast")
    runs = common.load(sr, cfg, 0, retrain=False, progress=False)
    rows, extras = sr.evaluate(cfg.replace(eval_images=NOTEBOOK_IMAGES), runs, progress=False)
    return cfg, runs, rows, extras


def test_findings_are_what_the_notebook_says(stored):
    """FINDINGS_STATED is what notebook 10's text says of its table; a retrain or a refactor that changes one fails
    here, so that the text is revisited instead of silently contradicting the numbers under it."""
    _, _, rows, extras = stored
    found = extras["findings"]
    assert found == sr.findings(rows, extras["per_photo"])
    assert [r["scale"] for r in rows] == ["x2", "x3", "x4"]
    assert {k: found[k] for k in sr.FINDINGS_STATED} == sr.FINDINGS_STATED, found
    assert extras["images"] == "Kodak24, kodim01-kodim04, whole images"


def test_findings_are_computed_from_the_table():
    def row(m, gain, paper_gain):
        return {"scale": m, "gain_db": gain, "paper_set5_bicubic": 30.0, "paper_set5_srcnn": 30.0 + paper_gain}

    rows = [row("x2", 2.9, 3.0), row("x3", 2.1, 2.36), row("x4", 2.2, 2.07)]
    found = sr.findings(rows)
    assert found["gain_db"] == {"x2": 2.9, "x3": 2.1, "x4": 2.2} and found["beats_bicubic_every_scale"]
    assert not found["gain_falls_with_scale"] and found["within_0_3_db_of_paper"]   # 2.1 vs 2.36: 0.26 dB
    assert found["gap_to_paper_db"]["x3"] == pytest.approx(-0.26) and "beats_bicubic_every_image" not in found
    rows[2]["gain_db"] = -0.1
    found = sr.findings(rows, [{"srcnn_psnr": 30.0, "bicubic_psnr": 30.1}])
    assert not found["beats_bicubic_every_scale"] and not found["within_0_3_db_of_paper"]
    assert found["gain_falls_with_scale"] and not found["beats_bicubic_every_image"]


def test_stored_weights_record_their_held_out_curve(stored):
    """Each stored file records the score-vs-steps curve of its training (every 1,000 steps; the last point is the
    stored weights themselves, as sr.held_out_gain scores them today) and the command that made it."""
    cfg, runs, _, _ = stored
    for member, run in runs.items():
        curve = run.meta["held_out_curve"]
        steps = cfg.steps[sr.MEMBERS.index(member)]
        assert curve["step"] == list(range(1000, steps + 1, 1000)), member
        assert len(curve["gain_db"]) == len(curve["step"]) and "Caltech test" in curve["images"]
        assert sr.held_out_gain(run.net, sr.SCALES[member], cfg) == pytest.approx(curve["gain_db"][-1], abs=0.01)
        assert run.meta["steps"] == steps and run.meta["command"] == common.train_command(
            "super_resolution", "fast", 0, member, "bf16"), member
