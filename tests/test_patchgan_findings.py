"""Notebook 07: the findings the notebook states about the PatchGAN size ablation on edges -> motorbikes, checked on
the stored generators (three sizes x seeds 0, 1, 2, and notebook 06's L1 + cGAN generators for the 16 x 16 row), the
held-out curves recorded with them, the answer key of the notebook's checkable exercise, and section 3's run at
128 x 128 (patchgan_sizes_128: the four 128 px generators of each shipped seed) and section 4's width test
(patchgan_capacity_128: the 34 x 34 and 142 x 142 at ndf 64, every shipped seed)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import torch

from course_lib.experiments import common
from course_lib.experiments import patchgan_sizes as S

pytestmark = pytest.mark.slow
SEEDS = S.STORED_SEEDS  # every seed the fast profile ships
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tables():
    """The notebook's own tables: S.evaluate of each seed's stored generators, loaded as the notebook loads them
    (common.load, never training)."""
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    cfg = S.Config.make("fast")
    out = {}
    for seed in SEEDS:
        runs = common.load(S, cfg, seed, retrain=False, progress=False)
        assert sorted(runs) == sorted(S.members(cfg)) and not any(r.meta["trained"] for r in runs.values())
        out[seed] = (S.evaluate(cfg, runs, seed=seed, progress=False), runs)
    return out


def test_findings_are_what_the_notebook_says(tables):
    """FINDINGS_STATED is what notebook 07's text says of its table at every seed (True: holds at all three; False:
    fails at one or more); a retrain or a refactor that changes one fails here until the text is revisited."""
    found = S.findings_over_seeds([tables[s][0][0] for s in SEEDS])
    assert found["per_seed"] == [S.findings(tables[s][0][0]) for s in SEEDS]
    assert S.FINDINGS_STATED, "notebook 07 states findings; FINDINGS_STATED lists them"
    stated = {k: found["every_seed"][k] for k in S.FINDINGS_STATED}
    assert stated == S.FINDINGS_STATED, found["seeds_holding"]


def test_the_table_is_the_family_in_order(tables):
    """One row per discriminator, smallest patch first, beside the paper's row of the same patch-to-image ratio; the
    16 x 16 row is notebook 06's L1 + cGAN generator (same file, same scores), and the real photos sit at the floor."""
    from course_lib.experiments import pix2pix_ablation as A

    cfg = S.Config.make("fast")
    rows, extras = tables[0][0]
    assert [r["discriminator"] for r in rows] == S.family(cfg)
    assert [r["receptive_field"] for r in rows] == [1, 4, 16, 70]
    assert [r["paper_patch"] for r in rows] == list(S.PAPER_FCN_SCORES)
    for r in rows:
        assert abs(r["patch_to_image"] - r["paper_patch_to_image"]) < 0.05 or r["receptive_field"] == 1
        assert r["frechet"] > extras["real photos"]["frechet"]
    ab = common.load(A, A.Config.make("fast"), 0, members=["L1+cGAN"], retrain=False, progress=False)
    ab_row = next(r for r in A.evaluate(A.Config.make("fast"), ab, seed=0, progress=False)[0] if r["objective"] == "L1+cGAN")
    default = next(r for r in rows if r["discriminator"] == cfg.discriminator)
    assert default["frechet"] == pytest.approx(ab_row["frechet"]) and default["edge_f1"] == pytest.approx(ab_row["edge_f1"])


def test_stored_weights_record_their_held_out_curve(tables):
    """Each stored generator records the score-vs-steps curve of its training (every 1,000 steps; the last point the
    stored weights themselves, scored again here), its command, precision and wall-clock time."""
    cfg = S.Config.make("fast")
    rows0 = {r["discriminator"]: r for r in tables[0][0][0]}
    for seed in SEEDS:
        for name, run in tables[seed][1].items():
            curve = run.meta["held_out_curve"]
            assert curve["step"] == list(range(1000, cfg.steps + 1, 1000)), (seed, name)
            assert all(len(curve[k]) == len(curve["step"]) for k in ("frechet", "judge_motorbike", "edge_f1", "l1"))
            assert run.meta["command"] == common.train_command("patchgan_sizes", "fast", seed, name, "bf16")
            assert run.meta["train_seconds"] > 0 and run.meta["steps"] == cfg.steps
            if seed == 0:
                assert curve["frechet"][-1] == pytest.approx(rows0[name]["frechet"], abs=1e-3), name
                assert curve["edge_f1"][-1] == pytest.approx(rows0[name]["edge_f1"], abs=1e-3), name


