"""Grade each submission in its own sandbox and merge the scores into the course's gradebook.

For every submission, :class:`Sandbox` (in the instructor's process):

1. copies a *template* of the assignment (made once: the course's ``nbgrader_config.py``, the
   assignment's non-notebook source files, and a gradebook that knows only this assignment)
   and the student's submitted folder (symbolic links dropped) to a new temporary folder; the
   gradebook goes to a private folder beside it. Test cells the student deleted are put back
   (from the release notebook) so that they are graded rather than scored 0 in silence;
2. runs ``python .../course_lib/instructor/jail.py grade`` there, in a new session, under
   ``unshare --user --map-root-user --net --pid --fork --kill-child`` where that works (no
   network, its own PID namespace), with a per-notebook wall clock; the kernel runs through
   ``jail.py kernel``, which hides the course folder, the templates and the private folder behind
   empty read-only mounts and sets the resource limits (:class:`Limits`);
3. reads the scores from the private gradebook, copies the autograded notebook into the course's
   ``autograded/`` (with a note at the top when the grader had to step in), and writes the scores
   into the course's gradebook with nbgrader's :class:`~nbgrader.api.Gradebook`.

So a submission never runs where it can reach the course's gradebook, ``source/`` or another
student's files, and whatever it does, the other submissions are graded the same.
:func:`mechanisms` tells which of these the machine allows; without namespaces (no ``unshare``,
or user namespaces switched off) the grader falls back to resource limits, the wall clocks and
the throwaway copy, and reports changes to the course folder (see docs/instructors.md).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import course as nc

JAIL = str(Path(__file__).resolve().with_name("jail.py"))  # run by path: see its docstring
UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"]
MARKER = "COURSE_GRADER_SANDBOX"  # in the environment of every process of a sandbox: found and killed at the end


@dataclass
class Limits:
    """What one submission may use. ``cell_timeout`` None: the course's ``Execute.timeout``."""

    cell_timeout: int | None = None        # seconds per cell
    notebook_timeout: int = 900            # seconds for the whole grading of one submission
    memory_mb: int = 6144                  # address space of the kernel (torch alone maps ~3.3 GB)
    max_processes: int = 64                # processes and threads in the sandbox (RLIMIT_NPROC)
    file_size_mb: int = 64                 # largest file the kernel may write
    max_output_bytes: int = 1_000_000      # output kept per cell while it runs
    network: bool = False                  # True: no network namespace

    def rlimits(self, namespaced: bool) -> dict:
        nproc = self.max_processes
        if not namespaced:  # RLIMIT_NPROC counts all the user's processes outside a user namespace
            nproc += _count_own_processes()
        return {"RLIMIT_AS": self.memory_mb * 2**20, "RLIMIT_NPROC": nproc,
                "RLIMIT_CPU": self.notebook_timeout, "RLIMIT_FSIZE": self.file_size_mb * 2**20,
                "RLIMIT_CORE": 0}


def _count_own_processes() -> int:
    uid, n = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        try:
            n += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            pass
    return n


class PidsCgroup:
    """A cgroup of the ``pids`` controller that caps the number of processes and threads of one
    sandbox (``pids.max``). RLIMIT_NPROC does not bind processes of the real root user, so when
    the grader runs as root this is what stops a fork bomb; it needs write access to the cgroup
    tree (cgroup v1 ``/sys/fs/cgroup/pids`` or a v2 tree with the pids controller enabled)."""

    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def root() -> Path | None:
        candidates = [Path("/sys/fs/cgroup/pids")]
        unified = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified").is_dir() else Path("/sys/fs/cgroup")
        try:
            if "pids" in (unified / "cgroup.subtree_control").read_text().split():
                candidates.append(unified)
        except OSError:
            pass
        for path in candidates:
            if (path / "cgroup.procs").is_file() and os.access(path, os.W_OK):
                return path
        return None

    @classmethod
    def create(cls, limit: int) -> "PidsCgroup | None":
        root = cls.root()
        if root is None:
            return None
        path = root / f"course-grader-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            return None
        return cls(path)

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def remove(self) -> None:
        for _ in range(50):
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


@functools.lru_cache(maxsize=1)
def mechanisms() -> dict:
    """Which OS mechanisms work here: ``{"rlimits", "namespaces", "no_network", "hide", "detail"}``.

    Probes by running ``jail probe`` under ``unshare``; takes a fraction of a second, once.
    """
    found = {"rlimits": True, "namespaces": False, "no_network": False, "hide": False, "detail": "",
             "pids_cgroup": PidsCgroup.root() is not None, "root": os.geteuid() == 0}
    if not shutil.which("unshare"):
        found["detail"] = "unshare (util-linux) not found"
        return found
    with tempfile.TemporaryDirectory() as probe_dir:
        Path(probe_dir, "visible").write_text("x")
        try:
            out = subprocess.run(UNSHARE + [sys.executable, JAIL, "probe"],
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "COURSE_PROBE_DIR": probe_dir})
        except (OSError, subprocess.TimeoutExpired) as err:
            found["detail"] = f"unshare failed: {err}"
            return found
    if out.returncode != 0:
        found["detail"] = f"unshare failed: {out.stderr.strip()[-300:]}"
        return found
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    found["namespaces"] = probe.get("loopback") is True
    found["no_network"] = found["namespaces"] and "Network is unreachable" in str(probe.get("network", ""))
    found["hide"] = probe.get("hide") is True
    found["detail"] = json.dumps(probe)
    return found


