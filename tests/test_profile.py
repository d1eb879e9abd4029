"""Profiles: fast unless asked for, and the full profile says what it costs before it starts."""
import pytest

import course_lib.profile as profile
from course_lib import get_profile, profile_plan, profile_steps
from course_lib.data import official
from course_lib.experiments import common


@pytest.fixture(autouse=True)
def fresh_announcement(monkeypatch):
    monkeypatch.setattr(profile, "_announced", False)


def test_a_gpu_does_not_switch_to_full(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    P = get_profile()
    assert (P.name, P.source) == ("fast", "default")


def test_full_from_the_environment_announces_once(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert get_profile().is_full
    first = capsys.readouterr().out
    assert get_profile().is_full
    assert capsys.readouterr().out == ""
    assert "facades" in first and official.DATASETS["facades"].url in first
    assert "Isola et al. 2017" in first or "one CPU thread" in first
    assert "estimate" in first and "unset COURSE_PROFILE" in first


def test_asking_for_fast_or_naming_full_in_code_prints_nothing(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    assert get_profile().is_fast and get_profile("full").is_full
    assert capsys.readouterr().out == ""


def test_the_command_line_announces_full_before_it_starts(monkeypatch, capsys):
    from course_lib.__main__ import main

    calls = []
    monkeypatch.setattr(profile, "describe_full", lambda device=None, only=None: calls.append(only) or "PLAN")
    # generative_scores trains nothing, so `train` stops right after the announcement
    assert main(["train", "generative_scores", "--profile", "full"]) == 2
    assert calls == [{"generative_scores"}] and capsys.readouterr().out.startswith("PLAN")
    assert main(["train", "generative_scores", "--profile", "fast"]) == 2
    assert len(calls) == 1


def test_the_announcement_can_be_limited_to_what_runs():
    text = profile.describe_full("cpu", only={"06"})
    assert "pix2pix_ablation" in text and "denoising" not in text and "facades" in text
    assert "denoising" in profile.describe_full("cpu", only={"denoising"})
    assert "trains nothing of its own" in profile.describe_full("cpu", only={"generative_scores"})


def test_stored_plan_is_what_the_configs_give_today():
    """The table announce_full shows is stored; after a config change rerun
    `python tools/measure_fast_steps.py --plan-only`."""
    assert profile_steps.FULL_PLAN == profile_plan.plan_rows(profile_steps.FAST_STEP_SECONDS)
    assert profile_steps.GPU_SPEEDUP == round(profile_plan.gpu_speedup(profile_steps.FAST_STEP_SECONDS), 1)


def test_full_plan_reads_steps_sizes_and_downloads_from_the_configs():
    rows = profile_plan.plan_rows(profile_steps.FAST_STEP_SECONDS)
    assert {r["notebook"] for r in rows} == {f"{i:02d}" for i in range(1, 11)}
    by_name = {r["experiment"]: r for r in rows}
    for name in ("pix2pix_ablation", "patchgan_sizes"):
        cfg = common.experiment(name).Config.make("full")
        row = by_name[name]
        assert f"{cfg.steps:,} steps, {cfg.size} px" in row["trains"]
        assert row["download"].startswith(cfg.dataset) and official.DATASETS[cfg.dataset].url in row["download"]
    sr = common.experiment("super_resolution").Config.make("full")
    assert f"{max(sr.steps):,}" in by_name["super_resolution"]["trains"]
    assert by_name["cyclegan"]["cpu_hours"] is None and "refused" in by_name["cyclegan"]["trains"]
    trained = [r for r in rows if r["experiment"] not in ("-", "cyclegan")]
    assert all(r["cpu_hours"] > r["gpu_hours"] > 0 for r in trained)
    # the papers' scale costs far more than the fast profile: pix2pix's full run is days on one thread
    assert by_name["pix2pix_ablation"]["cpu_hours"] > 24
    assert by_name["vae"]["download"] == "nothing"
    # more work per step or more steps means a longer estimate
    slower = {k: (v[0] * 2, v[1]) for k, v in profile_steps.FAST_STEP_SECONDS.items() if k.startswith("denoising/")}
    doubled = {r["experiment"]: r for r in profile_plan.plan_rows({**profile_steps.FAST_STEP_SECONDS, **slower})}
    assert doubled["denoising"]["cpu_hours"] == pytest.approx(2 * by_name["denoising"]["cpu_hours"], rel=0.01)


def test_gpu_estimate_is_the_cpu_estimate_over_the_anchored_speedup():
    speedup = profile_plan.gpu_speedup(profile_steps.FAST_STEP_SECONDS)
    assert 5 < speedup < 1000
    cpu = {r["experiment"]: r["hours"] for r in profile.full_plan("cpu")}
    gpu = {r["experiment"]: r["hours"] for r in profile.full_plan("cuda")}
    assert gpu["denoising"] == pytest.approx(cpu["denoising"] / speedup, rel=0.01)
    # by construction the anchor reproduces the paper: one full pix2pix run in about two hours (five objectives)
    from course_lib.experiments import pix2pix_ablation as A

    assert gpu["pix2pix_ablation"] / len(A.MEMBERS) == pytest.approx(2.0, rel=0.5)
    assert f"divided by {profile_steps.GPU_SPEEDUP:.0f}" in profile.describe_full("cuda")
    assert "Isola" not in profile.describe_full("cpu")


def test_every_member_the_full_profile_trains_has_a_measured_fast_step():
    for experiments in profile_plan.NOTEBOOK_EXPERIMENTS.values():
        for name in experiments:
            if name.startswith("cyclegan"):
                continue
            module = common.experiment(name)
            for member in common.members_of(module, module.Config.make("fast")):
                seconds, steps = profile_steps.FAST_STEP_SECONDS[f"{name}/{member}"]
                assert 0 < seconds < 60 and steps > 0, (name, member)


def test_info_lists_the_full_profile_on_request(capsys):
    from course_lib.__main__ import main

    assert main(["info"]) == 0
    assert "info --full" in capsys.readouterr().out
    assert main(["info", "--full"]) == 0
    out = capsys.readouterr().out
    assert "pix2pix_ablation" in out and "time (estimate)" in out
