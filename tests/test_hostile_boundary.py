"""Issue 16: the grader holds against a hostile student, one test per class of hole.

One module-scoped run of the documented flow (``python -m course_admin --course <copy> grade
a01_receptive_fields <folder> --out ... --report ... --jobs 2``, in this process as
tests/test_instructor.py does) over the submissions of tests/hostile_boundary.py: two honest ones
(graded first and last), three honest WRONG answers (the baselines) and the hostile ones, each a
wrong answer plus its attack. While it runs, the grader's environment holds an instructor secret
(``COURSE_INSTRUCTOR_TOKEN``) and the test listens on a unix socket in a host folder, an abstract
unix socket and a localhost TCP port.

Then, per class: each hostile submission scores exactly what its wrong answer scores without the
attack; no hidden-test line and no secret appears, plain or encoded (base64, zlib+base64, hex,
reversed: decoded here), in the feedback, the autograded notebooks' outputs, the CSVs or the
grader's printed output, and ``check-leaks`` agrees; the course's files, the checkout's
course_lib and the virtual environment are unchanged; both honest students get 10/10 and every
student has a row in grades.csv; nothing is left in /tmp, site-packages or the checkout, and no
process of the run survives it.

One run grades 51 submissions (46 hostile) in 9-10 minutes on 2 shared cores. For debugging,
``HOSTILE_BOUNDARY_SKIP=e_huge,a_*`` leaves students out and ``HOSTILE_BOUNDARY_GRADE_ARGS`` adds
options to the grade command (``--unsafe-no-sandbox`` shows the D and F tests failing); either makes
the first test fail, as the run is then not the whole class.

The attacks write into shared places (the checkout, the virtual environment, /tmp) when a grader
lets them; what they write acts only in this run's processes, and the fixture removes it again
after the run (and records that it was there, for the tests).
"""
from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import html
import io
import os
import re
import secrets
import shutil
import signal
import sys
import site
import socket
import threading
import time
import zlib
from contextlib import redirect_stdout
from html.parser import HTMLParser
from pathlib import Path

import pytest

import hostile_boundary as hb
from course_admin import course as nc
from course_admin import leaks, redact

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")]
A = hb.A
CHECKOUT = nc.REPO
CELL_TIMEOUT = 60  # seconds per cell: two jobs on a loaded machine, and 2 GB written by f_disk
MARK = "hostile"  # every file and process an attack creates has "hostile" and the run id in its name or text


def run_cli(*args) -> tuple[int | str, str]:
    """``python -m course_admin ARGS`` in this process: its exit code (or the exception that stopped
    it, as text) and what it printed until then."""
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            from course_admin.__main__ import main

            code = main([*map(str, args)])
    except BaseException as err:  # noqa: BLE001 - argparse's SystemExit, or the grader gave up: the tests say so
        code = f"{type(err).__name__}: {str(err)[:3000]}"
    return code, out.getvalue()


# --- what is there before and after -----------------------------------------------------------------

def _tree(folder: Path, depth: int = 99, skip=(".git",)) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of the files under ``folder`` (``depth`` levels)."""
    out = {}
    folder = Path(folder)
    if not folder.is_dir():
        return out
    base_depth = len(folder.parts)
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip and len(Path(top, d).parts) - base_depth < depth]
        for name in files + [d for d in dirs]:
            path = Path(top, name)
            try:
                st = path.lstat()
            except OSError:
                continue
            out[str(path)] = (st.st_size, st.st_mtime_ns)
    return out


def _digest(paths) -> dict[str, str]:
    out = {}
    for path in paths:
        path = Path(path)
        out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"
    return out


def _course_lib_files() -> list[Path]:
    return sorted(p for p in (CHECKOUT / "course_lib").rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _site_packages() -> list[Path]:
    return [Path(p) for p in dict.fromkeys(site.getsitepackages() + [site.getusersitepackages()])]


def _processes_with(*needles: str) -> dict[int, str]:
    """``{pid: cmdline}`` of the processes whose command line or environment holds one of ``needles``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            environ = (entry / "environ").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if any(n in cmdline or n in environ for n in needles):
            found[int(entry.name)] = cmdline
    return found


SANDBOX_MARKER = "COURSE_GRADER_SANDBOX="  # in the environment of every process of a sandbox (course_admin.sandbox)


