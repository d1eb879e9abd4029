"""A term of the course on top of nbgrader: release, collect, autograde (sandboxed), feedback, export.

Each function takes the course folder ``root`` (its ``nbgrader_config.py``, ``source/``,
``submitted/``, ``gradebook.db``); :mod:`course_admin.cli` puts them on the command line.
"""
from __future__ import annotations

import csv
import re
import shutil
import time
import zipfile
from pathlib import Path

from . import course as nc
from .hygiene import strip_terminal

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


# --- release ----------------------------------------------------------------------------------

def release(root: Path, assignments: list[str] | None = None, install=None) -> list[Path]:
    """``generate_assignment`` for each assignment (default: all in ``source/``), then the setup cell
    that installs course_lib where it is missing (``student_setup``); return the release folders.

    Args:
        install: a ``student_setup.Install`` (default: ``student_setup.choose(root)``, mode ``auto``).
    """
    from . import student_setup

    root = Path(root)
    install = install or student_setup.choose(root)
    api = _api(root)
    names = assignments or nc.find_assignments(root)
    folders = []
    for name in names:
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_assignment {name} failed:\n{result.get('error')}\n{result.get('log')}")
        student_setup.add_setup_cell(root / "release" / name / f"{name}.ipynb", install)
        folders.append(root / "release" / name)
    return folders


def _api(root: Path):
    nc.use_this_python()
    return nc.make_api(Path(root))


# --- collect ----------------------------------------------------------------------------------

def collect(root: Path, assignment: str, folder: Path) -> dict[str, str]:
    """Copy submissions from ``folder`` into ``submitted/<student>/<assignment>/<assignment>.ipynb``.

    Each student is one entry of ``folder``: ``<student>.ipynb``, ``<student>.zip`` (holding one
    ``.ipynb``, any name) or a folder ``<student>/`` holding one ``.ipynb``. The student id is the
    entry's name; ids with other characters than letters, digits and ``_ . @ -`` are refused.

    Returns:
        ``{student: what happened}`` ("ok" or why it was skipped).
    """
    root, folder = Path(root), Path(folder)
    done = {}
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.is_file() else entry.name
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if not STUDENT_ID.match(student):
            done[entry.name] = "skipped: not a valid student id"
            continue
        dest = root / "submitted" / student / assignment
        try:
            text, why = _read_submission(entry), None
        except ValueError as err:  # the student still gets a row (0 points) and the reason, in the grades and feedback
            text, why = EMPTY_NOTEBOOK, str(err)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        (dest / f"{assignment}.ipynb").write_bytes(text)
        if why:
            from .sandbox import NOT_READ

            (dest / NOT_READ).write_text(why)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.stat().st_mtime)) + " UTC"
        (dest / "timestamp.txt").write_text(stamp)
        done[student] = "ok" if why is None else f"not readable, graded as an empty notebook (0 points): {why}"
    return done


EMPTY_NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'



MAX_NOTEBOOK_BYTES = 50 * 2**20


def _read_submission(entry: Path) -> bytes:
    if entry.is_dir():
        notebooks = [p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and not p.is_symlink()]
        if len(notebooks) != 1:
            raise ValueError(f"{len(notebooks)} notebooks in the folder, expected 1")
        data = notebooks[0].read_bytes()
    elif entry.suffix == ".ipynb":
        data = entry.read_bytes()
    elif entry.suffix == ".zip":
        with zipfile.ZipFile(entry) as archive:
            names = [i for i in archive.infolist() if i.filename.endswith(".ipynb")
                     and ".ipynb_checkpoints" not in i.filename and not i.filename.startswith("__MACOSX")]
            if len(names) != 1:
                raise ValueError(f"{len(names)} notebooks in the zip file, expected 1")
            if names[0].file_size > MAX_NOTEBOOK_BYTES:
                raise ValueError("the notebook in the zip file is larger than 50 MB")
            data = archive.read(names[0])
    else:
        raise ValueError("neither a .ipynb, a .zip nor a folder")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError("the notebook is larger than 50 MB")
    try:
        nc.nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as err:  # noqa: BLE001 - anything unreadable
        raise ValueError(f"not a readable notebook ({type(err).__name__})") from err
    return data