def test_exercise_2_key_is_the_tables_answer(tables):
    """docs/answer_keys/07_patchgan_sizes.md's answer to exercise 2 (the lowest mean Fréchet distance, and whether its
    lead is clear) is what the notebook's check computes from the mean over seeds of the stored generators' table."""
    key = (ROOT / "docs" / "answer_keys" / "07_patchgan_sizes.md").read_text()
    section = key[key.index("## Exercise 2"):]
    stated = ast.literal_eval(re.search(r"^\*\*Answer:\*\* `(.+)`\s*$", section, re.M).group(1))
    ranked = sorted(common.summarize_seeds([tables[s][0][0] for s in SEEDS]), key=lambda r: r["frechet"])
    lead = ranked[1]["frechet"] - ranked[0]["frechet"]
    assert stated == (ranked[0]["discriminator"], lead > ranked[0]["frechet_sd"] + ranked[1]["frechet_sd"])


@pytest.fixture(scope="module")
def tables_128():
    """Section 3's tables: patchgan_sizes_128.evaluate of each shipped seed's four 128 px generators (never training)."""
    from course_lib.experiments import patchgan_sizes_128 as S128

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    cfg = S128.Config.make("fast")
    out = {}
    for seed in S128.STORED_SEEDS:
        runs = common.load(S128, cfg, seed, retrain=False, progress=False)
        assert list(runs) == S128.family(cfg) and not any(r.meta["trained"] for r in runs.values())
        out[seed] = (S128.evaluate(cfg, runs, seed=seed, progress=False), runs)
    return out


def test_128px_findings_are_what_the_notebook_says(tables_128):
    """patchgan_sizes_128.FINDINGS_STATED is what section 3 of notebook 07 says of the 128 px table at every shipped
    seed; the table has the family in order beside the paper's rows, and every generator is farther from real photos
    than the real held-out photos are."""
    from course_lib.experiments import patchgan_sizes_128 as S128

    seeds = S128.STORED_SEEDS
    found = S128.findings_over_seeds([tables_128[s][0][0] for s in seeds])
    assert S128.FINDINGS_STATED, "notebook 07's section 3 states findings; FINDINGS_STATED lists them"
    assert {k: found["every_seed"][k] for k in S128.FINDINGS_STATED} == S128.FINDINGS_STATED, found["seeds_holding"]
    rows, extras = tables_128[seeds[0]][0]
    assert [r["receptive_field"] for r in rows] == [1, 8, 34, 142]
    assert [r["paper_patch"] for r in rows] == list(S.PAPER_FCN_SCORES)
    assert all(r["frechet"] > extras["real photos"]["frechet"] for r in rows)
    assert extras["samples"]["input"].shape[-1] == 128


def _check_weight_records(name: str, cfg, seed: int, rows, runs) -> None:
    """Each generator of experiment ``name`` at ``seed`` records the command that trains it (bf16), its time, and its
    held-out curve every 1,000 steps whose last point is the stored weights' own score (Fréchet and edge F1)."""
    by_name = {r["discriminator"]: r for r in rows}
    for member, run in runs.items():
        curve = run.meta["held_out_curve"]
        assert curve["step"] == list(range(1000, cfg.steps + 1, 1000)), (seed, member)
        assert run.meta["command"] == common.train_command(name, "fast", seed, member, "bf16")
        assert run.meta["train_seconds"] > 0 and run.meta["steps"] == cfg.steps
        assert curve["frechet"][-1] == pytest.approx(by_name[member]["frechet"], abs=1e-3), (seed, member)
        assert curve["edge_f1"][-1] == pytest.approx(by_name[member]["edge_f1"], abs=1e-3), (seed, member)


