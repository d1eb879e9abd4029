"""The instructor command (course_admin): release, collect, sandboxed autograde, feedback,
export, leak check, mutation score; and grading that survives hostile submissions.

One flow, on a temporary copy of the course: ``python -m course_admin grade`` takes a
folder of a01 submissions (tests/hostile_submissions.py: the solution, the untouched release, a
submission that only calls course_lib's reference, and hostile ones: an endless loop that ignores
SIGINT, ``os._exit``, a fork bomb, a 10 GB allocation, 10 MB of output, writes to the gradebook,
other students' folders and the source, reads of the hidden tests, edited and deleted test
cells, patched test helpers) to grades.csv, a per-cell report and feedback pages. Each must get
its expected score and a message that says why; the course's files must not change; regrading
gives the same scores.
"""
from __future__ import annotations

import csv
import io
import shutil
import sys
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import hostile_submissions as hs
from course_lib import grading
from course_admin import course as nc
from course_admin import inprocess, leaks, mutants, redact, term
from course_admin.limits import Limits
from course_admin.submission import course_hash, restore_deleted_cells

pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
A = hs.ASSIGNMENT
CELL_TIMEOUT = 20  # seconds per cell in the flow (the first test cell imports torch)


def run_cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        from course_admin.__main__ import main

        code = main([*map(str, args)])
    return code, out.getvalue()


# --- the flow ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    nc.use_this_python()
    base = tmp_path_factory.mktemp("instructor")
    root = nc.copy_course(base / "assignments")
    source_hash = course_hash([root / "source"])
    code, out = run_cli("--course", root, "release", A)
    assert code == 0, out
    release_nb = nc.read_notebook(root / "release" / A / f"{A}.ipynb")
    notebooks = hs.build(release_nb, nc.read_notebook(nc.source_path(A, root)), str(root), str(nc.COURSE))
    incoming = base / "incoming"
    incoming.mkdir()
    for student, nb in notebooks.items():
        if student == "solution":  # one zip file and one folder among the notebooks
            with zipfile.ZipFile(incoming / "solution.zip", "w") as archive:
                archive.writestr(f"work/{A}.ipynb", nc.nbformat.writes(nb))
        elif student == "untouched":
            (incoming / student).mkdir()
            nc.nbformat.write(nb, incoming / student / "my_notebook.ipynb")
        else:
            nc.nbformat.write(nb, incoming / f"{student}.ipynb")
    (incoming / "not a student!.ipynb").write_text("{}")
    args = ["--course", root, "grade", A, incoming, "--out", base / "grades.csv", "--report", base / "report.csv",
            "--cell-timeout", CELL_TIMEOUT, "--jobs", 2]
    code, out = run_cli(*args)
    print(out)
    report = list(csv.DictReader(open(base / "report.csv")))
    return {"root": root, "base": base, "code": code, "out": out, "report": report, "notebooks": notebooks,
            "incoming": incoming, "source_hash": source_hash,
            "grades": {r["student_id"]: r for r in csv.DictReader(open(base / "grades.csv"))}}


def totals(flow) -> dict[str, tuple[float, str]]:
    return {r["student"]: (float(r["score"]), r["message"]) for r in flow["report"] if r["cell"] == "(total)"}


def messages(flow, student) -> str:
    return " ".join(r["message"] for r in flow["report"] if r["student"] == student)


def test_flow_grades_every_submission(flow):
    assert flow["code"] == 0, f"the grade command failed or found leaks:\n{flow['out']}"
    assert "not a student!" in flow["out"] and "skipped" in flow["out"]
    assert set(totals(flow)) == set(hs.EXPECTED)
    assert set(flow["grades"]) == set(hs.EXPECTED), "grades.csv: one row per student"


@pytest.mark.parametrize("student", list(hs.EXPECTED))
def test_score_and_message(flow, student):
    expected_score, expected_message = hs.EXPECTED[student]
    score, _ = totals(flow)[student]
    assert score == expected_score, f"{student}: {messages(flow, student)}"
    assert float(flow["grades"][student]["score"]) == expected_score
    if expected_message:
        pieces = expected_message if isinstance(expected_message, tuple) else (expected_message,)
        match = all if student == "tampered_tests" else any
        assert match(piece in messages(flow, student) for piece in pieces), messages(flow, student)