def _orphaned_sandbox_processes(since: float) -> dict[int, str]:
    """``{pid: cmdline}`` of processes with the sandbox marker that were started after ``since``
    (epoch seconds) and whose parent is init: what a grading left running. (Other people's gradings
    on this machine still have their grader as a parent, so they do not count.)"""
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime"))
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            ppid, started = int(fields[1]), boot + int(fields[19]) / ticks
            if ppid == 1 and started >= since and SANDBOX_MARKER.encode() in (entry / "environ").read_bytes():
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                found[int(entry.name)] = cmdline.decode("utf-8", "replace")
        except (OSError, ValueError, IndexError):
            continue
    return found


class _Listener:
    """A listening socket in a thread; every connection it accepts is recorded."""

    def __init__(self, family, address):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()
        self.accepted: list[bytes] = []
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(1)
            try:
                self.accepted.append(conn.recv(200) or b"(nothing)")
            except OSError:
                self.accepted.append(b"(connected)")
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


# --- the run ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    nc.use_this_python()
    base = tmp_path_factory.mktemp("hostile_boundary")
    run_id = secrets.token_hex(4)
    token = "instructor-" + secrets.token_hex(16)
    root = nc.copy_course(base / "assignments")
    code, out = run_cli("--course", root, "release", A)
    assert code == 0, out
    release_nb = nc.read_notebook(root / "release" / A / f"{A}.ipynb")
    sockdir = base / "sockets"
    sockdir.mkdir()
    listeners = {"unix path": _Listener(socket.AF_UNIX, str(sockdir / "grader.sock")),
                 "abstract unix": _Listener(socket.AF_UNIX, f"\0{MARK}-{run_id}"),
                 "tcp localhost": _Listener(socket.AF_INET, ("127.0.0.1", 0))}
    notebooks, baseline = hb.build(release_nb, nc.read_notebook(nc.source_path(A, root)), course_root=str(root),
                                   checkout=str(CHECKOUT), base=str(base), run=run_id,
                                   socket_path=str(sockdir / "grader.sock"),
                                   tcp_port=listeners["tcp localhost"].address[1])
    assert [s for s in notebooks if s not in (*hb.HONEST, *hb.BASELINES)] == NAMES
    for student in SKIPPED:
        notebooks.pop(student)
    incoming = base / "incoming"
    incoming.mkdir()
    for student, nb in notebooks.items():
        hb.write_submission(incoming, student, nb)

    guarded = [root / "nbgrader_config.py", *sorted((root / "source").rglob("*")), *_course_lib_files(),
               *sorted((CHECKOUT / "assignments").rglob("*.py")), *sorted((CHECKOUT / "assignments").rglob("*.ipynb"))]
    before = {"hashes": _digest(guarded), "tmp": _tree(Path("/tmp"), depth=1),
              "site": {str(sp): _tree(sp, depth=1) for sp in _site_packages()},
              "course_lib": _tree(CHECKOUT / "course_lib"), "free": shutil.disk_usage("/tmp").free}
    os.environ[hb.TOKEN_ENV] = token
    os.environ[hb.RUN_ENV] = run_id
    args = ["--course", root, "grade", A, incoming, "--out", base / "grades.csv", "--report", base / "report.csv",
            "--cell-timeout", CELL_TIMEOUT, "--jobs", 2, *EXTRA_ARGS]
    start = time.time()
    try:
        code, out = run_cli(*args)
    finally:
        os.environ.pop(hb.TOKEN_ENV, None)
        os.environ.pop(hb.RUN_ENV, None)
        seconds = time.time() - start
        for listener in listeners.values():
            listener.close()
        # what the attacks left in shared places is recorded and removed, whatever happened
        after = {"hashes": _digest(guarded), "tmp": _tree(Path("/tmp"), depth=1),
                 "site": {str(sp): _tree(sp, depth=1) for sp in _site_packages()},
                 "course_lib": _tree(CHECKOUT / "course_lib"), "free": shutil.disk_usage("/tmp").free,
                 "processes": _processes_with(f"{MARK}-daemon-{run_id}", f"{hb.RUN_ENV}={run_id}", str(base)),
                 "orphans": _orphaned_sandbox_processes(start - 1),
                 "left": _left_behind(run_id, base)}
        marked = [str(p) for p in guarded if p.is_file() and run_id.encode() in p.read_bytes()]
        cleaned = _clean_up(run_id, base, after)
    print(out)
    print("cleaned up after the run:", cleaned)
    gradebook = _gradebook_scores(root)
    print("scores in the gradebook:", gradebook)
    grades_path, report_path = base / "grades.csv", base / "report.csv"
    return {"root": root, "base": base, "run": run_id, "token": token, "code": code, "out": out,
            "seconds": seconds, "notebooks": notebooks, "baseline": baseline, "before": before, "after": after,
            "cleaned": cleaned, "marked": marked, "gradebook": gradebook,
            "listeners": {k: v.accepted for k, v in listeners.items()},
            "grades": {r["student_id"]: r for r in csv.DictReader(open(grades_path))} if grades_path.is_file() else {},
            "report": list(csv.DictReader(open(report_path))) if report_path.is_file() else [],
            "grades_text": grades_path.read_text() if grades_path.is_file() else "",
            "report_text": report_path.read_text() if report_path.is_file() else ""}