def test_128px_weights_record_their_command_and_held_out_curve(tables_128):
    """Each 128 px generator records its command, time and held-out curve (:func:`_check_weight_records`)."""
    from course_lib.experiments import patchgan_sizes_128 as S128

    cfg = S128.Config.make("fast")
    for seed, ((rows, _), runs) in tables_128.items():
        _check_weight_records("patchgan_sizes_128", cfg, seed, rows, runs)


@pytest.fixture(scope="module")
def capacity_table(tables_128):
    """Section 4's tables: patchgan_capacity_128.evaluate of the stored ndf-64 generators of every shipped seed (never
    training), and the ndf-16 runs' Fréchet sd over section 3's seeds."""
    from course_lib.experiments import patchgan_capacity_128 as C

    cfg = C.Config.make("fast")
    out = {}
    for seed in C.STORED_SEEDS:
        runs = common.load(C, cfg, seed, retrain=False, progress=False)
        assert list(runs) == C.members(cfg) and not any(r.meta["trained"] for r in runs.values())
        out[seed] = (*C.evaluate(cfg, runs, seed=seed, progress=False), runs)
    sd = {r["discriminator"]: r["frechet_sd"] for r in common.summarize_seeds([t[0][0] for t in tables_128.values()])}
    return out, sd


def test_width_findings_are_what_the_notebook_says(capacity_table, tables_128):
    """patchgan_capacity_128.FINDINGS_STATED is what section 4 says at every shipped seed (True: holds at each);
    each seed's ndf-16 rows are section 3's rows of that seed (the same files, the same scores); the widths and
    parameter counts are the ones the text gives."""
    from course_lib.experiments import patchgan_capacity_128 as C

    tables, sd = capacity_table
    found = C.findings_over_seeds([tables[s][0] for s in C.STORED_SEEDS], sd)
    assert found["per_seed"] == [C.findings(tables[s][0], sd) for s in C.STORED_SEEDS]
    assert C.FINDINGS_STATED, "notebook 07's section 4 states findings; FINDINGS_STATED lists them"
    assert {k: found["every_seed"][k] for k in C.FINDINGS_STATED} == C.FINDINGS_STATED, found["seeds_holding"]
    for seed, (rows, extras, _) in tables.items():
        assert [(r["base"], r["ndf"], r["d_parameters"]) for r in rows] == [
            ("34x34", 16, 43729), ("34x34", 64, 666433), ("142x142", 16, 438481), ("142x142", 64, 6964033)]
        narrow = {r["discriminator"]: r for r in tables_128[seed][0][0]}
        for r in rows:
            if r["ndf"] == 16:
                assert r["frechet"] == pytest.approx(narrow[r["base"]]["frechet"], abs=1e-6), seed
            assert r["frechet"] > extras["real photos"]["frechet"]
        with pytest.raises(ValueError, match="findings need"):
            C.findings(rows[:3], sd)


def test_width_weights_record_their_command_and_held_out_curve(capacity_table):
    """Each ndf-64 generator records its command, time and held-out curve (:func:`_check_weight_records`; the ndf-16
    rows' files are section 3's, checked above)."""
    from course_lib.experiments import patchgan_capacity_128 as C

    tables, _ = capacity_table
    cfg = C.Config.make("fast")
    for seed, (rows, _, runs) in tables.items():
        _check_weight_records("patchgan_capacity_128", cfg, seed, rows, runs)


def test_exercise_3_key_is_the_tables_answer(capacity_table):
    """docs/answer_keys/07_patchgan_sizes.md's answer to exercise 3 (does widening the 142 x 142 to ndf 64 raise its
    Fréchet distance by more than its ndf-16 seed sd at every shipped seed) is what the notebook's check computes."""
    from course_lib.experiments import patchgan_capacity_128 as C

    tables, sd = capacity_table
    key = (ROOT / "docs" / "answer_keys" / "07_patchgan_sizes.md").read_text()
    section = key[key.index("## Exercise 3"):]
    stated = ast.literal_eval(re.search(r"^\*\*Answer:\*\* `(.+)`\s*$", section, re.M).group(1))
    found = C.findings_over_seeds([tables[s][0] for s in C.STORED_SEEDS], sd)
    assert stated is found["every_seed"]["widening_hurts_whole_image"]
