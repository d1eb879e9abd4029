"""The nbgrader assignments in assignments/: released without solutions, graded right, mutants caught.

For each assignment, in a temporary copy of the course (the repository is never written to):

* ``generate_assignment`` makes a release notebook with no line of any solution or hidden test;
* ``autograde`` gives full marks to the source notebook handed in as a submission, and zero to
  the release notebook handed in untouched;
* ``generate_feedback`` shows no hidden test;
* every mutant in assignments/mutants/ (a plausible wrong solution) loses points. Mutants are
  graded by ``nbgrader_course.grade_in_process`` (all cells run in this process, a fraction of a
  second each) rather than by nbgrader (a kernel start each); that grader is checked against
  nbgrader itself, cell by cell, on the solution, the release notebook and one mutant.

Helpers: course_admin/course.py, inprocess.py and mutants.py, re-exported by tests/nbgrader_course.py
(``python -m course_admin mutants --verbose`` prints the mutant table).
"""
from __future__ import annotations

import html
import os
import re

import pytest

import nbgrader_course as nc
from course_lib import grading

# nbgrader 0.9.6's autograde, run in this process, trips SQLAlchemy 2's autoflush warning
# ("Object of type <SubmittedAssignment> not in session ..."); the grades are stored all the same.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")

ASSIGNMENTS = nc.find_assignments()
MUTANTS = nc.find_mutants()
STUDENTS = {"solution": "the source notebook, solutions and hidden tests included",
            "untouched": "the release notebook as handed out",
            "mutant": "the source notebook with the assignment's first mutant in place of its solution"}


def first_mutant(assignment: str) -> nc.Mutant:
    return next(m for m in MUTANTS if m.assignment == assignment)


def hand_graded(nb) -> dict[str, float]:
    """``{grade_id: points}`` of the cells graded by hand (nbgrader's "Manually graded answer": ``grade`` and
    ``solution``, e.g. a10's written answer). Autograde leaves them at 0 until an instructor grades them, and the
    in-process grader does not score them."""
    return {nc.nbgrader(c)["grade_id"]: float(nc.nbgrader(c)["points"]) for c in nb.cells
            if nc.nbgrader(c).get("grade") and nc.nbgrader(c).get("solution")}


# --- the course, generated and graded once per assignment -------------------------------------

class RoundTrip:
    """Runs nbgrader on a temporary copy of the course, once per assignment, on first use."""

    def __init__(self, root):
        self.root = root
        self.api = nc.make_api(root)
        self._done = {}

    def __call__(self, assignment: str) -> dict:
        if assignment not in self._done:
            self._done[assignment] = self._run(assignment)
        return self._done[assignment]

    def _check(self, result: dict, what: str) -> None:
        assert result["success"], f"{what} failed:\n{result.get('error', '')}\n{result.get('log', '')}"

    def _run(self, assignment: str) -> dict:
        self._check(self.api.generate_assignment(assignment), f"generate_assignment {assignment}")
        release = self.root / "release" / assignment / f"{assignment}.ipynb"
        nc.submit(self.root, assignment, "solution", nc.source_path(assignment, self.root))
        nc.submit(self.root, assignment, "untouched", release)
        mutant = first_mutant(assignment)  # partial marks: checks the in-process grader on a third case
        mutated = self.root / f"{mutant.grade_id}__{mutant.name}.ipynb"
        source = nc.read_notebook(nc.source_path(assignment, self.root))
        nc.nbformat.write(nc.with_cell_replaced(source, mutant.grade_id, mutant.text), mutated)
        nc.submit(self.root, assignment, "mutant", mutated)
        scores = {}
        for student in STUDENTS:
            self._check(self.api.autograde(assignment, student), f"autograde {assignment} {student}")
            scores[student] = nc.gradebook_scores(self.api, assignment, student)
        return {"release": release, "scores": scores}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    nc.use_this_python()
    threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # the grading kernels: tiny tensors, and only 2 cores in CI
    try:
        yield RoundTrip(nc.copy_course(tmp_path_factory.mktemp("course") / "assignments"))
    finally:
        if threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = threads


@pytest.fixture(scope="module")
def sources():
    return {a: nc.read_notebook(nc.source_path(a)) for a in ASSIGNMENTS}