# --- results --------------------------------------------------------------------------------------

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
    (r"gradebook|nbgrader|\.\./\.\./|/source/", "names grader files or folders"),
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


def _first_error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}".strip()
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "wrote to stderr: " + output.get("text", "")[:300]
    return ""


def _note_cell(messages: list[str]):
    text = "**Note from the grader.** " + " ".join(f"{m}." if not m.endswith(".") else m for m in messages)
    return nbformat.v4.new_markdown_cell(text)


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy regular files and folders only (a symlink in a submission could point anywhere)."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir():
            _copy_tree(entry, dest / entry.name)
        elif entry.is_file():
            shutil.copyfile(entry, dest / entry.name)


# --- the sandbox ----------------------------------------------------------------------------------

class Sandbox:
    """Grades submissions of a course one at a time, each in a throwaway sandbox.

    Args:
        course_root: the nbgrader course (its ``nbgrader_config.py``, ``source/``,
            ``submitted/``, ``gradebook.db``).
        limits: what each submission may use.
        namespaces: use ``unshare`` (None: where :func:`mechanisms` finds that it works).
        keep: keep the temporary folders (for debugging the grader).
    """

    def __init__(self, course_root: Path, limits: Limits | None = None, namespaces: bool | None = None,
                 keep: bool = False):
        self.root = Path(course_root).resolve()
        self.limits = limits or Limits()
        self.namespaces = mechanisms()["namespaces"] if namespaces is None else namespaces
        self.keep = keep
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

    def _hidden_paths(self) -> list[str]:
        """Folders the kernel must not see (the course, the grader's templates and work folders,
        the checkout's assignments/); never one that holds Python or course_lib."""
        import course_lib

        keep = [Path(sys.prefix).resolve(), Path(sys.executable).resolve(), Path(course_lib.__file__).resolve()]
        candidates = [self.root, self.base] + ([nc.COURSE] if nc.COURSE.is_dir() else [])
        hidden = []
        for path in candidates:
            path = Path(path).resolve()
            if not any(k == path or k.is_relative_to(path) for k in keep):
                hidden.append(str(path))
        return hidden

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
        view = Path(tempfile.mkdtemp(prefix="course-sandbox-")).resolve()  # empty: the kernel's view of work/course
        try:
            self._grade_in(work, view, tpl, assignment, student, submitted, result)
        finally:
            if not self.keep:
                shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(view, ignore_errors=True)
        result.seconds = time.perf_counter() - start
        return result

    def _grade_in(self, work, view, tpl, assignment, student, submitted, result) -> None:
        # work/course: the throwaway course; the kernel sees it at `view` only (the rest of work
        # and the grader's base folder are hidden from it). work/private: gradebook, spec, report.
        course, private = work / "course", work / "private"
        shutil.copytree(tpl / "course", course)
        private.mkdir()
        shutil.copyfile(tpl / "private" / "gradebook.db", private / "gradebook.db")
        dest = course / "submitted" / student / assignment
        _copy_tree(submitted, dest)
        box = course / ".sandbox"  # the kernel's HOME, TMPDIR, runtime and kernelspec folders
        for name in ("home", "tmp", "runtime", "ipython", "config"):
            (box / name).mkdir(parents=True)
        flags = []
        for path in sorted(dest.glob("*.ipynb")):
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception as err:  # noqa: BLE001 - not a notebook: nbgrader will say so too
                result.messages.append(f"{path.name} is not a readable notebook ({type(err).__name__})")
                continue
            restored = restore_deleted_cells(nb, self._reference_notebook(assignment, path.name))
            if restored:
                nbformat.write(nb, path)
                result.messages.append(f"deleted cells put back and graded: {', '.join(restored)}")
            flags += suspicious_code(nb)
        if flags:
            result.messages.append("for review: the code " + ", ".join(sorted(set(flags))))

        marker = uuid.uuid4().hex
        spec = {"course": str(course), "assignment": assignment, "student": student,
                "db_url": f"sqlite:///{private / 'gradebook.db'}", "report": str(private / "report.json"),
                "cell_timeout": self.limits.cell_timeout, "max_output_bytes": self.limits.max_output_bytes,
                "network_namespace": self.namespaces and not self.limits.network,
                "hide": self._hidden_paths() if self.namespaces else [], "bind": [str(course), str(view)],
                "rlimits": self.limits.rlimits(self.namespaces)}
        spec_path = private / "spec.json"
        spec_path.write_text(json.dumps(spec))
        kernels = box / "jupyter" / "kernels" / "python3"
        kernels.mkdir(parents=True)
        (kernels / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, JAIL, "kernel", str(spec_path), "--",
                     sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (sandboxed grader)", "language": "python"}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
        env.update({"HOME": str(box / "home"), "TMPDIR": str(box / "tmp"), "JUPYTER_PATH": str(box / "jupyter"),
                    "JUPYTER_DATA_DIR": str(box / "jupyter"), "JUPYTER_RUNTIME_DIR": str(box / "runtime"),
                    "JUPYTER_CONFIG_DIR": str(box / "config"), "IPYTHONDIR": str(box / "ipython"),
                    "MPLCONFIGDIR": str(box / "tmp"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "PYTHONDONTWRITEBYTECODE": "1", MARKER: marker,
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")})
        cmd = [sys.executable, JAIL, "grade", str(spec_path)]
        if self.namespaces:
            cmd = (UNSHARE if not self.limits.network else [a for a in UNSHARE if a != "--net"]) + cmd

        before = fingerprint(self.root)
        # processes: RLIMIT_NPROC in the user namespace; as root it does not bind, so a pids cgroup
        cgroup = PidsCgroup.create(self.limits.max_processes + 32) if os.geteuid() == 0 else None
        if os.geteuid() == 0 and cgroup is None and not getattr(Sandbox, "_warned", False):
            Sandbox._warned = True
            warnings.warn("grading as root without a writable pids cgroup: a fork bomb is not contained")
        with open(work / "grader.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, preexec_fn=functools.partial(_new_session, cgroup))
            try:
                proc.wait(timeout=self.limits.notebook_timeout)
            except subprocess.TimeoutExpired:
                result.messages.append(f"grading stopped after {self.limits.notebook_timeout} s (the limit for "
                                       "one notebook); cells not graded by then score 0")
            finally:
                _kill_sandbox(proc, marker)
                if cgroup is not None:
                    cgroup.remove()
        if fingerprint(self.root) != before:
            result.messages.append("WARNING: files of the course folder changed while this submission was graded")

        report = {}
        if (private / "report.json").is_file():
            report = json.loads((private / "report.json").read_text())
        for key, why in report.get("stopped_cells", {}).items():
            result.messages.append(f"{key}: {why}")
        if report and not report.get("success"):
            result.messages.append("nbgrader could not grade this notebook: "
                                   + (report.get("error") or "see the grader log").strip().splitlines()[-1][:300])
        elif not report:
            result.messages.append("the grader stopped before it finished: "
                                   + (work / "grader.log").read_text(errors="replace")[-300:].strip())
        with self._lock, warnings.catch_warnings():
            # nbgrader 0.9.6 + SQLAlchemy 2: "Object of type <SubmittedAssignment> not in session" on
            # update_or_create_submission; the rows are stored all the same
            warnings.filterwarnings("ignore", message="Object of type <Submitted")
            self._merge(course, private, assignment, student, submitted, result)

    # -- back into the course
    def _merge(self, course, private, assignment, student, submitted, result) -> None:
        from nbgrader.api import Gradebook, MissingEntry

        scores: dict[str, dict[str, tuple[float | None, bool]]] = {}
        try:
            with Gradebook(f"sqlite:///{private / 'gradebook.db'}") as gb:
                submission = gb.find_submission(assignment, student)
                for notebook in submission.notebooks:
                    scores[notebook.name] = {g.name: (g.auto_score, g.needs_manual_grade) for g in notebook.grades}
        except MissingEntry:
            pass
        graded_dir = course / "autograded" / student / assignment
        out_dir = self.root / "autograded" / student / assignment
        if out_dir.exists():
            _make_writable(out_dir)
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        if graded_dir.is_dir():
            _copy_tree(graded_dir, out_dir)
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
                    nb = nbformat.read(source, as_version=4) if source.is_file() else nbformat.v4.new_notebook()
                    for cell in nb.cells:
                        if cell.cell_type == "code":
                            cell.outputs, cell.execution_count = [], None
                cells = {nc.nbgrader(c).get("grade_id"): c for c in nb.cells}
                for grade in notebook.grades:
                    message = _first_error(cells[grade.name]) if grade.name in cells else "cell missing"
                    result.cells[grade.name] = CellGrade(grade.name, float(grade.score), float(grade.max_score),
                                                         message if grade.score < grade.max_score else "")
                if result.messages:
                    nb.cells.insert(0, _note_cell(result.messages))
                nbformat.write(nb, path)


def _new_session(cgroup: PidsCgroup | None = None) -> None:
    os.setsid()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cgroup is not None:
        cgroup.add(os.getpid())


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


def course_hash(paths: list[Path]) -> str:
    """sha256 over the files under ``paths`` (for the tests: proof that nothing changed)."""
    digest = hashlib.sha256()
    for root in paths:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and not path.is_symlink():
                digest.update(str(path).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()
