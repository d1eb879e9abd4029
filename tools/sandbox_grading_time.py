"""Seconds to grade one honest submission with ``python -m course_admin autograde`` (the sandboxed
grader, as an instructor runs it), now and at an earlier commit.

    python tools/sandbox_grading_time.py [--commit 99f34d5] [--repeats 3] [a01_receptive_fields ...]

For each assignment, the source notebook with the solution markers removed (what an honest student
hands in) is collected as ``--repeats`` students of a temporary copy of the course and graded one at
a time; the command's own per-student seconds are printed, and their median. With ``--commit``, the
same is done with the grader of that commit (a ``git worktree`` of it, run with this virtual
environment), alternating with the working tree's. Run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def honest_notebooks(assignment: str, folder: Path, repeats: int) -> None:
    import nbformat

    import hostile_submissions as hs
    from course_admin import course as nc

    source = nc.read_notebook(nc.source_path(assignment))
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(source), as_version=4))
    for cell in nb.cells:
        if nc.is_solution_cell(cell):
            cell.source = hs.answer(source, nc.nbgrader(cell)["grade_id"])
        elif nc.is_test_cell(cell):
            cell.source = nc.strip_hidden_tests(cell.source)
    folder.mkdir(parents=True)
    for i in range(repeats):
        nbformat.write(nb, folder / f"honest{i}.ipynb")


def grade(checkout: Path, assignment: str, submissions: Path, work: Path) -> list[float]:
    course = work / "assignments"
    shutil.copytree(checkout / "assignments", course, ignore=shutil.ignore_patterns(
        "release", "submitted", "autograded", "feedback", "gradebook.db", "mutants"))
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "course_admin", "--course", str(course), *a],  # noqa: E731
                                    env=env, cwd=checkout, capture_output=True, text=True, check=True)
    run("release", assignment)
    run("collect", assignment, str(submissions))
    out = run("autograde", assignment).stdout
    rows = re.findall(r"^\| honest\d+ \| ([\d.]+)/([\d.]+) \| ([\d.]+) \|", out, re.M)
    if not rows or any(a != b for a, b, _ in rows):
        raise RuntimeError(f"an honest submission did not get full marks:\n{out}")
    return [float(s) for _, _, s in rows]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("assignments", nargs="*", default=["a01_receptive_fields"])
    p.add_argument("--commit", help="also time the grader of this earlier commit")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkouts = {"now": ROOT}
        if args.commit:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tmp / "then"), args.commit],
                           check=True, capture_output=True)
            checkouts = {args.commit: tmp / "then", "now": ROOT}
        try:
            for assignment in args.assignments:
                honest_notebooks(assignment, tmp / f"in-{assignment}", args.repeats)
                for name, checkout in checkouts.items():
                    seconds = grade(checkout, assignment, tmp / f"in-{assignment}", tmp / f"work-{name}-{assignment}")
                    print(f"{assignment} {name}: median {statistics.median(seconds):.1f} s per honest submission "
                          f"(runs: {', '.join(f'{s:.1f}' for s in seconds)})", flush=True)
        finally:
            if args.commit:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "then")],
                               capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
