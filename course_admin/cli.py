"""``python -m course_lib instructor <command>``: run a term of the course with nbgrader.

Commands (``--course DIR`` selects the nbgrader course; default: ``assignments/`` of this checkout):

    release [A ...]           generate the student versions (all assignments, or the ones named)
    collect A FOLDER          take submissions from FOLDER: <student>.ipynb or <student>.zip per student
    autograde A [S ...]       grade the submissions (or those named), each in a sandbox
    feedback A [S ...]        HTML feedback per student, hidden tests removed
    export [--out grades.csv] the gradebook as CSV (nbgrader's exporter) and a per-cell report
    grade A FOLDER            all of the above for one assignment, in one go
    check-leaks [A ...]       no solution or hidden-test line in release/ and feedback/
    mutants [A ...]           mutation score: every mutant must lose points
    sandbox-info              which OS mechanisms the sandbox can use here

See docs/instructors.md for a walk through a term.
"""
from __future__ import annotations

import argparse
import copy
import csv
import html
import re
import shutil
import sys
import time
import zipfile
from pathlib import Path

from . import course as nc

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


# --- release ----------------------------------------------------------------------------------

def release(root: Path, assignments: list[str] | None = None) -> list[Path]:
    """``generate_assignment`` for each assignment (default: all in ``source/``); return the release folders."""
    api = _api(root)
    names = assignments or nc.find_assignments(root)
    folders = []
    for name in names:
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_assignment {name} failed:\n{result.get('error')}\n{result.get('log')}")
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
        try:
            text = _read_submission(entry)
        except ValueError as err:
            done[student] = f"skipped: {err}"
            continue
        dest = root / "submitted" / student / assignment
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        (dest / f"{assignment}.ipynb").write_bytes(text)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.stat().st_mtime)) + " UTC"
        (dest / "timestamp.txt").write_text(stamp)
        done[student] = "ok"
    return done


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
              namespaces: bool | None = None, jobs: int = 1, log=print) -> list:
    """Grade each submission in a sandbox (``sandbox.Sandbox``), ``jobs`` at a time; return their
    ``GradeResult`` s in the order of ``students``."""
    from concurrent.futures import ThreadPoolExecutor

    from .sandbox import Sandbox

    ensure_released(root, assignment)
    students = students or students_of(root, assignment)
    with Sandbox(root, limits, namespaces=namespaces) as sandbox:
        sandbox.template(assignment)

        def one(student):
            result = sandbox.grade(assignment, student)
            log(f"{assignment} {student}: {result.score:g}/{result.max_score:g} in {result.seconds:.1f} s"
                + (f" ({result.summary})" if result.summary else ""))
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, students))


def feedback(root: Path, assignment: str, students: list[str] | None = None) -> list[Path]:
    """``generate_feedback`` (all graded students at once, or the ones named); hidden tests are
    removed from code and outputs (see ``redact``). Returns the HTML files."""
    api = _api(root)
    graded = [s for s in (students or students_of(root, assignment))
              if (Path(root) / "autograded" / s / assignment).is_dir()]
    for student in ([None] if not students else graded):
        result = api.generate_feedback(assignment, student, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_feedback {assignment} {student or ''} failed:\n{result.get('error')}")
    return [page for s in graded for page in sorted((Path(root) / "feedback" / s / assignment).glob("*.html"))]


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
                                 " | ".join(r.messages)])
                for c in r.cells.values():
                    writer.writerow([r.assignment, r.student, c.grade_id, f"{c.score:g}", f"{c.max_score:g}",
                                     c.message.replace("\n", " / ")[:500]])
    return Path(out)


# --- leaks ------------------------------------------------------------------------------------