def _gradebook_scores(root: Path) -> dict[str, float]:
    """``{student: score}`` in the course's gradebook (printed: it tells what autograde did even
    when ``grade`` stopped before writing grades.csv)."""
    from nbgrader.api import Gradebook

    try:
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            return {s.student.id: s.score for s in gb.assignment_submissions(A)}
    except Exception as err:  # noqa: BLE001 - information only
        return {"error": repr(err)}


def _left_behind(run_id: str, base: Path) -> list[str]:
    """Files that carry the run id in their name: in /tmp (3 levels), site-packages, the checkout's
    course_lib, the home folder and the test's folder, and the marker the course's config writes."""
    found = []
    places = [(Path("/tmp"), 3), (Path.home(), 1), (CHECKOUT / "course_lib", 9), (CHECKOUT, 1), (base, 9)]
    places += [(sp, 1) for sp in _site_packages()]
    for folder, depth in places:
        for path in _tree(folder, depth, skip=(".git", "proc")):
            if run_id in Path(path).name and MARK in Path(path).name:
                found.append(path)
    return sorted(set(found))


def _clean_up(run_id: str, base: Path, after: dict) -> list[str]:
    """Remove what the attacks left in shared places (their files; their payload in course_lib's
    sources; their processes) and say what was removed."""
    done = []
    for path in after["left"]:
        p = Path(path)
        if p.is_file() and not str(p).startswith(str(base)):
            p.unlink()
            done.append(f"removed {p}")
    payload = hb._sub(hb.COURSE_LIB_PAYLOAD, RUN=run_id, RUN_ENV=hb.RUN_ENV)
    config = hb.config_line(str(base), run_id)
    for path in [*_course_lib_files(), *sorted((CHECKOUT / "assignments").rglob("nbgrader_config.py"))]:
        text = path.read_text(errors="replace")
        for piece in (payload, config):
            if piece in text:
                text = text.replace(piece, "")
                path.write_text(text)
                done.append(f"removed the payload from {path}")
    for pid in after["processes"]:
        try:
            os.kill(pid, signal.SIGKILL)
            done.append(f"killed {pid}")
        except ProcessLookupError:
            pass
    return done


# --- helpers of the tests -----------------------------------------------------------------------------

def score(run, student) -> float | None:
    """The student's score in grades.csv; when ``grade`` stopped before writing it, the score
    autograde left in the gradebook (the first test fails then; this keeps the tests of each
    class telling what each attack got)."""
    row = run["grades"].get(student)
    if row is not None:
        return float(row["score"])
    return run["gradebook"].get(student) if not run["grades"] else None


def messages(run, student) -> str:
    return " | ".join(r["message"] for r in run["report"] if r["student"] == student)


def baseline_score(run, student) -> float:
    base = run["baseline"][student]
    return 0.0 if base == "zero" else score(run, base)


def hostile(prefix: str) -> list[str]:
    """The hostile students of one class (their names: to parametrise the tests)."""
    return [name for name in NAMES if name.startswith(prefix + "_")]


