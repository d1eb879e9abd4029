"""The nbgrader course in ``assignments/``: what the instructor's commands and the tests share.

* reading the source notebooks and their nbgrader cells (solution regions, hidden tests);
* a solution cell as the students get it (:func:`release_stub`);
* copying the course to a temporary folder and driving nbgrader there (``NbGraderAPI``).

The mutants are in :mod:`course_admin.mutants`, the in-process grader in :mod:`course_admin.inprocess`.
Nothing here reads the course when it is imported: :func:`find_assignments` lists it when asked.
"""
from __future__ import annotations

import copy
import os
import shutil
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "assignments"  # the course of a checkout (an installed wheel has none: pass --course)


def find_assignments(course: Path = COURSE) -> list[str]:
    """Names of the assignments of a course: ``source/<name>/<name>.ipynb``, sorted."""
    source = Path(course) / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# What nbgrader generates (and what a copy of the course must not carry along).
GENERATED = ("release", "submitted", "autograded", "feedback", "gradebook.db", ".nbgrader.log",
             "__pycache__", ".ipynb_checkpoints")


# --- notebooks and their nbgrader cells -------------------------------------------------------

def source_path(assignment: str, course: Path = COURSE) -> Path:
    return course / "source" / assignment / f"{assignment}.ipynb"


def read_notebook(path: Path):
    return nbformat.read(path, as_version=4)


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader(cell).get("solution"))


def is_test_cell(cell) -> bool:
    m = nbgrader(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def cell_by_id(nb, grade_id: str):
    for cell in nb.cells:
        if nbgrader(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def split_region(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """Lines inside and outside the ``begin`` / ``end`` marker lines (markers excluded)."""
    inside, outside, within = [], [], False
    for line in source.splitlines():
        if begin in line:
            assert not within, f"nested {begin!r}"
            within = True
        elif end in line:
            assert within, f"{end!r} without {begin!r}"
            within = False
        else:
            (inside if within else outside).append(line)
    assert not within, f"{begin!r} without {end!r}"
    return inside, outside


def strip_hidden_tests(source: str) -> str:
    return "\n".join(split_region(source, BEGIN_HIDDEN, END_HIDDEN)[1])


def release_stub(source: str) -> str:
    """A solution cell as ``generate_assignment`` releases it: the solution region replaced by the stub."""
    out, within = [], False
    for line in source.splitlines():
        if BEGIN_SOLUTION in line:
            within = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + 'raise NotImplementedError("Replace this line with your solution.")')
        elif END_SOLUTION in line:
            within = False
        elif not within:
            out.append(line)
    return "\n".join(out)


def secret_lines(nb) -> set[str]:
    """Stripped lines of the solution regions and hidden tests that appear nowhere outside them:
    none of these may be in the release notebook or the feedback."""
    secret, visible = set(), set()
    for cell in nb.cells:
        if is_solution_cell(cell):
            inside, outside = split_region(cell.source, BEGIN_SOLUTION, END_SOLUTION)
        elif is_test_cell(cell):
            inside, outside = split_region(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        else:
            inside, outside = [], cell.source.splitlines()
        secret.update(line.strip() for line in inside)
        visible.update(line.strip() for line in outside)
    return {line for line in secret - visible if line and not line.startswith("#")}


def visible_test_lines(nb) -> set[str]:
    """Stripped code lines of the visible part of the test cells (a positive control)."""
    lines = set()
    for cell in nb.cells:
        if is_test_cell(cell):
            lines.update(line.strip() for line in split_region(cell.source, BEGIN_HIDDEN, END_HIDDEN)[1])
    return {line for line in lines if line and not line.startswith("#")}


# --- the course in a temporary folder, driven by nbgrader --------------------------------------

def copy_course(dest: Path) -> Path:
    """Copy ``assignments/`` to ``dest`` (without anything nbgrader generated); return ``dest``."""
    shutil.copytree(COURSE, dest, ignore=shutil.ignore_patterns(*GENERATED))
    return dest


def use_this_python() -> None:
    """Put this interpreter's bin folder first on PATH: nbgrader runs ``alembic`` by name, and
    the ``python3`` kernelspec starts ``python`` by name."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def make_api(course_root: Path):
    """An ``NbGraderAPI`` configured by the course's own ``nbgrader_config.py`` in ``course_root``."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    return NbGraderAPI(config=config)


def submit(course_root: Path, assignment: str, student: str, notebook: Path) -> None:
    dest = course_root / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook, dest / f"{assignment}.ipynb")


def with_cell_replaced(nb, grade_id: str, source: str):
    """A copy of notebook ``nb`` with the source of cell ``grade_id`` replaced (e.g. by a mutant)."""
    nb = copy.deepcopy(nb)
    cell_by_id(nb, grade_id).source = source
    return nb


def gradebook_scores(api, assignment: str, student: str) -> tuple[float, float, dict[str, float]]:
    """``(score, max_score of the assignment, {grade_id: score})`` of a graded submission."""
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url) as gb:
        max_score = gb.find_assignment(assignment).max_score
        submission = gb.find_submission(assignment, student)
        (notebook,) = submission.notebooks
        return submission.score, max_score, {g.name: g.score for g in notebook.grades}