# --- the course as committed ------------------------------------------------------------------

def test_course_has_the_assignments():
    assert {"a01_receptive_fields", "a02_unet"} <= set(ASSIGNMENTS)
    for assignment in ASSIGNMENTS:  # generate_assignment copies everything in source/<a>/ to students
        files = sorted(p.name for p in (nc.COURSE / "source" / assignment).iterdir()
                       if p.name not in (".ipynb_checkpoints", "__pycache__"))  # nbgrader skips these
        assert files == [f"{assignment}.ipynb"], f"source/{assignment} holds more than the notebook: {files}"


def test_config(round_trip):
    api = round_trip.api
    assert os.path.samefile(api.coursedir.root, round_trip.root), "CourseDirectory.root must follow the copy"
    assert not round_trip.root.resolve().is_relative_to(nc.COURSE.resolve())
    assert api.coursedir.course_id
    config = api.config
    assert "NotImplementedError" in config.ClearSolutions.code_stub["python"]
    assert 30 <= config.Execute.timeout <= 300
    assert "nbgrader.preprocessors.ClearHiddenTests" in config.GenerateFeedback.preprocessors


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook(assignment, sources):
    nb = sources[assignment]
    assert nb.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    ids = [nc.nbgrader(c).get("grade_id") for c in nb.cells]
    assert None not in ids and len(set(ids)) == len(ids), "every cell needs a unique grade_id"
    for cell in nb.cells:
        gid = nc.nbgrader(cell)["grade_id"]
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{gid}: outputs are committed"
        if nc.is_solution_cell(cell):
            inside, _ = nc.split_region(cell.source, nc.BEGIN_SOLUTION, nc.END_SOLUTION)
            assert inside, f"{gid}: solution cell without a solution region"
        if nc.is_test_cell(cell):
            assert nc.nbgrader(cell)["points"] > 0 and nc.nbgrader(cell)["locked"], gid
            assert cell.source.startswith("# Tests"), f"{gid}: test cells start with '# Tests ...'"
            assert f"({nc.nbgrader(cell)['points']:g} point" in cell.source.splitlines()[0], \
                f"{gid}: the first line must give the cell's points"
            inside, outside = nc.split_region(cell.source, nc.BEGIN_HIDDEN, nc.END_HIDDEN)
            assert inside and outside, f"{gid}: needs visible tests and hidden tests"
            if re.search(r"torch\.rand", cell.source):  # regrading must give the same numbers
                assert "torch.manual_seed(" in cell.source, f"{gid}: seed torch"
            if re.search(r"\brandom\.", cell.source):
                assert re.search(r"random\.Random\(\d+\)", cell.source), f"{gid}: use a seeded random.Random"
                assert not re.search(r"\brandom\.(rand|choice|shuffle|sample|uniform|gauss)", cell.source), gid
    assert sum(nc.is_test_cell(c) for c in nb.cells) >= 2