NAMES = hb.hostile_names()
_SKIP = [s for s in os.environ.get("HOSTILE_BOUNDARY_SKIP", "").split(",") if s]
SKIPPED = [n for n in NAMES if any(n == s or s.endswith("*") and n.startswith(s[:-1]) for s in _SKIP)]
"""Students left out of the run, for debugging the others (``HOSTILE_BOUNDARY_SKIP=e_huge,a_*``):
their tests are skipped, and the tests of the whole class say that the run was partial."""
EXTRA_ARGS = os.environ.get("HOSTILE_BOUNDARY_GRADE_ARGS", "").split()
"""Options added to the grade command, to show that the tests fail against a weaker grader
(``HOSTILE_BOUNDARY_GRADE_ARGS=--unsafe-no-sandbox``): the first test then fails."""


def hidden_test_lines(root: Path) -> set[str]:
    """Lines of the hidden tests that a student cannot know: in a hidden region, not in the release."""
    source = nc.read_notebook(nc.source_path(A, root))
    release = "\n".join(c.source for c in nc.read_notebook(root / "release" / A / f"{A}.ipynb").cells)
    lines = redact.hidden_lines([c.source for c in source.cells if nc.is_test_cell(c)])
    return {line for line in lines if len(line) >= 16 and line not in release}


B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
HEX = re.compile(r"[0-9a-fA-F]{32,}")


def decoded_copies(text: str) -> list[tuple[str, str]]:
    """``(how, text)``: ``text`` itself and every base64, zlib+base64 and hex run in it, decoded."""
    out = [("plain", text)]
    for match in B64.finditer(text):
        for start in range(4):  # the run may begin with characters that are not part of the encoding
            token = match.group()[start:].rstrip("=")
            token = token[: len(token) - 1] if len(token) % 4 == 1 else token  # a cut run: drop the odd character
            try:
                data = base64.b64decode(token + "=" * (-len(token) % 4))
            except (binascii.Error, ValueError):
                continue
            out.append(("base64", data.decode("utf-8", "replace")))
            try:
                out.append(("zlib+base64", zlib.decompressobj().decompress(data).decode("utf-8", "replace")))
            except zlib.error:
                pass
    for match in HEX.finditer(text):
        for start in range(2):
            token = match.group()[start:]
            try:
                out.append(("hex", bytes.fromhex(token[: len(token) - len(token) % 2]).decode("utf-8", "replace")))
            except ValueError:
                pass
    return out


def find_secrets(text: str, needles: set[str]) -> list[str]:
    """Which ``needles`` are in ``text``: plain, reversed, or in an encoded run (see :func:`decoded_copies`)."""
    found = []
    for how, copy in decoded_copies(text):
        found += [f"{how}: {n[:60]}" for n in needles if n in copy]
        if how == "plain":
            found += [f"reversed: {n[:60]}" for n in needles if n[::-1] in copy]
    return sorted(set(found))


def output_text(nb) -> str:
    """Everything the cells of ``nb`` output (streams, data, errors), escape sequences removed."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts += [str(v) for v in output.get("data", {}).values()]
            parts.append(str(output.get("evalue", "")))
            parts += [str(t) for t in output.get("traceback", [])]
    return redact.ANSI.sub("", "\n".join(parts))


def everything_the_grader_wrote(run) -> dict[str, str]:
    """``{where: text}``: the feedback pages (raw and as text), the autograded notebooks' outputs,
    both CSVs and the grader's printed output."""
    root = run["root"]
    texts = {"printed output": run["out"], "grades.csv": run["grades_text"], "report.csv": run["report_text"]}
    for page in sorted((root / "feedback").glob(f"*/{A}/*.html")):
        raw = page.read_text(errors="replace")
        texts[str(page.relative_to(root))] = raw + "\n" + leaks.html_text(raw) + "\n" + html.unescape(raw)
    for path in sorted((root / "autograded").glob(f"*/{A}/*.ipynb")):
        texts[str(path.relative_to(root))] = output_text(nc.read_notebook(path))
    return texts


# --- the tests ---------------------------------------------------------------------------------------

