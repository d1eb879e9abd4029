"""The nbgrader course in ``assignments/`` and its mutants: what the instructor command and the tests share.

* reading the source notebooks and their nbgrader cells (solution regions, hidden tests);
* copying the course to a temporary folder and driving nbgrader there (``NbGraderAPI``);
* the mutants: ``assignments/mutants/<assignment>/<grade_id>__<name>.py``, each the full
  replacement text of one solution cell, its first line a comment saying what is wrong;
* :func:`grade_in_process`: grade a notebook the way nbgrader's autograder does (every code cell
  in order, in one namespace; a graded test cell earns its points unless it raises or writes to
  stderr), but in this Python process, so that checking a mutant takes a fraction of a second
  instead of a kernel start. The tests check that it agrees with nbgrader cell by cell.

``python -m course_lib instructor mutants`` prints, for every mutant, the points it loses and
whether the visible tests alone catch it (``python -m course_lib.instructor.course`` too).
"""
from __future__ import annotations

import ast
import contextlib
import copy
import io
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "assignments"  # the course of a checkout (an installed wheel has none: pass --course)
MUTANTS_DIR = COURSE / "mutants"


def find_assignments(course: Path = COURSE) -> list[str]:
    """Names of the assignments of a course: ``source/<name>/<name>.ipynb``, sorted."""
    source = Path(course) / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


ASSIGNMENTS = find_assignments()

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


# --- mutants ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    assignment: str
    grade_id: str
    name: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.assignment}/{self.grade_id}__{self.name}"

    @property
    def text(self) -> str:
        return self.path.read_text()

    @property
    def comment(self) -> str:
        return self.text.splitlines()[0]


def find_mutants(mutants_dir: Path = MUTANTS_DIR) -> list[Mutant]:
    found = []
    for path in sorted(mutants_dir.glob("*/*.py")):
        grade_id, sep, name = path.stem.partition("__")
        assert sep, f"mutant file name {path.name} is not <grade_id>__<name>.py"
        found.append(Mutant(path.parent.name, grade_id, name, path))
    return found


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


# --- the in-process grader ----------------------------------------------------------------------

@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float
    error: str | None  # why the cell lost its points

    @property
    def passed(self) -> bool:
        return self.error is None


class _NotGradeable(Exception):
    pass


def _run_cell(source: str, namespace: dict, filename: str) -> str | None:
    """Run one cell's code in ``namespace``; return why it failed (exception or stderr), or None."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(source)  # IPython syntax, as the kernel reads it
    tree = ast.parse(code, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    err, out = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
                if value is not None:  # nbgrader would read a displayed number as partial credit
                    raise _NotGradeable(f"{filename} ends with an expression worth {value!r}")
        except _NotGradeable:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing cell is a result, not an error here
            return f"{type(exc).__name__}: {exc}"
    shown = [w for w in caught if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    if err.getvalue() or shown:  # nbgrader gives 0 to a test cell that writes to stderr
        return "wrote to stderr: " + (err.getvalue() or str(shown[0].message))[:200]
    return None


def grade_in_process(nb, replace: dict[str, str] | None = None, hidden_tests: bool = True,
                     ) -> dict[str, CellResult]:
    """Grade notebook ``nb`` like nbgrader's autograder, in this process.

    Args:
        nb: the notebook (source or release version).
        replace: ``{grade_id: source}`` -- cells to replace, e.g. a solution cell by a mutant.
        hidden_tests: False strips the hidden tests first (what the student can run).

    Returns:
        ``{grade_id: CellResult}`` for every graded test cell, in notebook order.
    """
    import torch

    replace = replace or {}
    unknown = set(replace) - {nbgrader(c).get("grade_id") for c in nb.cells}
    assert not unknown, f"no cells with grade_id {unknown}"
    namespace = {"__name__": "__main__"}
    results = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only cost time, more so on a busy machine
    try:
        _grade_cells(nb, replace, hidden_tests, namespace, results)
    finally:
        torch.set_num_threads(threads)
    return results


def _grade_cells(nb, replace, hidden_tests, namespace, results) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = nbgrader(cell)
        grade_id = meta.get("grade_id", f"cell{index}")
        source = replace.get(grade_id, cell.source)
        if not hidden_tests:
            source = strip_hidden_tests(source)
        error = _run_cell(source, namespace, f"<cell {grade_id}>")
        if is_test_cell(cell):
            max_points = float(meta["points"])
            results[grade_id] = CellResult(grade_id, 0.0 if error else max_points, max_points, error)


def total(results: dict[str, CellResult]) -> tuple[float, float]:
    return (sum(r.points for r in results.values()), sum(r.max_points for r in results.values()))


def main() -> int:
    """Print each mutant's lost points (all tests, visible tests only) and the failing cells."""
    for mutant in find_mutants():
        nb = read_notebook(source_path(mutant.assignment))
        full = grade_in_process(nb, {mutant.grade_id: mutant.text})
        visible = grade_in_process(nb, {mutant.grade_id: mutant.text}, hidden_tests=False)
        got, best = total(full)
        failing = ", ".join(r.grade_id for r in full.values() if not r.passed)
        seen = "caught by visible tests" if any(not r.passed for r in visible.values()) else "HIDDEN TESTS ONLY"
        print(f"{mutant.id}: loses {best - got:g} of {best:g} ({seen}); fails {failing}")
        print(f"    {mutant.comment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
