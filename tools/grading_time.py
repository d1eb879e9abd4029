"""Grading time of one honest submission per assignment, now and at an earlier commit.

    python tools/grading_time.py 7df4e7d [--repeats 2] [a01_receptive_fields ...]

For each assignment, the instructor notebook (solutions and hidden tests) is handed in as a
student's submission and graded with nbgrader's ``autograde`` (a fresh kernel per submission) in two
temporary copies of the course: one with the assignment sources of the given commit, one with the
sources of the working tree (the same course_lib for both). Runs alternate; the best of
``--repeats`` is printed, with every run's time. Run it on a quiet machine with OMP_NUM_THREADS=1.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import nbgrader_course as nc  # noqa: E402 - the tests' nbgrader helpers (course_admin.course)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("commit", help="the earlier commit whose assignment sources are timed against the working tree's")
    p.add_argument("assignments", nargs="*", help="default: all")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)
    nc.use_this_python()
    # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warning; the grades are stored all the same
    warnings.filterwarnings("ignore", message="Object of type <Submitted")
    with tempfile.TemporaryDirectory() as tmp:
        roots = {}
        for which in ("before", "now"):
            root = nc.copy_course(Path(tmp) / which / "assignments")
            if which == "before":
                for a in nc.find_assignments(root):
                    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.commit}:assignments/source/{a}/{a}.ipynb"],
                                         capture_output=True, text=True, check=True).stdout
                    (root / "source" / a / f"{a}.ipynb").write_text(old, encoding="utf-8")
            roots[which] = (root, nc.make_api(root))
        print(f"| assignment | {args.commit} (s) | now (s) | change | runs")
        print("|---|---|---|---|---")
        for a in args.assignments or nc.find_assignments(roots["now"][0]):
            times = {"before": [], "now": []}
            for which in times:
                assert roots[which][1].generate_assignment(a)["success"], f"generate_assignment {a} ({which})"
            for rep in range(args.repeats):
                for which, (root, api) in roots.items():
                    student = f"honest{rep}"
                    nc.submit(root, a, student, nc.source_path(a, root))
                    start = time.perf_counter()
                    result = api.autograde(a, student)
                    times[which].append(round(time.perf_counter() - start, 2))
                    score, max_score, _ = nc.gradebook_scores(api, a, student)
                    if not result["success"] or score != max_score:
                        raise SystemExit(f"{a} ({which}): the honest submission got {score} of {max_score}")
            before, now = min(times["before"]), min(times["now"])
            print(f"| {a} | {before:.1f} | {now:.1f} | {(now / before - 1) * 100:+.0f}% | {times}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