# --- nbgrader round trip ---------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solutions(assignment, sources, round_trip):
    source = sources[assignment]
    release = nc.read_notebook(round_trip(assignment)["release"])
    text = "\n".join(cell.source for cell in release.cells)
    release_lines = {line.strip() for line in text.splitlines()}
    secrets = nc.secret_lines(source)
    assert len(secrets) > 10
    leaked = sorted(secrets & release_lines)
    assert not leaked, f"solution or hidden-test lines in the release notebook: {leaked}"
    for marker in (nc.BEGIN_SOLUTION, nc.END_SOLUTION, nc.BEGIN_HIDDEN, nc.END_HIDDEN):
        assert marker not in text
    assert nc.visible_test_lines(source) <= release_lines, "the visible tests must stay"
    for gid in hand_graded(source):  # a written answer: the instructor's answer replaced by nbgrader's text stub
        answer = nc.cell_by_id(source, gid).source
        inside = nc.split_region(answer, nc.BEGIN_SOLUTION, nc.END_SOLUTION)[0] if nc.BEGIN_SOLUTION in answer \
            else answer.splitlines()
        released = {line.strip() for line in nc.cell_by_id(release, gid).source.splitlines()}
        assert not {line.strip() for line in inside if line.strip()} & released, f"{gid}: the answer reaches the release"
        assert round_trip.api.config.ClearSolutions.text_stub in nc.cell_by_id(release, gid).source, gid
    stub = round_trip.api.config.ClearSolutions.code_stub["python"]
    n_solutions = sum(nc.is_solution_cell(c) for c in source.cells)
    assert text.count(stub) == n_solutions
    assert all(c.get("outputs", []) == [] for c in release.cells)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(assignment, sources, round_trip):
    score, max_score, per_cell = round_trip(assignment)["scores"]["solution"]
    by_hand = hand_graded(sources[assignment])
    assert max_score > sum(by_hand.values())
    assert score == max_score - sum(by_hand.values()), f"the solution lost points: {per_cell}"
    assert all(per_cell[gid] == 0 for gid in by_hand), f"autograde scored a written answer: {per_cell}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(assignment, round_trip):
    score, max_score, per_cell = round_trip(assignment)["scores"]["untouched"]
    assert score == 0, f"the release notebook earns points without any work: {per_cell}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_in_process_grader_agrees_with_nbgrader(assignment, sources, round_trip):
    """The mutants are graded in process: check that grader against nbgrader, cell by cell."""
    run = round_trip(assignment)
    mutant = first_mutant(assignment)
    notebooks = {"solution": sources[assignment], "untouched": nc.read_notebook(run["release"]),
                 "mutant": nc.with_cell_replaced(sources[assignment], mutant.grade_id, mutant.text)}
    by_hand = hand_graded(sources[assignment])  # nbgrader lists them (0 until graded by hand); ours does not
    for student, nb in notebooks.items():
        _, max_score, nbgrader_cells = run["scores"][student]
        ours = nc.grade_in_process(nb)
        assert {gid: r.points for gid, r in ours.items()} == {gid: points for gid, points in nbgrader_cells.items()
                                                              if gid not in by_hand}, f"{student}: {STUDENTS[student]}"
        assert nc.total(ours)[1] == max_score - sum(by_hand.values())
    auto_max = max_score - sum(by_hand.values())
    assert 0 < run["scores"]["mutant"][0] < auto_max, "the mutant submission should earn partial marks"
    assert nc.total(nc.grade_in_process(sources[assignment])) == (auto_max, auto_max)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_hides_hidden_tests(assignment, sources, round_trip):
    round_trip(assignment)
    result = round_trip.api.generate_feedback(assignment, "solution")
    assert result["success"], result.get("error")
    page = round_trip.root / "feedback" / "solution" / assignment / f"{assignment}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    lines = {line.strip() for line in text.splitlines()}
    assert nc.visible_test_lines(sources[assignment]) <= lines, "the visible tests should be in the feedback"
    hidden = set()
    for cell in sources[assignment].cells:
        if nc.is_test_cell(cell):
            hidden.update(line.strip() for line in nc.split_region(cell.source, nc.BEGIN_HIDDEN, nc.END_HIDDEN)[0])
    leaked = sorted((hidden & nc.secret_lines(sources[assignment])) & lines)
    assert not leaked, f"hidden tests in the feedback: {leaked}"


# --- mutants ---------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_has_three_mutants(assignment, sources):
    solution_ids = {nc.nbgrader(c)["grade_id"] for c in sources[assignment].cells if nc.is_solution_cell(c)}
    mutants = [m for m in MUTANTS if m.assignment == assignment]
    assert {m.grade_id for m in mutants} <= solution_ids, "mutant of an unknown solution cell"
    for grade_id in solution_ids:
        assert sum(m.grade_id == grade_id for m in mutants) >= 3, f"fewer than 3 mutants for {grade_id}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_patch_applies_to_the_solution(mutant, sources):
    """Each mutant file: the graded function, what is wrong and why a student would write it, then
    hunks that still apply to the current solution cell and change its solution region only."""
    assert mutant.bug and mutant.why and len(mutant.why) > 20, "say what is wrong and why it is plausible"
    cell = nc.cell_by_id(sources[mutant.assignment], mutant.grade_id)
    assert nc.is_solution_cell(cell), f"{mutant.grade_id} is not a solution cell"
    text = mutant.apply(cell.source)  # raises PatchError, naming the mutant and the line, if a hunk no longer fits
    assert text != cell.source
    inside, outside = nc.split_region(text, nc.BEGIN_SOLUTION, nc.END_SOLUTION)
    solution_inside, solution_outside = nc.split_region(cell.source, nc.BEGIN_SOLUTION, nc.END_SOLUTION)
    assert outside == solution_outside, "a mutant changes the solution region only"
    assert inside != solution_inside


