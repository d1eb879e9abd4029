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
    assert [r["scale"] for r in rows] == ["x2", "x3", "x4", "x3_plain"]
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
    found = sr.findings(rows, [{"scale": "x4", "srcnn_psnr": 30.0, "bicubic_psnr": 30.1}])
    assert not found["beats_bicubic_every_scale"] and not found["within_0_3_db_of_paper"]
    assert found["gain_falls_with_scale"] and not found["beats_bicubic_every_image"]


def test_the_plain_srcnn_is_compared_with_the_residual_one_not_with_the_paper():
    """x3_plain (the paper's form) enters the residual-vs-plain findings only: the paper's goal, the ordering by
    scale and "beats bicubic" are about the stored residual nets x2, x3, x4."""
    def row(m, gain, paper_gain):
        return {"scale": m, "gain_db": gain, "paper_set5_bicubic": 30.0, "paper_set5_srcnn": 30.0 + paper_gain}

    rows = [row("x2", 2.9, 3.0), row("x3", 2.2, 2.36), row("x4", 1.9, 2.07), row("x3_plain", -0.4, 2.36)]
    per_photo = [{"scale": "x3", "srcnn_psnr": 30.2, "bicubic_psnr": 30.0},
                 {"scale": "x3_plain", "srcnn_psnr": 29.0, "bicubic_psnr": 30.0}]
    found = sr.findings(rows, per_photo)
    assert found["beats_bicubic_every_scale"] and found["gain_falls_with_scale"] and found["within_0_3_db_of_paper"]
    assert found["beats_bicubic_every_image"] and not found["plain_beats_bicubic"]
    assert found["residual_beats_plain"] and found["residual_gain_over_plain_db"] == pytest.approx(2.6)
    assert found["gap_to_paper_db"]["x3_plain"] == pytest.approx(-2.76)
    rows[3]["gain_db"] = 2.5
    found = sr.findings(rows)
    assert not found["residual_beats_plain"] and found["plain_beats_bicubic"]
    assert "residual_beats_plain" not in sr.findings(rows[:3])


def test_x3_plain_is_the_papers_form_and_the_others_add_their_input_back():
    cfg = sr.Config.make("fast")
    assert sr.MEMBERS == ("x2", "x3", "x4", "x3_plain") and len(cfg.steps) == len(sr.MEMBERS)
    nets = {m: sr.build(cfg, m).net for m in sr.MEMBERS}
    assert [nets[m].residual for m in sr.MEMBERS] == [True, True, True, False]
    assert nets["x3_plain"].name == "9-5-5"
    x = torch.rand(1, 1, 24, 24)
    with torch.no_grad():  # the last layer starts near zero: the residual nets start as bicubic, the plain one as 0
        assert torch.allclose(nets["x3"](x), x, atol=0.05) and nets["x3_plain"](x).abs().max() < 0.05
    assert not sr.is_residual(cfg.replace(residual=False), "x3")


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


def test_steps_need_one_number_per_member():
    with pytest.raises(ValueError, match=r"one number per member .*x3_plain"):
        sr.Config.make("fast", steps=(100, 100, 100))
