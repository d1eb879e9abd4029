"""One graded submission: its result, the checks of the submitted notebook, and small helpers of
:class:`course_admin.sandbox.Sandbox`.

* :class:`GradeResult` and :class:`CellGrade`: the score, per cell, and what the grader did;
* :func:`suspicious_code`: what the student's cells do that the instructor should look at;
* :func:`fingerprint`: the course's files, to notice a change made while grading;
* :func:`restore_deleted_cells`: locked cells the student deleted, put back to be graded;
* :func:`course_hash`: proof, for the tests, that a folder did not change.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import course as nc


@dataclass
class CellGrade:
    grade_id: str
    score: float
    max_score: float
    message: str = ""  # why it lost points: the first lines of its error


@dataclass
class GradeResult:
    assignment: str
    student: str
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, CellGrade] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)  # what the grader did (timeouts, restored cells, ...)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        lost = [f"{c.grade_id} {c.score:g}/{c.max_score:g}: {c.message.splitlines()[0][:160] if c.message else ''}"
                for c in self.cells.values() if c.score < c.max_score]
        return "; ".join(self.messages + lost)


# --- suspicious code and tampering ----------------------------------------------------------------

SUSPICIOUS = [
    (r"\bsys\.modules\b", "changes sys.modules"), (r"\bbuiltins\b|__builtins__", "touches builtins"),
    (r"\bsys\.set(trace|profile)\b|\bsettrace\b", "sets a trace or profile function"),
    (r"\bimportlib\b|__import__", "uses the import machinery"), (r"\bctypes\b", "uses ctypes"),
    (r"\bos\.(fork|kill|setsid|_exit)\b|\bsignal\.signal\b", "forks, signals or exits the process"),
    (r"gradebook|nbgrader|course_admin|\.\./\.\./|/source/", "names grader files or folders"),
    (r"\bget_ipython\b|\b_ih\b|\bIn\[", "reads the kernel's input history"),
]


def suspicious_code(nb) -> list[str]:
    """What the student's own cells (not the locked ones) do that the instructor should look at."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and not nc.nbgrader(c).get("locked"))
    return [why for pattern, why in SUSPICIOUS if re.search(pattern, code)]


def fingerprint(root: Path) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of every file of the course that grading must not change:
    ``source/``, ``release/`` and ``submitted/`` (the gradebook and ``autograded/`` are written by
    the merges of other submissions graded at the same time)."""
    prints = {}
    for dirpath, dirnames, filenames in (w for sub in ("source", "release", "submitted") for w in os.walk(root / sub)):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            prints[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return prints


# --- notebooks ------------------------------------------------------------------------------------

def restore_deleted_cells(nb, reference) -> list[str]:
    """Put back, in place, the locked cells of ``reference`` (the release notebook) missing from
    ``nb``; autograde then restores their full source. Returns their grade_ids."""
    present = {nc.nbgrader(c).get("grade_id") for c in nb.cells}
    restored = []
    for index, cell in enumerate(reference.cells):
        meta = nc.nbgrader(cell)
        gid = meta.get("grade_id")
        if not gid or gid in present or not (meta.get("locked") or meta.get("grade")):
            continue
        before = {nc.nbgrader(c).get("grade_id") for c in reference.cells[:index]}
        position = 0  # after the last cell of nb that comes before it in the reference
        for i, c in enumerate(nb.cells):
            if nc.nbgrader(c).get("grade_id") in before:
                position = i + 1
        nb.cells.insert(position, nbformat.from_dict(json.loads(json.dumps(cell))))
        present.add(gid)
        restored.append(gid)
    return restored


def first_error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}".strip()
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "wrote to stderr: " + output.get("text", "")[:300]
    return ""


def note_cell(messages: list[str]):
    text = "**Note from the grader.** " + " ".join(f"{m}." if not m.endswith(".") else m for m in messages)
    return nbformat.v4.new_markdown_cell(text)


def copy_tree(src: Path, dest: Path) -> None:
    """Copy regular files and folders only (a symlink in a submission could point anywhere)."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir():
            copy_tree(entry, dest / entry.name)
        elif entry.is_file():
            shutil.copyfile(entry, dest / entry.name)


def course_hash(paths: list[Path]) -> str:
    """sha256 over the files under ``paths`` (for the tests: proof that nothing changed)."""
    digest = hashlib.sha256()
    for root in paths:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and not path.is_symlink():
                digest.update(str(path).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()