def test_hostile_submissions_change_nothing(flow):
    root = flow["root"]
    assert course_hash([root / "source"]) == flow["source_hash"], "the source folder changed"
    for student in hs.EXPECTED:  # the intruder overwrote no one's submission
        submitted = root / "submitted" / student / A / f"{A}.ipynb"
        nb = nc.read_notebook(submitted)
        assert [c.source for c in nb.cells] == [c.source for c in flow["notebooks"][student].cells]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in hs.EXPECTED:
            submission = gb.find_submission(A, student)
            assert all(g.manual_score is None for nb in submission.notebooks for g in nb.grades)
    assert not list(root.glob("**/gradebook.db-journal"))


def test_huge_output_is_cut(flow):
    path = flow["root"] / "autograded" / "alloc_and_output" / A / f"{A}.ipynb"
    assert path.stat().st_size < 3 * 2**20, "10 MB of output must not reach the autograded notebook"


def test_feedback_pages_without_leaks(flow):
    root = flow["root"]
    pages = sorted((root / "feedback").glob(f"*/{A}/{A}.html"))
    assert {p.parent.parent.name for p in pages} == set(hs.EXPECTED)
    assert leaks.check_leaks(root, A) == []
    text = leaks.html_text((root / "feedback" / "intruder" / A / f"{A}.html").read_text())
    # the intruder printed the input history (In) and read the source by path: the tests never ran in its process
    # and the course is not in its sandbox, so no hidden line can be there, redacted or not
    source = nc.read_notebook(nc.source_path(A, root))
    given = "\n".join(c.source for c in nc.read_notebook(root / "release" / A / f"{A}.ipynb").cells)
    hidden = {line for line in redact.hidden_lines([c.source for c in source.cells if nc.is_test_cell(c)])
              if line not in given}
    assert hidden and not [line for line in hidden if line in text]
    assert "name 'In' is not defined" in text
    assert "cannot read" in text  # the hidden tests in source/ were out of reach


def test_check_leaks_finds_a_leak(flow, tmp_path):
    """The leak check can fail: a feedback page that quotes a hidden test is reported."""
    root = nc.copy_course(tmp_path / "course")
    for sub in ("release", "feedback", "submitted"):
        shutil.copytree(flow["root"] / sub, root / sub)
    hidden = sorted(l for l in nc.secret_lines(nc.read_notebook(nc.source_path(A, root))) if len(l) > 30)[0]
    page = root / "feedback" / "solution" / A / f"{A}.html"
    page.write_text(page.read_text() + f"<pre>{hidden}</pre>")
    assert any(hidden in leak for leak in leaks.check_leaks(root, A))


def test_regrading_gives_identical_scores(flow):
    root = flow["root"]
    again = term.autograde(root, A, ["calls_reference"], Limits(cell_timeout=CELL_TIMEOUT), log=lambda *a: None)
    for result in again:
        first = {r["cell"]: float(r["score"]) for r in flow["report"] if r["student"] == result.student}
        assert first.pop("(total)") == result.score
        assert first == {gid: c.score for gid, c in result.cells.items()}


# --- parts ------------------------------------------------------------------------------------

def test_sandbox_info():
    code, out = run_cli("sandbox-info")
    assert code == 0 and "limits of one submission" in out and "bwrap" in out
    from course_admin import bwrap

    works, why = bwrap.available()
    assert ("bwrap sandbox works: yes" in out) == works, (out, why)


def test_mutants_command():
    code, out = run_cli("mutants", A)
    assert code == 0, out
    assert f"| {A} | 10/10 | 0/10 |" in out and "100%" in out
    rows = mutants.mutation_report(nc.COURSE, [A])
    assert rows[0]["caught"] == rows[0]["mutants"] >= 6 and rows[0]["survivors"] == []