def html_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def check_leaks(root: Path, assignment: str) -> list[str]:
    """Lines of solutions or hidden tests found in ``release/<a>/`` or ``feedback/*/<a>/``.

    Release notebooks: no line of a solution region or of a hidden test (as lines). Feedback
    pages: no hidden-test line anywhere in the page (as text, so a line quoted inside a
    traceback counts), unless the release notebook or the student's own submission has that
    text too; and the feedback of a student who handed in the release notebook untouched holds
    no solution line (same exception).
    """
    root = Path(root)
    source = nc.read_notebook(nc.source_path(assignment, root))
    secrets = nc.secret_lines(source)
    hidden = set()
    for cell in source.cells:
        if nc.is_test_cell(cell):
            hidden.update(line.strip() for line in nc.split_region(cell.source, nc.BEGIN_HIDDEN, nc.END_HIDDEN)[0])
    hidden = {line for line in hidden & secrets if len(line) >= 8}
    problems = []
    for path in sorted((root / "release" / assignment).glob("*.ipynb")):
        nb = nc.read_notebook(path)
        lines = {line.strip() for cell in nb.cells for line in cell.source.splitlines()}
        problems += [f"{path.relative_to(root)}: {line}" for line in sorted(secrets & lines)]
        for marker in (nc.BEGIN_SOLUTION, nc.BEGIN_HIDDEN):
            if any(marker in cell.source for cell in nb.cells):
                problems.append(f"{path.relative_to(root)}: marker {marker}")
    given = ""  # what every student was handed: a line found there is no leak, even inside other text
    for path in sorted((root / "release" / assignment).glob("*.ipynb")):
        given += "\n".join(c.source for c in nc.read_notebook(path).cells)
    for page in sorted((root / "feedback").glob(f"*/{assignment}/*.html")):
        student = page.parent.parent.name
        text = html_text(page.read_text(errors="replace"))
        submitted = root / "submitted" / student / assignment / f"{page.stem}.ipynb"
        own = given
        if submitted.is_file():
            own += "\n".join(c.source for c in nc.read_notebook(submitted).cells)
        problems += [f"{page.relative_to(root)}: {line}" for line in sorted(hidden) if line in text and line not in own]
        if _is_untouched_release(root, assignment, submitted):
            solution = {line for line in secrets - hidden if len(line) >= 8}
            problems += [f"{page.relative_to(root)}: {line}" for line in sorted(solution)
                         if line in text and line not in own]
    return problems


def _is_untouched_release(root: Path, assignment: str, submitted: Path) -> bool:
    release = root / "release" / assignment / submitted.name
    if not (submitted.is_file() and release.is_file()):
        return False
    strip = lambda nb: [c.source for c in nb.cells]  # noqa: E731
    return strip(nc.read_notebook(submitted)) == strip(nc.read_notebook(release))


# --- mutation score ---------------------------------------------------------------------------

def mutation_report(root: Path, assignments: list[str] | None = None, mutants_dir: Path | None = None) -> list[dict]:
    """Per assignment: solution score, release-stub score, mutants caught / total, survivors.

    Grades in this process with ``course.grade_in_process`` (what tests/test_assignments.py checks
    against nbgrader), so it takes seconds, not a kernel start per mutant.
    """
    root = Path(root)
    mutants_dir = Path(mutants_dir or root / "mutants")
    mutants = nc.find_mutants(mutants_dir) if mutants_dir.is_dir() else []
    rows = []
    for assignment in assignments or nc.find_assignments(root):
        source = nc.read_notebook(nc.source_path(assignment, root))
        solution, best = nc.total(nc.grade_in_process(source))
        stub = copy.deepcopy(source)
        for cell in stub.cells:
            if nc.is_solution_cell(cell):
                cell.source = _stub(cell.source)
        released, _ = nc.total(nc.grade_in_process(stub))
        mine = [m for m in mutants if m.assignment == assignment]
        survivors = []
        for mutant in mine:
            got, _ = nc.total(nc.grade_in_process(source, {mutant.grade_id: mutant.text}))
            if got >= best:
                survivors.append(f"{mutant.grade_id}__{mutant.name}")
        caught = len(mine) - len(survivors)
        guarded = sum("check_not_calling(" in c.source for c in source.cells if nc.is_test_cell(c))
        rows.append({"assignment": assignment, "max_score": best, "solution": solution, "release": released,
                     "mutants": len(mine), "caught": caught, "reference_checks": guarded,
                     "calls_reference_mutants": sum(m.name == "calls_reference" for m in mine),
                     "score": caught / len(mine) if mine else float("nan"), "survivors": survivors})
    return rows