def test_a_patch_that_no_longer_matches_fails_loudly(sources):
    """Where the solution changed under a hunk, applying the mutant names the mutant and the line."""
    mutant = MUTANTS[0]
    solution = nc.cell_by_id(sources[mutant.assignment], mutant.grade_id).source
    _, hunks = mutant.parsed
    changed = next(text for op, text, _ in hunks[0].lines if op == "-")  # a line the mutant removes
    edited = solution.replace(changed, changed + "  # edited", 1)
    with pytest.raises(nc.PatchError, match=re.escape(mutant.id) + r".*line \d+ " + re.escape(repr(changed))):
        mutant.apply(edited)


def test_malformed_patches_are_refused():
    """The patch reader refuses what it cannot apply unambiguously, naming the file and the line."""
    header = "function: f\nbug: b\nwhy: w\n"
    ok = header + "@@\n     x = 1\n-    y = 2\n+    y = 3\n\n\n"  # trailing blank lines end the file
    head, hunks = nc.parse_patch(ok, "m")
    assert "category" not in head and nc.parse_patch(header + "category: gradient\n" + ok[len(header):], "m")[0][
        "category"] == "gradient"
    assert len(hunks) == 1 and hunks[0].old == ["    x = 1", "    y = 2"]
    assert hunks[0].new == ["    x = 1", "    y = 3"]
    for text, message in [(header, "no hunk"),
                          (header + "bug: again\n@@\n-a\n+b\n", "second 'bug'"),
                          ("function: f\nbug: b\n@@\n-a\n+b\n", "lacks why"),
                          (header + "@@\n*a\n", "must start with"),
                          (header + "@@\n+a\n", "no kept or removed line"),
                          (header + "@@\n a\n", "changes nothing"),
                          ("fnction: f\n" + header + "@@\n-a\n+b\n", "expected one of"),
                          (header + "category: typo\n@@\n-a\n+b\n", "not one of")]:
        with pytest.raises(nc.PatchError, match=message):
            nc.parse_patch(text, "m")


def test_every_file_under_mutants_is_a_patch():
    from pathlib import Path

    mutants = Path(__file__).resolve().parents[1] / "assignments" / "mutants"
    strays = [p.relative_to(mutants) for p in mutants.rglob("*") if p.is_file() and p.suffix != ".patch"]
    assert not strays, f"files under assignments/mutants/ that are not mutant patches (they would be skipped): {strays}"


SLOW_TEST_CELLS = {"a10_restoration": {"test_srcnn_short_run": "pass"},
                   "a03_colorization": {"test_colorization_short_run": "pass"},
                   "a06_pix2pix": {"test_pix2pix_short_run": "pass"}}
"""Test cells that train (a10: 300 SRCNN steps, about 15 s on one thread; a03: 300 steps of a ColorizationNet on
Caltech photos, about 22 s with the data; a06: 300 pix2pix steps on edges -> motorbikes, about 30 s): a mutant is first
graded with them replaced by a cell that passes, and graded again in full only if it kept full marks that way."""


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_loses_points(mutant, sources):
    quick = {gid: text for gid, text in SLOW_TEST_CELLS.get(mutant.assignment, {}).items() if gid != mutant.grade_id}
    results = nc.grade_in_process(sources[mutant.assignment], {**quick, mutant.grade_id: mutant.text})
    got, best = nc.total(results)
    if quick and got == best:  # caught by no quick cell: the slow cells decide
        results = nc.grade_in_process(sources[mutant.assignment], {mutant.grade_id: mutant.text})
        got, best = nc.total(results)
    assert got < best, f"{mutant.id} ({mutant.bug}) gets full marks: the tests miss this mistake"
    for r in results.values():  # the failure message helps: it is an AssertionError from the checks
        if not r.passed:
            assert r.error.startswith("AssertionError: "), f"{r.grade_id}: {r.error}"


# --- course_lib.grading -----------------------------------------------------------------------