# --- autograde, feedback, export --------------------------------------------------------------

def students_of(root: Path, assignment: str) -> list[str]:
    base = Path(root) / "submitted"
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir()) if base.is_dir() else []


def ensure_released(root: Path, assignment: str) -> None:
    """The course's gradebook must know the assignment before it takes grades: release it if not."""
    from nbgrader.api import Gradebook, MissingEntry

    api = _api(root)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        try:
            gb.find_assignment(assignment)
            known = bool(gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            known = False
    if not known or not (Path(root) / "release" / assignment).is_dir():
        release(root, [assignment])


def autograde(root: Path, assignment: str, students: list[str] | None = None, limits=None,
              jobs: int = 1, log=print, unsafe_no_sandbox: bool = False) -> list:
    """Grade each submission in a sandbox (``sandbox.Sandbox``), ``jobs`` at a time; return their
    ``GradeResult`` s in the order of ``students``."""
    from concurrent.futures import ThreadPoolExecutor

    from .sandbox import Sandbox

    ensure_released(root, assignment)
    students = students or students_of(root, assignment)
    with Sandbox(root, limits, unsafe_no_sandbox=unsafe_no_sandbox) as sandbox:
        sandbox.template(assignment)

        def one(student):
            result = sandbox.grade(assignment, student)
            log(strip_terminal(f"{assignment} {student}: {result.score:g}/{result.max_score:g} in {result.seconds:.1f} s"
                               + (f" ({result.summary})" if result.summary else "")))
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, students))


def feedback(root: Path, assignment: str, students: list[str] | None = None) -> list[Path]:
    """``generate_feedback`` (all graded students at once, or the ones named); hidden tests are
    removed from code and outputs (see ``redact``), and each page is rewritten through
    ``hygiene.sanitize_html`` (no script of a student's runs where it is opened). Returns the HTML files."""
    from .hygiene import sanitize_html

    api = _api(root)
    graded = [s for s in (students or students_of(root, assignment))
              if (Path(root) / "autograded" / s / assignment).is_dir()]
    result = api.generate_feedback(assignment, None, force=True) if not students else {"success": False}
    if not result["success"]:  # one student at a time: a notebook nbgrader cannot render stops only its own page
        failed = []
        for student in graded:
            if not api.generate_feedback(assignment, student, force=True)["success"]:
                failed.append(student)
        if failed:
            print(strip_terminal(f"feedback: nbgrader could not make the page of {', '.join(failed)}; "
                                 "every other page was made"))
    pages = [page for s in graded for page in sorted((Path(root) / "feedback" / s / assignment).glob("*.html"))]
    for page in pages:
        page.write_text(sanitize_html(page.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")
    return pages


def export(root: Path, out: Path, report: Path | None = None, results: list | None = None) -> Path:
    """Write the gradebook to ``out`` with nbgrader's CSV exporter; with ``report``, also one row
    per graded submission and test cell (score and the grader's message)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    api = _api(root)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        CsvExportPlugin(to=str(out)).export(gb)
    if report is not None and results:
        with open(report, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["assignment", "student", "cell", "score", "max_score", "message"])
            for r in results:
                writer.writerow([r.assignment, r.student, "(total)", f"{r.score:g}", f"{r.max_score:g}",
                                 strip_terminal(" | ".join(r.messages))])
                for c in r.cells.values():
                    writer.writerow([r.assignment, r.student, c.grade_id, f"{c.score:g}", f"{c.max_score:g}",
                                     strip_terminal(c.message.replace("\n", " / ")[:500])])
    return Path(out)