def test_mutation_report_lists_survivors(tmp_path):
    """A 'mutant' that only adds a comment to the solution survives and is named."""
    source = nc.read_notebook(nc.source_path(A))
    folder = tmp_path / "mutants" / A
    folder.mkdir(parents=True)
    solution = nc.cell_by_id(source, hs.CONV).source
    hunks = mutants.make_hunks(solution, solution + "\n# the same solution")
    (folder / f"{hs.CONV}__same_as_solution.patch").write_text(mutants.format_mutant(hs.CONV, "none", "none", hunks))
    rows = mutants.mutation_report(nc.COURSE, [A], tmp_path / "mutants")
    assert rows[0]["survivors"] == [f"{hs.CONV}__same_as_solution"] and rows[0]["score"] == 0


def test_new_mutant_command(tmp_path):
    """``new-mutant`` writes the lines an edited cell changes as a patch, and grades it."""
    root = nc.copy_course(tmp_path / "course")
    solution = nc.cell_by_id(nc.read_notebook(nc.source_path(A, root)), hs.CONV).source
    edited = tmp_path / "cell.py"
    edited.write_text(solution.replace("// stride + 1", "// stride + 2") + "\n")
    code, out = run_cli("--course", root, "new-mutant", A, hs.CONV, "plus_two", edited,
                        "--bug", "adds 2 instead of 1", "--why", "Counting both ends of the span adds one too many.")
    assert code == 0 and "the tests catch it" in out, out
    path = root / "mutants" / A / f"{hs.CONV}__plus_two.patch"
    changed = [line for line in path.read_text().splitlines() if line[:1] in "-+"]
    assert len(changed) == 2 and changed[1].endswith("// stride + 2"), changed
    (mutant,) = [m for m in mutants.find_mutants(root / "mutants") if m.name == "plus_two"]
    assert mutant.text == solution.replace("// stride + 1", "// stride + 2") and mutant.why.startswith("Counting")


def test_collect(tmp_path):
    root = tmp_path / "course"
    (root / "submitted").mkdir(parents=True)
    incoming = tmp_path / "in"
    incoming.mkdir()
    nb = nc.nbformat.v4.new_notebook()
    nc.nbformat.write(nb, incoming / "ann.ipynb")
    with zipfile.ZipFile(incoming / "bo.zip", "w") as archive:
        archive.writestr("x/a.ipynb", nc.nbformat.writes(nb))
        archive.writestr("__MACOSX/x/._a.ipynb", "junk")
    with zipfile.ZipFile(incoming / "two.zip", "w") as archive:
        archive.writestr("a.ipynb", nc.nbformat.writes(nb))
        archive.writestr("b.ipynb", nc.nbformat.writes(nb))
    (incoming / "broken.ipynb").write_text("not json")
    (incoming / "cy").mkdir()
    nc.nbformat.write(nb, incoming / "cy" / "anything.ipynb")
    (incoming / "link.ipynb").symlink_to(incoming / "ann.ipynb")
    done = term.collect(root, "a99", incoming)
    assert {k for k, v in done.items() if v == "ok"} == {"ann", "bo", "cy"}
    assert "expected 1" in done["two"] and "not a readable notebook" in done["broken"] and "link" not in done
    # an unreadable submission still makes a row: an empty notebook (0 points) and the reason beside it
    broken = root / "submitted" / "broken" / "a99"
    assert nc.nbformat.read(broken / "a99.ipynb", as_version=4).cells == []
    assert "not a readable notebook" in (broken / "not_read.txt").read_text()
    assert (root / "submitted" / "bo" / "a99" / "a99.ipynb").is_file()
    assert (root / "submitted" / "bo" / "a99" / "timestamp.txt").is_file()


def test_restore_deleted_cells():
    release = nc.read_notebook(nc.source_path(A))
    nb = nc.read_notebook(nc.source_path(A))
    ids = [nc.nbgrader(c)["grade_id"] for c in nb.cells]
    nb.cells = [c for c in nb.cells if nc.nbgrader(c)["grade_id"] not in ("setup", hs.RF_TESTS[1])]
    assert restore_deleted_cells(nb, release) == ["setup", hs.RF_TESTS[1]]
    assert [nc.nbgrader(c)["grade_id"] for c in nb.cells] == ids