def _stub(source: str) -> str:
    """A solution cell as ``generate_assignment`` releases it: the solution region replaced by the stub."""
    out, within = [], False
    for line in source.splitlines():
        if nc.BEGIN_SOLUTION in line:
            within = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + 'raise NotImplementedError("Replace this line with your solution.")')
        elif nc.END_SOLUTION in line:
            within = False
        elif not within:
            out.append(line)
    return "\n".join(out)


# --- the command line -------------------------------------------------------------------------

def _limits(args):
    from .sandbox import Limits

    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb,
                  max_processes=args.max_processes, network=args.allow_network)


def _add_sandbox_options(p) -> None:
    p.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell (default: Execute.timeout of "
                   "the course's nbgrader_config.py)")
    p.add_argument("--notebook-timeout", type=int, default=900, help="seconds per submission (default 900)")
    p.add_argument("--memory-mb", type=int, default=6144, help="address space of a kernel (default 6144)")
    p.add_argument("--max-processes", type=int, default=64, help="processes and threads per submission")
    p.add_argument("--allow-network", action="store_true", help="keep the network (default: none)")
    p.add_argument("--no-namespaces", action="store_true", help="do not use unshare (the fallback)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time (default 1)")


def _print_results(results) -> None:
    if not results:
        print("no submissions")
        return
    print(f"\n| student | score | seconds | notes")
    print("|---|---|---|---")
    for r in results:
        print(f"| {r.student} | {r.score:g}/{r.max_score:g} | {r.seconds:.1f} | {r.summary[:300]}")