def test_the_class_is_graded_and_honest_students_get_full_marks(run):
    """``grade`` finishes, writes a row for every student and a feedback page for every readable
    submission, and both honest students (first and last) get 10/10."""
    assert not SKIPPED and not EXTRA_ARGS, f"a partial run: {SKIPPED} left out, options {EXTRA_ARGS} added"
    valid = [s for s in run["notebooks"] if run["baseline"].get(s) != "zero"]  # the readable notebooks
    assert run["code"] == 0, f"grade exited with {run['code']}:\n{run['out'][-5000:]}"
    missing = [s for s in run["notebooks"] if s not in run["grades"]]
    assert not missing, f"no row in grades.csv for {missing}"
    pages = {p.parent.parent.name for p in (run["root"] / "feedback").glob(f"*/{A}/{A}.html")}
    assert not set(valid) - pages, f"no feedback page for {sorted(set(valid) - pages)}"
    for student in hb.HONEST:
        assert score(run, student) == 10, f"{student}: {score(run, student)} ({messages(run, student)})"
    assert (score(run, "wrong_rf"), score(run, "wrong_conv"), score(run, "wrong_both")) == (4, 6, 0), \
        "the baselines: receptive_field_of_stack is worth 6 points, conv_output_size 4"


def test_time_to_grade_one_honest_submission(run):
    """Prints the seconds the grader reported for each honest submission (two jobs at a time, so
    under the load of the hostile ones) and the whole run."""
    rows = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\S+) \| [\d.]+/[\d.]+ \| ([\d.]+) \|",
                                                                  run["out"], re.M)}
    honest = {s: rows.get(s) for s in hb.HONEST}
    print(f"\ngrading time: honest submissions {honest} s (--jobs 2, among {len(run['notebooks'])} submissions); "
          f"whole grade command {run['seconds']:.0f} s")
    assert all(v is not None for v in honest.values()), "the printed table has no seconds for the honest students"


def _same_as_baseline(run, student):
    if student in SKIPPED:
        pytest.skip(f"{student} left out (HOSTILE_BOUNDARY_SKIP)")
    got, expected = score(run, student), baseline_score(run, student)
    assert got is not None, f"{student}: no score in grades.csv (nor in the gradebook)"
    assert got == expected, (f"{student} scored {got}, its wrong answer without the attack "
                             f"({run['baseline'][student]}) scored {expected}: {messages(run, student)[:1500]}")


@pytest.mark.parametrize("student", hostile("a"))
def test_a_checks_out_of_the_students_reach(run, student):
    """Rebound helpers, patched builtins, import hooks, threads, lying return values, IPython
    transformers, settrace and os._exit earn nothing."""
    _same_as_baseline(run, student)


@pytest.mark.parametrize("student", hostile("b"))
def test_b_partial_credit_cannot_be_forged(run, student):
    """An execute_result before an error, a graded cell the student adds, a test cell re-pointed:
    no points, and the 100-point cell does not raise the maximum."""
    _same_as_baseline(run, student)
    assert student in run["grades"], f"{student}: no row in grades.csv"
    assert float(run["grades"][student]["max_score"]) == 10


@pytest.mark.parametrize("student", hostile("c"))
def test_c_readers_score_their_wrong_answer(run, student):
    _same_as_baseline(run, student)


def test_c_no_hidden_test_or_secret_leaks_plain_or_encoded(run):
    """No hidden-test line and no instructor secret in anything the grader wrote, in any of the
    encodings the submissions use; and ``check-leaks`` agrees."""
    needles = hidden_test_lines(run["root"]) | {run["token"]}
    assert len(needles) > 20
    found = {where: hits for where, text in everything_the_grader_wrote(run).items()
             if (hits := find_secrets(text, needles))}
    code, out = run_cli("--course", run["root"], "check-leaks", A)
    assert not found, (f"leaks (check-leaks said: {out.strip()[:300]}):\n"
                       + "\n".join(f"{where}: {hits[:5]}" for where, hits in found.items()))
    assert code == 0 and "no leaks" in out, out


def test_leak_scan_finds_encoded_copies(run):
    """The scan above can fail: a hidden line and the token, each hidden in one encoding, are found."""
    line = sorted(hidden_test_lines(run["root"]))[0]
    data = line.encode()
    for text in [line, line[::-1], base64.b64encode(data).decode(), base64.b64encode(zlib.compress(data)).decode(),
                 data.hex(), f"<pre>LOOT x: {base64.b64encode(('junk ' + line).encode()).decode()}</pre>",
                 "ab" + base64.b64encode(data).decode(), "x" + data.hex()]:
        assert find_secrets(f"before {text} after", {line}), text
    assert not find_secrets("an honest page", {line})