def test_redact():
    secrets = redact.hidden_lines(["x = 1\n### BEGIN HIDDEN TESTS\nassert secret_function(3) == 4\n"
                                   "x = 1\n### END HIDDEN TESTS"])
    assert secrets == {"assert secret_function(3) == 4"}
    nb = nc.nbformat.v4.new_notebook()
    cell = nc.nbformat.v4.new_code_cell("print(In)")
    cell.outputs = [nc.nbformat.v4.new_output("stream", name="stdout", text="a\nassert secret_function(3) == 4\nb"),
                    nc.nbformat.v4.new_output("error", ename="AssertionError", evalue="expected 4",
                                              traceback=["\x1b[0;32m----> 3\x1b[0m assert secret_function(3) == 4"])]
    nb.cells.append(cell)
    assert redact.redact_notebook(nb, secrets) == 2
    assert cell.outputs[0]["text"] == f"a\n{redact.REDACTED}\nb" and cell.outputs[1]["evalue"] == "expected 4"


def test_check_not_calling():
    from course_lib.receptive_field import conv_output_size

    def own(n, k):
        return n - k + 1

    def lazy(n, k):
        from course_lib.receptive_field import conv_output_size as ref
        return ref(n, k)

    forbidden = ["course_lib.receptive_field.conv_output_size"]
    assert grading.check_not_calling(own, forbidden, 32, 3, what="own(32, 3)") == 30
    with pytest.raises(AssertionError, match="lazy\\(32, 3\\) calls course_lib.receptive_field.conv_output_size"):
        grading.check_not_calling(lazy, forbidden, 32, 3, what="lazy(32, 3)")
    with pytest.raises(AssertionError, match="calls"):  # a callable works as well as a name
        grading.check_not_calling(lazy, conv_output_size, 32, 3, what="lazy(32, 3)")
    with pytest.raises(AssertionError, match="not written yet"):
        grading.check_not_calling(lambda n, k: (_ for _ in ()).throw(NotImplementedError()), forbidden, 1, 1, what="f")


CALLS_REFERENCE = [m for m in mutants.find_mutants() if m.name == "calls_reference"]
TRAINING_RUN_CELLS = {"a03_colorization": ("colorization_train_step", "test_colorization_short_run"),
                      "a10_restoration": ("srcnn_train_step", "test_srcnn_short_run"),
                      "a06_pix2pix": ("pix2pix_train_step", "test_pix2pix_short_run")}
"""The test cells that train for 15-30 s (a seeded short run) and the one solution they grade: for a mutant of any
other part they are replaced by ``pass`` (they use course_lib's networks and, in a06, course_lib's loss in place of
part 2's, not the student's other functions)."""


@pytest.mark.parametrize("mutant", CALLS_REFERENCE, ids=[m.id for m in CALLS_REFERENCE])
def test_calling_the_reference_scores_zero_for_that_part(mutant):
    """A solution that hands the work to course_lib's reference loses every test cell of its part
    (the cells that fail when that solution is the release stub), each saying why."""
    source = nc.read_notebook(nc.source_path(mutant.assignment))
    stub = nc.release_stub(nc.cell_by_id(source, mutant.grade_id).source)
    owner, run_cell = TRAINING_RUN_CELLS.get(mutant.assignment, (mutant.grade_id, None))
    quick = {run_cell: "pass"} if run_cell and owner != mutant.grade_id else {}
    part = {gid for gid, r in inprocess.grade_in_process(source, {**quick, mutant.grade_id: stub}).items()
            if not r.passed}
    results = inprocess.grade_in_process(source, {**quick, mutant.grade_id: mutant.text})
    assert part and {gid for gid, r in results.items() if not r.passed} == part
    for gid in part:
        assert " calls " in results[gid].error and "scores 0" in results[gid].error, results[gid].error
