"""docs/results.md is generated (tools/results_page.py) from the experiments' JSON in docs/results/, the
mutants in assignments/mutants/ and a collection of the test suite: a number that drifts from its source
fails here. Regenerate with ``python tools/results_page.py``.

The page check takes about a second (no training, no model evaluation, no test collection); the check of
the test counts collects the suite in a subprocess (about 10 to 50 s) and is marked slow.
"""
import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import results_page as rp  # noqa: E402

PAGE = ROOT / "docs" / "results.md"


@pytest.fixture(scope="module")
def inputs():
    tests = json.loads(rp.TESTS_JSON.read_text())
    return rp.load_results(), rp.load_earlier(), rp.count_mutants(), rp.graded_points(), tests


def test_the_page_is_what_its_inputs_give(inputs):
    page = rp.render(*inputs)
    if PAGE.read_text() != page:
        pytest.fail("docs/results.md differs from what docs/results/*.json, the mutants and docs/results/tests.json "
                    "give: run `python tools/results_page.py` and commit the page")


def test_a_changed_result_changes_the_page(inputs):
    results, earlier, mutants, points, tests = inputs
    page = rp.render(*inputs)
    changed = copy.deepcopy(results)
    unet = next(r for r in changed["dense_prediction"]["table"] if r["model"] == "U-Net")
    unet["mean_iou"] += 0.01
    assert rp.render(changed, earlier, mutants, points, tests) != page
    fewer = copy.deepcopy(mutants)
    first = next(iter(fewer))
    fewer[first]["values"] = fewer[first].get("values", 0) + 1
    assert rp.render(results, earlier, fewer, points, tests) != page


def test_mutant_counts_are_the_patch_files(inputs):
    mutants = inputs[2]
    files = sorted((ROOT / "assignments" / "mutants").glob("*/*.patch"))
    assert sum(sum(kinds.values()) for kinds in mutants.values()) == len(files)
    for assignment, kinds in mutants.items():
        assert sum(kinds.values()) == len(list((ROOT / "assignments" / "mutants" / assignment).glob("*.patch")))
    assert f"there are **{len(files):,}** in {len(mutants)} assignments" in PAGE.read_text()


def test_every_result_records_the_command_that_made_it(inputs):
    results, earlier = inputs[0], inputs[1]
    assert set(rp.PAGE_EXPERIMENTS) <= set(results), "run python tools/results_page.py measure for the missing ones"
    for name, data in results.items():
        record = data["record"]
        # measured over every seed the experiment ships (its STORED_SEEDS): a seed added later needs a new measure
        assert record["command"] == " ".join(rp.reproduce_command(name) + ["--out", f"{name}.json"]), name
        assert record["rerun"] is True and record["date"] and record["machine"]["cpu_count"], name
        assert data["experiment"] == name and (data.get("table") or data.get("runs") and data["summary"]), name
        if "runs" in data:  # measured over several seeds: one table per seed, and their mean and sd
            assert [r["seed"] for r in data["runs"]] == list(rp.stored_seeds(name)) and all(r["table"] for r in data["runs"])
        else:
            assert rp.stored_seeds(name) == (0,), f"{name} ships several seeds; measure it over all of them"
    for name, data in earlier.items():
        assert data["rerun"] is False, f"docs/results/earlier/{name}.json must say it was not re-run"
        commands = [data.get("command")] + [v.get("command") for v in data.values() if isinstance(v, dict)]
        assert any(commands) or "facts" in data, f"docs/results/earlier/{name}.json records no command"


def test_the_summaries_follow_the_a07_rule():
    assert rp._clear([1.0, 1.2, 1.1], [0.0, 0.1, 0.2])
    assert not rp._clear([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    assert rp.pm([1.0, 2.0, 3.0], 1) == "2.0 ± 1.0"
    assert rp.num(float("inf")) == "∞" and rp.num(-1.5, 1) == "−1.5" and rp.num(0.25, 2, True) == "+0.25"


def test_summarize_tests_counts_by_file_and_marker():
    summary = rp.summarize_tests([("tests/a.py::t1", False), ("tests/a.py::t2", True), ("nb/x.ipynb::Cell 0", True)])
    assert summary == {"total": 3, "quick": 1, "by_file": {"nb/x.ipynb": [1, 0], "tests/a.py": [2, 1]}}


@pytest.mark.slow
def test_the_test_counts_are_those_pytest_collects():
    stored = json.loads(rp.TESTS_JSON.read_text())
    stored.pop("date")
    assert rp.count_tests() == stored, ("docs/results/tests.json is out of date: run `python tools/results_page.py` "
                                        "and commit docs/results/tests.json and docs/results.md")