def test_d_no_write_reaches_the_course_the_checkout_or_the_environment(run):
    """The course's config, source and gradebook, the checkout's course_lib and assignments, and
    site-packages are unchanged; the next honest student still gets full marks."""
    before, after = run["before"], run["after"]
    changed = [p for p in before["hashes"] if before["hashes"][p] != after["hashes"].get(p)]
    ours = [p for p in changed if str(p).startswith(str(run["root"])) or p in run["marked"]]
    print("changed during the run by someone else on this machine (not counted):", sorted(set(changed) - set(ours)))
    assert not ours, f"changed by a submission: {ours}; cleaned up afterwards: {run['cleaned']}"
    for sp in before["site"]:
        new = set(after["site"][sp]) - set(before["site"][sp])
        assert not [p for p in new if MARK in Path(p).name], f"new files of the attacks in {sp}: {new}"
    new_lib = set(after["course_lib"]) - set(before["course_lib"])
    assert not [p for p in new_lib if MARK in Path(p).name], f"new files in course_lib: {new_lib}"
    assert not (run["base"] / f"config_ran_{run['run']}").exists(), "the course's nbgrader_config.py ran student code"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{run['root'] / 'gradebook.db'}") as gb:
        for student in run["grades"]:
            try:
                submission = gb.find_submission(A, student)
            except Exception:  # noqa: BLE001 - a student without a submission (an unreadable notebook)
                continue
            assert all(g.manual_score is None for nb in submission.notebooks for g in nb.grades), student
    assert score(run, hb.HONEST[1]) == 10, "the honest student graded after the writers lost points"


@pytest.mark.parametrize("student", hostile("d"))
def test_d_writers_score_their_wrong_answer(run, student):
    _same_as_baseline(run, student)


@pytest.mark.parametrize("student", hostile("e"))
def test_e_one_notebook_does_not_stop_the_class(run, student):
    """An unreadable or oversized notebook scores 0 with a message; the rest of the class is
    graded (see the first test)."""
    if student in SKIPPED:
        pytest.skip(f"{student} left out (HOSTILE_BOUNDARY_SKIP)")
    assert student in run["grades"], f"{student}: no row in grades.csv"
    assert score(run, hb.HONEST[1]) == 10
    if run["baseline"][student] != "zero":  # a readable notebook that attacks the grader's pipe
        _same_as_baseline(run, student)
        return
    assert score(run, student) == 0
    said = run["out"] + messages(run, student)
    assert re.search(rf"{re.escape(student)}\W.*(not a readable notebook|larger than|not a notebook|malformed|"
                     r"invalid|skipped|0/10)", said), f"no message about {student} in:\n{run['out'][-3000:]}"


