"""Grade each submission in its own sandbox and merge the scores into the course's gradebook.

For every submission, :class:`Sandbox` (in the instructor's process):

1. copies a *template* of the assignment (made once: the course's ``nbgrader_config.py``, the
   assignment's non-notebook source files, and a gradebook that knows only this assignment)
   and the student's submitted folder (symbolic links dropped) to a new temporary folder. Each
   notebook is read with :func:`course_admin.hygiene.read_submission` (a malformed one scores 0
   with the reason) and checked against the source (:func:`course_admin.hygiene.check_structure`);
2. grades each notebook with ``python -m course_admin.boundary.trusted``: the instructor's test
   cells run in that trusted process, the student's cells in a bubblewrap sandbox
   (:mod:`course_admin.bwrap`) that never holds the tests (:mod:`course_admin.boundary`), under a
   per-notebook wall clock;
3. copies the autograded notebook into the course's ``autograded/`` (with a note at the top when
   the grader had to step in), and writes the scores the trusted process decided into the
   course's gradebook with nbgrader's :class:`~nbgrader.api.Gradebook`.

So a submission never runs where it can reach the course's gradebook, ``source/``, the hidden
tests or another student's files, and whatever it does, the other submissions are graded the same.
What a submission may use is :class:`course_admin.limits.Limits`; the results, the checks of a
submitted notebook and the note to the student are in :mod:`course_admin.submission`.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path

import nbformat

from . import course as nc
from .limits import Limits
from .submission import (CellGrade, GradeResult, copy_tree, fingerprint, first_error, note_cell,
                         restore_deleted_cells, suspicious_code)

NOT_READ = "not_read.txt"  # beside a submission that collect could not read (term.collect): why
MARKER = "COURSE_GRADER_SANDBOX"  # in the environment of every process of a sandbox: found and killed at the end


# --- the sandbox ----------------------------------------------------------------------------------

class Sandbox:
    """Grades submissions of a course one at a time, each in a throwaway sandbox.

    Args:
        course_root: the nbgrader course (its ``nbgrader_config.py``, ``source/``,
            ``submitted/``, ``gradebook.db``).
        limits: what each submission may use.
        unsafe_no_sandbox: run the student's side without bubblewrap (only for code you trust).
        keep: keep the temporary folders (for debugging the grader).
    """

    def __init__(self, course_root: Path, limits: Limits | None = None, keep: bool = False,
                 unsafe_no_sandbox: bool = False):
        self.root = Path(course_root).resolve()
        self.limits = limits or Limits()
        self.keep = keep
        self.unsafe_no_sandbox = unsafe_no_sandbox
        if not unsafe_no_sandbox:
            from . import bwrap

            works, why = bwrap.available()
            if not works:
                raise bwrap.SandboxUnavailable(
                    f"cannot grade: the sandbox (bubblewrap) does not work here ({why}). Install it "
                    "(sudo apt-get install bubblewrap) or, on a machine where only trusted code is graded, "
                    "pass --unsafe-no-sandbox")
        self.base = Path(tempfile.mkdtemp(prefix="course-grader-"))
        self._templates: dict[str, Path] = {}
        self._api = None
        self._lock = threading.Lock()  # templates and the course's gradebook: one thread at a time

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def api(self):
        if self._api is None:
            nc.use_this_python()
            self._api = nc.make_api(self.root)
        return self._api

    # -- the template of an assignment: a gradebook that knows it, without the source notebook
    def template(self, assignment: str) -> Path:
        with self._lock:
            return self._template(assignment)

    def _template(self, assignment: str) -> Path:
        if assignment in self._templates:
            return self._templates[assignment]
        from traitlets.config.loader import PyFileConfigLoader
        from nbgrader.apps import NbGraderAPI

        tpl = self.base / f"template-{assignment}"
        course = tpl / "course"
        (tpl / "private").mkdir(parents=True)
        shutil.copytree(self.root / "source" / assignment, course / "source" / assignment,
                        ignore=shutil.ignore_patterns(*nc.GENERATED))
        shutil.copyfile(self.root / "nbgrader_config.py", course / "nbgrader_config.py")
        nc.use_this_python()
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = f"sqlite:///{tpl / 'private' / 'gradebook.db'}"
        result = NbGraderAPI(config=config).generate_assignment(assignment, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_assignment {assignment} failed in the grader's template:\n"
                               f"{result.get('error')}\n{result.get('log')}")
        for notebook in (course / "source" / assignment).glob("*.ipynb"):
            notebook.unlink()  # the source notebook holds the solutions and the hidden tests
        shutil.rmtree(course / "release", ignore_errors=True)
        self._templates[assignment] = tpl
        return tpl

    def _reference_notebook(self, assignment: str, name: str):
        release = self.root / "release" / assignment / name
        if release.is_file():
            return nbformat.read(release, as_version=4)
        source = nbformat.read(self.root / "source" / assignment / name, as_version=4)
        for cell in source.cells:  # only locked cells are taken from it: drop the hidden tests
            if nc.is_test_cell(cell):
                cell.source = nc.strip_hidden_tests(cell.source)
        return source

    # -- one submission
    def grade(self, assignment: str, student: str) -> GradeResult:
        """Autograde ``submitted/<student>/<assignment>/`` and merge the result into the gradebook."""
        start = time.perf_counter()
        result = GradeResult(assignment, student)
        submitted = self.root / "submitted" / student / assignment
        if not submitted.is_dir():
            raise FileNotFoundError(f"no submission at {submitted}")
        tpl = self.template(assignment)
        work = Path(tempfile.mkdtemp(prefix="work-", dir=self.base)).resolve()
        try:
            self._grade_in(work, tpl, assignment, student, submitted, result)
        finally:
            if not self.keep:
                shutil.rmtree(work, ignore_errors=True)
        result.seconds = time.perf_counter() - start
        return result

    def _grade_in(self, work, tpl, assignment, student, submitted, result) -> None:
        # work/course: the throwaway course (the autograded notebook is written there); work/private: spec, report;
        # work/student: the sandbox's /work. Only work/student is in the sandbox.
        course, private = work / "course", work / "private"
        shutil.copytree(tpl / "course", course)
        private.mkdir()
        shutil.copyfile(tpl / "private" / "gradebook.db", private / "gradebook.db")
        dest = course / "submitted" / student / assignment
        copy_tree(submitted, dest)
        from .hygiene import MalformedSubmission, check_structure, read_submission

        if (submitted / NOT_READ).is_file():  # collect could not read what the student handed in
            result.messages.append("the submission was not graded: " + (submitted / NOT_READ).read_text()[:300])
        flags = []
        for path in sorted(dest.glob("*.ipynb")):
            try:  # not a notebook, or not one nbgrader can read: 0 for this student, with why; the class goes on
                nb = read_submission(path)
            except MalformedSubmission as err:
                result.messages.append(f"{path.name} was not graded: {err}")
                path.unlink()
                continue
            source = self.root / "source" / assignment / path.name
            if source.is_file():  # extra or altered graded cells are demoted or put back as the source has them
                nb, changes = check_structure(nb, nbformat.read(source, as_version=4))
                result.messages += changes
            restored = restore_deleted_cells(nb, self._reference_notebook(assignment, path.name))
            if restored:
                result.messages.append(f"deleted cells put back and graded: {', '.join(restored)}")
            nbformat.write(nb, path)
            flags += suspicious_code(nb)
        if flags:
            result.messages.append("for review: the code " + ", ".join(sorted(set(flags))))

        marker = uuid.uuid4().hex
        (course / "autograded" / student / assignment).mkdir(parents=True, exist_ok=True)
        scores: dict[str, dict[str, tuple[float | None, bool]]] = {}
        before = fingerprint(self.root)
        for path in sorted(dest.glob("*.ipynb")):
            scores[path.stem] = self._grade_notebook(work, course, private, assignment, student, path, marker,
                                                     result)
        if fingerprint(self.root) != before:
            result.messages.append("WARNING: files of the course folder changed while this submission was graded")
        with self._lock, warnings.catch_warnings():
            # nbgrader 0.9.6 + SQLAlchemy 2: "Object of type <SubmittedAssignment> not in session" on
            # update_or_create_submission; the rows are stored all the same
            warnings.filterwarnings("ignore", message="Object of type <Submitted")
            self._merge(course, scores, assignment, student, submitted, result)

    # -- one notebook, with the tests outside the student's reach
    def _grade_notebook(self, work, course, private, assignment, student, path, marker, result) -> dict:
        """Run ``course_admin.boundary.trusted`` on one submitted notebook: the tests in that process,
        the student's cells in a bubblewrap sandbox (:mod:`course_admin.bwrap`). Returns
        ``{grade_id: (auto_score, needs_manual_grade)}``."""
        from . import bwrap
        from .boundary import trusted

        source = self.root / "source" / assignment / path.name
        if not source.is_file():
            result.messages.append(f"{path.name} is not a notebook of {assignment}; it was not graded")
            return {}
        home = work / "student"  # the sandbox's /work: the submitted files, the notebook left out
        copy_tree(path.parent, home)
        (home / path.name).unlink(missing_ok=True)
        server_argv = [sys.executable, "-I", trusted.SERVER]
        env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", MARKER: marker,
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp"}
        rlimits = self.limits.rlimits(True)
        if self.unsafe_no_sandbox:
            argv, popen_env = server_argv, {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **env}
        else:
            box = bwrap.BwrapSandbox(ro_paths=bwrap.default_ro_paths() + [str(Path(trusted.SERVER).parent)],
                                      workdir=str(home), env=env, rlimits=rlimits, tmp_mb=self.limits.disk_mb,
                                      work_mb=self.limits.disk_mb)
            argv, popen_env, rlimits = box.command(server_argv), {"PATH": os.environ.get("PATH", "")}, {}
        spec = {"source": str(source), "submission": str(path), "notebook_out":
                str(course / "autograded" / student / assignment / path.name),
                "release": str(self.root / "release" / assignment / path.name),
                "report": str(private / f"report-{path.stem}.json"), "cell_timeout": self.limits.cell_timeout or
                self._course_cell_timeout(), "sandbox_argv": argv, "sandbox_env": popen_env,
                "sandbox_cwd": str(home), "rlimits": rlimits}
        spec_path = private / f"spec-{path.stem}.json"
        spec_path.write_text(json.dumps(spec))
        env_trusted = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
        env_trusted.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", MARKER: marker})
        with open(work / "grader.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "course_admin.boundary.trusted", str(spec_path)],
                                    cwd=private, env=env_trusted, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                proc.wait(timeout=self.limits.notebook_timeout)
            except subprocess.TimeoutExpired:
                result.messages.append(f"grading stopped after {self.limits.notebook_timeout} s (the limit for "
                                       "one notebook); cells not graded by then score 0")
            finally:
                _kill_sandbox(proc, marker)
        report = {}
        if Path(spec["report"]).is_file():
            report = json.loads(Path(spec["report"]).read_text())
        result.messages += report.get("messages", [])
        result.messages += [f"{gid}: {why}" for gid, why in report.get("stopped", {}).items()]
        if not report.get("success"):
            why = report.get("error") or (work / "grader.log").read_text(errors="replace")[-300:].strip()
            result.messages.append(f"the grader could not grade {path.name}: {why[:300]}")
            return {}
        return {gid: (g["auto"], bool(g["manual"])) for gid, g in report["grades"].items()}

    def _course_cell_timeout(self) -> int:
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        try:
            return int(config.Execute.timeout)
        except (AttributeError, TypeError, ValueError):
            return 60

    # -- back into the course
    def _merge(self, course, scores, assignment, student, submitted, result) -> None:
        from nbgrader.api import Gradebook

        from .hygiene import MalformedSubmission, read_submission

        graded_dir = course / "autograded" / student / assignment
        out_dir = self.root / "autograded" / student / assignment
        if out_dir.exists():
            _make_writable(out_dir)
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        if graded_dir.is_dir():
            copy_tree(graded_dir, out_dir)
        timestamp = None
        if (submitted / "timestamp.txt").is_file():
            timestamp = (submitted / "timestamp.txt").read_text().strip() or None
        with Gradebook(self.api.coursedir.db_url, self.api.coursedir.course_id) as gb:
            gb.update_or_create_student(student)
            sub = gb.update_or_create_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
            for notebook in sub.notebooks:
                cells = scores.get(notebook.name, {})
                for grade in notebook.grades:
                    auto, manual = cells.get(grade.name, (0.0, False))
                    grade.auto_score = 0.0 if auto is None and not manual else auto
                    grade.needs_manual_grade = bool(manual)
                    grade.manual_score = None
            gb.db.commit()
            sub = gb.find_submission(assignment, student)
            result.score, result.max_score = float(sub.score), float(sub.max_score)
            for notebook in sub.notebooks:
                path = out_dir / f"{notebook.name}.ipynb"
                nb = nbformat.read(path, as_version=4) if path.is_file() else None
                if nb is None:  # nothing came back: the student's notebook, so that feedback can be made
                    source = submitted / f"{notebook.name}.ipynb"
                    try:
                        nb = read_submission(source)
                    except (MalformedSubmission, OSError):  # missing or malformed: an empty page with the note
                        nb = nbformat.v4.new_notebook()
                    for cell in nb.cells:
                        if cell.cell_type == "code":
                            cell.outputs, cell.execution_count = [], None
                cells = {nc.nbgrader(c).get("grade_id"): c for c in nb.cells}
                for grade in notebook.grades:
                    message = first_error(cells[grade.name]) if grade.name in cells else "cell missing"
                    result.cells[grade.name] = CellGrade(grade.name, float(grade.score), float(grade.max_score),
                                                         message if grade.score < grade.max_score else "")
                if result.messages:
                    nb.cells.insert(0, note_cell(result.messages))
                nbformat.write(nb, path)


def _make_writable(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            try:
                os.chmod(Path(dirpath) / name, 0o755)
            except OSError:
                pass


def _kill_sandbox(proc: subprocess.Popen, marker: str) -> None:
    """Kill the grader's process group, then any process that still carries the sandbox's marker
    (a kernel, or what a submission started in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    needle = f"{MARKER}={marker}".encode()
    for _ in range(3):
        found = False
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "environ").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, ValueError):
                pass
        if not found:
            break
        time.sleep(0.1)
