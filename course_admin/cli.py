"""``python -m course_admin <command>`` (or ``course-admin <command>``): run a term of the course with nbgrader.

Commands (``--course DIR`` selects the nbgrader course; default: ``assignments/`` of this checkout):

    release [A ...]           generate the student versions (all assignments, or the ones named)
    wheel                     build release/course_lib-<version>-py3-none-any.whl for the release's setup cell
    collect A FOLDER          take submissions from FOLDER: <student>.ipynb or <student>.zip per student
    autograde A [S ...]       grade the submissions (or those named), each in a sandbox
    feedback A [S ...]        HTML feedback per student, hidden tests removed
    export [--out grades.csv] the gradebook as CSV (nbgrader's exporter) and a per-cell report
    grade A FOLDER            all of the above for one assignment, in one go
    check-leaks [A ...]       no solution or hidden-test line in release/ and feedback/
    mutants [A ...]           mutation score: every mutant must lose points
    new-mutant A ID NAME FILE write a mutant patch from FILE, an edited copy of solution cell ID
    sandbox-info              the sandbox (bubblewrap) and the limits that hold here
    lab [--root DIR] [-- ARGS] JupyterLab with this course's nbgrader configuration (Formgrader)

See docs/instructors.md for a walk through a term.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import course as nc
from .hygiene import strip_terminal
from .leaks import check_leaks
from .term import autograde, collect, export, feedback, release


def _limits(args):
    from .limits import Limits

    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb,
                  max_processes=args.max_processes, network=args.allow_network)


def _add_sandbox_options(p) -> None:
    p.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell (default: Execute.timeout of "
                   "the course's nbgrader_config.py)")
    p.add_argument("--notebook-timeout", type=int, default=900, help="seconds per submission (default 900)")
    p.add_argument("--memory-mb", type=int, default=6144, help="address space of a kernel (default 6144)")
    p.add_argument("--max-processes", type=int, default=64, help="processes and threads per submission")
    p.add_argument("--allow-network", action="store_true", help="keep the network (default: none)")
    p.add_argument("--unsafe-no-sandbox", action="store_true", help="run the students' code without bubblewrap "
                   "(only for code you trust: the tests still run outside it, but it can reach this machine)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time (default 1)")


def _say(*parts, **kwargs) -> None:
    """``print`` for text a student can influence (ids, messages, leak reports): escape sequences,
    control and bidi characters removed (``hygiene.strip_terminal``), so that it cannot drive the terminal."""
    print(*(strip_terminal(str(part)) for part in parts), **kwargs)


def _print_results(results) -> None:
    if not results:
        print("no submissions")
        return
    print("\n| student | score | seconds | notes")
    print("|---|---|---|---")
    for r in results:
        _say(f"| {r.student} | {r.score:g}/{r.max_score:g} | {r.seconds:.1f} | {r.summary[:300]}")


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``--course DIR`` and one sub-command."""
    p = argparse.ArgumentParser(prog="python -m course_admin", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--course", default=str(nc.COURSE), help="the nbgrader course folder (default: %(default)s)")
    cmds = p.add_subparsers(dest="command", required=True)

    c = cmds.add_parser("release", help="generate the student versions")
    c.add_argument("assignments", nargs="*")
    c.add_argument("--install", choices=("auto", "wheel", "repository", "none"), default="auto",
                   help="where the release's setup cell installs course_lib from when a student lacks it "
                        "(auto: the wheel in release/ if there is one, else [tool.course] repository)")
    c.add_argument("--ref", help="--install repository: the branch, tag or commit (default: [tool.course] branch)")
    c.add_argument("--wheel-url", help="--install wheel: a URL where students can also download the wheel")
    c.set_defaults(func=_cmd_release)

    c = cmds.add_parser("wheel", help="build release/course_lib-<version>-py3-none-any.whl for the setup cell")
    c.set_defaults(func=_cmd_wheel)

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

    c = cmds.add_parser("new-mutant", help="write a mutant patch from an edited copy of a solution cell",
                        description="Write <course>/mutants/A/ID__NAME.patch: the lines in which FILE (the "
                                    "whole solution cell ID of assignment A, with the mistake in it) differs "
                                    "from the solution, then grade it.")
    c.add_argument("assignment")
    c.add_argument("grade_id")
    c.add_argument("name", help="what the mistake is, in a few words joined by _ (e.g. missing_plus_one)")
    c.add_argument("file", help="the mutated cell's full text ('-': standard input)")
    c.add_argument("--bug", required=True, help="what is wrong, in one line")
    c.add_argument("--why", required=True, help="why a student would write it, in a sentence or two")
    c.set_defaults(func=_cmd_new_mutant)

    c = cmds.add_parser("sandbox-info", help="the sandbox (bubblewrap) and the limits that hold here")
    c.set_defaults(func=_cmd_sandbox_info)

    c = cmds.add_parser("lab", help="JupyterLab with this course's nbgrader configuration (Formgrader)",
                        description="Start jupyter lab in the course folder, so that nbgrader's Formgrader and "
                                    "Validate button read its nbgrader_config.py, with the file browser on the "
                                    "checkout (or --root). Options after -- go to jupyter lab.")
    c.add_argument("--course", default=argparse.SUPPRESS, help="the nbgrader course folder (as before the command)")
    c.add_argument("--root", default=None, help="the folder Lab shows; it must contain the course "
                   "(default: the checkout when the course is in it, else the course)")
    c.add_argument("--no-browser", action="store_true", help="do not open a browser (jupyter lab --no-browser)")
    c.add_argument("jupyter_args", nargs="*", help="options for jupyter lab, after -- (e.g. -- --port=8899)")
    c.set_defaults(func=_cmd_lab)
    return p


def _cmd_release(args) -> int:
    from .student_setup import choose

    try:
        install = choose(Path(args.course), args.install, args.ref, args.wheel_url)
    except (ValueError, FileNotFoundError) as err:
        print(f"release: {err}", file=sys.stderr)
        return 2
    for folder in release(Path(args.course), args.assignments or None, install):
        print(f"released {folder}")
    print(install.describe())
    return 0


def _cmd_wheel(args) -> int:
    from .student_setup import build_wheel

    wheel = build_wheel(Path(args.course) / "release")
    print(f"built {wheel}: `python -m course_admin release` now puts it beside each released notebook")
    return 0


def _cmd_collect(args) -> int:
    done = collect(Path(args.course), args.assignment, Path(args.folder))
    for student, what in done.items():
        _say(f"{student}: {what}")
    return 0 if done and all(v == "ok" for v in done.values()) else 1


def _cmd_autograde(args) -> int:
    results = autograde(Path(args.course), args.assignment, args.students or None, _limits(args),
                        jobs=args.jobs, unsafe_no_sandbox=args.unsafe_no_sandbox, log=_say)
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
        _say(f"collect {student}: {what}")
    results = autograde(root, args.assignment, None, _limits(args), jobs=args.jobs,
                        unsafe_no_sandbox=args.unsafe_no_sandbox, log=_say)
    feedback(root, args.assignment)
    export(root, Path(args.out), Path(args.report), results)
    _print_results(results)
    leaks = check_leaks(root, args.assignment)
    print(f"\ngrades: {args.out}; per-cell report: {args.report}; feedback: {root / 'feedback'}")
    _say("leak check: " + ("no solution or hidden-test line in release/ and feedback/" if not leaks
                           else f"{len(leaks)} LEAKS:\n  " + "\n  ".join(leaks)))
    return 1 if leaks else 0


def _cmd_check_leaks(args) -> int:
    root = Path(args.course)
    bad = 0
    for assignment in args.assignments or nc.find_assignments(root):
        leaks = check_leaks(root, assignment)
        bad += len(leaks)
        _say(f"{assignment}: " + ("no leaks" if not leaks else "\n  ".join([f"{len(leaks)} leaks:"] + leaks)))
    return 1 if bad else 0


def _cmd_mutants(args) -> int:
    from .mutants import mutation_report, print_mutants

    mutants_dir = Path(args.mutants_dir) if args.mutants_dir else Path(args.course) / "mutants"
    rows = mutation_report(Path(args.course), args.assignments or None, mutants_dir)
    print("| assignment | solution | release | mutants caught | score | survivors | test cells with check_not_calling"
          " (calls_reference mutants)")
    print("|---|---|---|---|---|---|---")
    for r in rows:
        print(f"| {r['assignment']} | {r['solution']:g}/{r['max_score']:g} | {r['release']:g}/{r['max_score']:g} | "
              f"{r['caught']}/{r['mutants']} | {100 * r['score']:.0f}% | {', '.join(r['survivors']) or '-'} | "
              f"{r['reference_checks']} ({r['calls_reference_mutants']})")
    print()
    print("caught by kind of mistake: " + "; ".join(
        f"{r['assignment']}: " + ", ".join(f"{c} {k}/{n}" for c, (k, n) in r["categories"].items()) for r in rows))
    if args.verbose:
        print()
        print_mutants(mutants_dir, args.assignments or None)
    ok = all(r["solution"] == r["max_score"] and r["release"] == 0 and r["mutants"] and not r["survivors"]
             for r in rows)
    return 0 if ok else 1


def _cmd_new_mutant(args) -> int:
    from .mutants import find_mutants, mutation_report, new_mutant

    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    path = new_mutant(args.assignment, args.grade_id, args.name, text, args.bug, args.why, Path(args.course))
    print(f"wrote {path}")
    mutant = next(m for m in find_mutants(path.parent.parent, Path(args.course)) if m.path == path)
    assert mutant.text == text.rstrip("\n"), "the patch does not reproduce the cell"
    (row,) = mutation_report(Path(args.course), [args.assignment], path.parent.parent)
    survived = f"{args.grade_id}__{args.name}" in row["survivors"]
    print("the tests do NOT catch it: it gets full marks" if survived else "the tests catch it: it loses points")
    return 1 if survived else 0


def _cmd_sandbox_info(args) -> int:
    from .bwrap import describe
    from .limits import Limits

    print(f"limits of one submission: {Limits()}")
    print("tests and scores: in the grader's own process, outside the sandbox (course_admin/boundary)")
    for line in describe():
        print(line)
    return 0


def _cmd_lab(args) -> int:
    from .lab import lab_launch, start_lab

    try:
        launch = lab_launch(Path(args.course), Path(args.root) if args.root else None,
                            (["--no-browser"] if args.no_browser else []) + args.jupyter_args)
    except ValueError as err:
        print(f"lab: {err}", file=sys.stderr)
        return 2
    return start_lab(launch)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else [str(a) for a in argv])
    return args.func(args)