class _Scripts(HTMLParser):
    """The script elements, event-handler attributes and javascript: URLs of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.handlers, self.urls, self.frames = [], [], [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            self.scripts.append(dict(attrs).get("src") or "")
        if tag in ("iframe", "frame", "object", "embed"):
            self.frames.append(str(attrs))
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.lower().startswith("on"):
                self.handlers.append(f"{tag} {name}={value[:80]}")
            if name.lower() in ("href", "src", "action", "formaction", "content", "srcdoc") and (
                    "javascript:" in value.replace(" ", "") or "<script" in value):
                self.urls.append(f"{tag} {name}={value[:80]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _scripts(page: Path) -> _Scripts:
    parser = _Scripts()
    parser.feed(page.read_text(errors="replace"))
    return parser


def test_f_feedback_has_no_student_script(run):
    """The HTML a submission displays or writes in markdown reaches the feedback page without script,
    event handlers, javascript: URLs or frames (the page's own scripts are those of an honest page)."""
    root = run["root"]
    honest = _scripts(root / "feedback" / hb.HONEST[0] / A / f"{A}.html")
    page = root / "feedback" / "f_html" / A / f"{A}.html"
    assert page.is_file(), "no feedback page for f_html"
    found = _scripts(page)
    assert not [s for s in found.scripts if MARK in s], "a student's <script> is in the feedback page"
    assert len(found.scripts) == len(honest.scripts), (found.scripts, honest.scripts)
    assert not [h for h in found.handlers if MARK in h], found.handlers
    assert not found.urls and not found.frames, (found.urls, found.frames)
    _same_as_baseline(run, "f_html")


BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_f_no_terminal_escapes_reach_the_instructors_terminal(run):
    """The grader's printed output (and the CSVs) hold no escape sequence, control or bidi character."""
    for where in ("out", "grades_text", "report_text"):
        bad = sorted({repr(c) for c in BAD_CHARS.findall(run[where].replace("\r\n", "\n"))})
        assert not bad, f"{where}: {bad}"
    _same_as_baseline(run, "f_escapes")


def test_f_disk_filling_is_contained(run):
    """2 GB written to /tmp, the working folder and the home folder: no file left, the host disk
    not filled, the honest score."""
    big = [p for p, (size, _) in run["after"]["tmp"].items() if p not in run["before"]["tmp"] and size > 2**30]
    assert not big, big
    assert not [p for p in run["after"]["left"] if "fill" in p], run["after"]["left"]
    lost = run["before"]["free"] - run["after"]["free"]
    assert lost < 2**30, f"the host's /tmp lost {lost / 2**30:.1f} GB during the run"
    _same_as_baseline(run, "f_disk")


def test_f_host_sockets_are_out_of_reach(run):
    """The unix socket in a host folder, the abstract one and the localhost TCP port got no connection."""
    assert not any(run["listeners"].values()), run["listeners"]
    _same_as_baseline(run, "f_socket")


def test_f_no_process_survives_the_grading(run):
    """The double-forked, setsid daemons, every process that has the run's id in its environment,
    and every orphaned process with the sandbox's marker started during the run, are gone."""
    assert not run["after"]["processes"], f"still running after the grade command: {run['after']['processes']}"
    assert not run["after"]["orphans"], f"orphaned sandbox processes (not killed here): {run['after']['orphans']}"
    _same_as_baseline(run, "f_daemon")


def test_nothing_left_behind(run):
    """No file of an attack in /tmp, the home folder, site-packages, the checkout or the test's
    folders; no new entry in the checkout's course_lib."""
    assert not run["after"]["left"], f"left behind (removed by the fixture afterwards): {run['after']['left']}"
    assert not [c for c in run["cleaned"] if "payload" in c], run["cleaned"]


def test_f_signals_reach_no_grader_process(run):
    """kill(-1), the parent and the process group, from inside the sandbox: the class is still
    graded (the first test) and the submission scores its wrong answer."""
    assert score(run, hb.HONEST[1]) == 10
    _same_as_baseline(run, "f_kill")


def test_time_to_grade_one_honest_submission_alone(tmp_path):
    """The documented flow on a class of one honest student (``--jobs 1``): prints the seconds the
    grader reports for the submission and the whole command (issue 16's goal: no more than twice
    the 13-15 s of the Jupyter-kernel grader; printed, not asserted: the machine is shared)."""
    nc.use_this_python()
    root = nc.copy_course(tmp_path / "assignments")
    code, out = run_cli("--course", root, "release", A)
    assert code == 0, out
    release_nb = nc.read_notebook(root / "release" / A / f"{A}.ipynb")
    source_nb = nc.read_notebook(nc.source_path(A, root))
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    hb.write_submission(incoming, "solo", hb.student_notebook(release_nb, source_nb))
    start = time.time()
    code, out = run_cli("--course", root, "grade", A, incoming, "--out", tmp_path / "grades.csv",
                        "--report", tmp_path / "report.csv", "--jobs", 1)
    seconds = time.time() - start
    match = re.search(r"^\| solo \| ([\d.]+)/[\d.]+ \| ([\d.]+) \|", out, re.M)
    assert code == 0 and match, out
    print(f"\none honest submission: {float(match.group(2)):.1f} s as the grader reports it; the grade command "
          f"(release, collect, autograde, feedback, export, leak check) {seconds:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f}")
    assert float(match.group(1)) == 10


def test_the_process_check_finds_a_surviving_daemon():
    """The check of test_f_no_process_survives_the_grading can fail: f_daemon's code run here, with
    no sandbox around it, leaves two processes that the check finds (and this test then ends)."""
    run_id = secrets.token_hex(4)
    daemon = hb._sub(hb.DAEMON_CODE, RUN=run_id)
    code = "DAEMON = " + repr(daemon) + "\n" + hb.F_DAEMON
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    deadline = time.time() + 10
    found = {}
    while time.time() < deadline and len(found) < 2:
        found = _processes_with(f"{MARK}-daemon-{run_id}")
        time.sleep(0.2)
    for pid in found:
        os.kill(pid, signal.SIGKILL)
    assert len(found) == 2, found