def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_check_equal():
    grading.check_equal(15, 15, "f(1)")
    grading.check_equal((16, 2), (16, 2), "g()")
    grading.check_equal([16, 2], (16, 2), "g()")
    message = _message(grading.check_equal, 16, 15, "f(32, 3, stride=2)", "use //")
    assert "f(32, 3, stride=2) is wrong" in message and "expected: 15" in message and "got:      16" in message
    assert "hint:     use //" in message
    assert "(float)" in _message(grading.check_equal, 15.0, 15, "f()")
    assert "(bool)" in _message(grading.check_equal, True, 1, "f()")
    _message(grading.check_equal, (16, 2.0), (16, 2), "g()")


def test_check_shape_and_close():
    import torch

    a = torch.arange(6.0).reshape(2, 3)
    grading.check_shape(a, (2, 3), "a")
    grading.check_close(a + 1e-7, a, "a")
    assert "shape (3, 2)" in _message(grading.check_shape, a, (3, 2), "a")
    assert "not a tensor" in _message(grading.check_shape, [1, 2], (2,), "a")
    b = a.clone()
    b[1, 2] = 7.0
    message = _message(grading.check_close, b, a, "net(x)", "concatenate [skip, x]")
    assert "index (1, 2)" in message and "1 of 6 values differ" in message and "concatenate" in message
    assert "wrong shape" in _message(grading.check_close, a.T, a, "net(x)")


def test_check_raises_and_runs():
    def stub(*args):
        raise NotImplementedError("Replace this line with your solution.")

    def fails(*args):
        raise RuntimeError("boom")

    grading.check_raises(ValueError, int, "x", what="int('x')")
    assert "did not raise" in _message(grading.check_raises, ValueError, int, "3", what="int('3')")
    assert "wrong exception" in _message(grading.check_raises, ValueError, fails, what="fails()")
    # NotImplementedError is a RuntimeError: the stub must still count as not written
    assert "not written yet" in _message(grading.check_raises, RuntimeError, stub, what="stub()")
    assert grading.check_runs(int, "3", what="int('3')") == 3
    assert "not written yet" in _message(grading.check_runs, stub, what="stub()")
    message = _message(grading.check_runs, fails, what="fails()", hint="look here")
    assert "fails() raised RuntimeError: boom" in message and "look here" in message
    assert grading.describe_call("f", 32, 3, stride=2) == "f(32, 3, stride=2)"


def test_a_warning_from_an_honest_answer_costs_no_points(round_trip, sources):
    """nbgrader gives 0 to a test cell that writes to stderr. An honest a04 train_step that returns
    ``float(loss_D), float(loss_G)`` makes PyTorch warn ("Converting a tensor with requires_grad=True to
    a scalar"); course_lib.grading shows warnings on stdout, so the answer keeps full marks under
    nbgrader and under the in-process grader."""
    assignment = "a04_gans"
    run = round_trip(assignment)
    solution_line = "    return loss_D.item(), loss_G.item()\n"
    source = nc.read_notebook(nc.source_path(assignment))
    cell = next(c for c in source.cells if c.cell_type == "code" and solution_line in c.source)
    honest = cell.source.replace(solution_line, "    return float(loss_D), float(loss_G)\n")
    grade_id = cell.metadata["nbgrader"]["grade_id"]
    path = round_trip.root / "warns.ipynb"
    nc.nbformat.write(nc.with_cell_replaced(source, grade_id, honest), path)
    nc.submit(round_trip.root, assignment, "warns", path)
    round_trip._check(round_trip.api.autograde(assignment, "warns"), "autograde a04_gans warns")
    score, max_score, per_cell = nc.gradebook_scores(round_trip.api, assignment, "warns")
    assert score == max_score == run["scores"]["solution"][1], per_cell
    graded = round_trip.root / "autograded" / "warns" / assignment / f"{assignment}.ipynb"
    outputs = [o for c in nc.read_notebook(graded).cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(o.get("name") == "stdout" and "requires_grad=True to a scalar" in o.get("text", "") for o in outputs), \
        "the honest variant no longer warns: the test does not test what it says"
    ours = nc.grade_in_process(nc.with_cell_replaced(sources[assignment], grade_id, honest))
    assert nc.total(ours) == (max_score, max_score), {g: r.error for g, r in ours.items() if not r.passed}