def add_parser(sub) -> None:
    """Add ``instructor`` and its sub-commands to the ``course_lib`` command line."""
    from .course import COURSE

    p = sub.add_parser("instructor", help="release, collect, grade (sandboxed), feedback, export; see docs/instructors.md",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--course", default=str(COURSE), help="the nbgrader course folder (default: %(default)s)")
    cmds = p.add_subparsers(dest="instructor_command", required=True)

    c = cmds.add_parser("release", help="generate the student versions")
    c.add_argument("assignments", nargs="*")
    c.set_defaults(func=_cmd_release)

    c = cmds.add_parser("collect", help="take submissions from a folder (<student>.ipynb / .zip / folder)")
    c.add_argument("assignment")
    c.add_argument("folder")
    c.set_defaults(func=_cmd_collect)

    c = cmds.add_parser("autograde", help="grade submissions, each in a sandbox")
    c.add_argument("assignment")
    c.add_argument("students", nargs="*")
    _add_sandbox_options(c)
    c.add_argument("--report", help="also write one row per student and test cell to this CSV")
    c.set_defaults(func=_cmd_autograde)

    c = cmds.add_parser("feedback", help="HTML feedback per student")
    c.add_argument("assignment")
    c.add_argument("students", nargs="*")
    c.set_defaults(func=_cmd_feedback)

    c = cmds.add_parser("export", help="grades to CSV")
    c.add_argument("--out", default="grades.csv")
    c.set_defaults(func=_cmd_export)

    c = cmds.add_parser("grade", help="release, collect, autograde, feedback, export, check-leaks")
    c.add_argument("assignment")
    c.add_argument("folder")
    c.add_argument("--out", default="grades.csv")
    c.add_argument("--report", default="grading_report.csv")
    _add_sandbox_options(c)
    c.set_defaults(func=_cmd_grade)

    c = cmds.add_parser("check-leaks", help="solution or hidden-test lines in release/ and feedback/")
    c.add_argument("assignments", nargs="*")
    c.set_defaults(func=_cmd_check_leaks)

    c = cmds.add_parser("mutants", help="mutation score per assignment")
    c.add_argument("assignments", nargs="*")
    c.add_argument("--mutants-dir", default=None, help="default: <course>/mutants")
    c.add_argument("--verbose", action="store_true", help="also list every mutant and what it loses")
    c.set_defaults(func=_cmd_mutants)

    c = cmds.add_parser("sandbox-info", help="which OS mechanisms the sandbox uses here")
    c.set_defaults(func=_cmd_sandbox_info)



def _cmd_release(args) -> int:
    for folder in release(Path(args.course), args.assignments or None):
        print(f"released {folder}")
    return 0


def _cmd_collect(args) -> int:
    done = collect(Path(args.course), args.assignment, Path(args.folder))
    for student, what in done.items():
        print(f"{student}: {what}")
    return 0 if done and all(v == "ok" for v in done.values()) else 1


def _cmd_autograde(args) -> int:
    results = autograde(Path(args.course), args.assignment, args.students or None, _limits(args),
                        namespaces=False if args.no_namespaces else None, jobs=args.jobs)
    _print_results(results)
    if args.report:
        export(Path(args.course), Path(args.course) / "grades.csv", Path(args.report), results)
    return 0


def _cmd_feedback(args) -> int:
    pages = feedback(Path(args.course), args.assignment, args.students or None)
    print(f"{len(pages)} feedback pages in {Path(args.course) / 'feedback'}")
    return 0


def _cmd_export(args) -> int:
    print(f"grades written to {export(Path(args.course), Path(args.out))}")
    return 0


def _cmd_grade(args) -> int:
    root = Path(args.course)
    release(root, [args.assignment])
    for student, what in collect(root, args.assignment, Path(args.folder)).items():
        print(f"collect {student}: {what}")
    results = autograde(root, args.assignment, None, _limits(args), namespaces=False if args.no_namespaces else None,
                        jobs=args.jobs)
    feedback(root, args.assignment)
    export(root, Path(args.out), Path(args.report), results)
    _print_results(results)
    leaks = check_leaks(root, args.assignment)
    print(f"\ngrades: {args.out}; per-cell report: {args.report}; feedback: {root / 'feedback'}")
    print("leak check: " + ("no solution or hidden-test line in release/ and feedback/" if not leaks
                            else f"{len(leaks)} LEAKS:\n  " + "\n  ".join(leaks)))
    return 1 if leaks else 0


def _cmd_check_leaks(args) -> int:
    root = Path(args.course)
    bad = 0
    for assignment in args.assignments or nc.find_assignments(root):
        leaks = check_leaks(root, assignment)
        bad += len(leaks)
        print(f"{assignment}: " + ("no leaks" if not leaks else "\n  ".join([f"{len(leaks)} leaks:"] + leaks)))
    return 1 if bad else 0


def _cmd_mutants(args) -> int:
    rows = mutation_report(Path(args.course), args.assignments or None,
                           Path(args.mutants_dir) if args.mutants_dir else None)
    print("| assignment | solution | release | mutants caught | score | survivors | test cells with check_not_calling"
          " (calls_reference mutants)")
    print("|---|---|---|---|---|---|---")
    for r in rows:
        print(f"| {r['assignment']} | {r['solution']:g}/{r['max_score']:g} | {r['release']:g}/{r['max_score']:g} | "
              f"{r['caught']}/{r['mutants']} | {100 * r['score']:.0f}% | {', '.join(r['survivors']) or '-'} | "
              f"{r['reference_checks']} ({r['calls_reference_mutants']})")
    if args.verbose:
        print()
        nc.main()
    ok = all(r["solution"] == r["max_score"] and r["release"] == 0 and r["mutants"] and not r["survivors"]
             for r in rows)
    return 0 if ok else 1


def _cmd_sandbox_info(args) -> int:
    from .sandbox import Limits, mechanisms

    found = mechanisms()
    print(f"resource limits (setrlimit): yes; defaults {Limits()}")
    print(f"namespaces (unshare --user --net --pid): {'yes' if found['namespaces'] else 'no'}")
    print(f"no network inside: {'yes' if found['no_network'] else 'no'}")
    if found["root"]:
        print(f"running as root: RLIMIT_NPROC does not bind root; pids cgroup for the process limit: "
              f"{'yes' if found['pids_cgroup'] else 'NO (a fork bomb is not contained)'}")
    print(f"course folders hidden from the kernel (mount namespace): {'yes' if found['hide'] else 'no'}")
    print(f"probe: {found['detail']}")
    if not found["namespaces"]:
        print("fallback: resource limits, wall clocks and a throwaway copy only; see docs/instructors.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["instructor", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
