"""Every mutant of every assignment graded through the trust boundary (``course_admin.boundary``).

    OMP_NUM_THREADS=1 python tools/boundary_mutants.py [--assignment a08_cyclegan ...] [--out FILE] [--resume]

``python -m course_admin mutants`` grades the mutants in one process, the fast way; ``tests/test_boundary.py``
grades two per assignment (and the ones in its ``ONCE_SURVIVED``) through the boundary. This tool grades them
all through the boundary, as ``python -m course_admin grade`` would: the solution with one cell replaced by the
mutant, the student's cells in a plain subprocess (no bubblewrap: the sandbox does not change what is
computed, only what the student's code can reach), the source notebook's tests in the trusted process. A
mutant *survives* when it gets full marks. About 9 s per mutant on one thread of the course's 2-core CPU
(460 mutants: 555 s of a resumed run, over an hour from scratch).

Writes ``{mutant id: [points, max points]}`` as JSON after each mutant (``--resume`` skips those already
caught); exits 1 when a mutant survives.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from course_admin import course as nc  # noqa: E402
from course_admin.boundary import trusted  # noqa: E402
from course_admin.mutants import find_mutants  # noqa: E402

SPEC = {"sandbox_command": [], "cell_timeout": 120, "sandbox_env": {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}}


def solution_notebook(assignment: str):
    """The source notebook and a copy whose solution cells hold the answer key (hidden tests left in: the
    trusted side takes its tests from the source anyway)."""
    import hostile_submissions as hs

    src = nc.read_notebook(nc.source_path(assignment))
    nb = copy.deepcopy(src)
    for c in nb.cells:
        if nc.is_solution_cell(c):
            c.source = hs.answer(src, nc.nbgrader(c)["grade_id"])
    return src, nb


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--assignment", nargs="*", default=None, help="only these assignments (default: all)")
    p.add_argument("--out", type=Path, default=Path("boundary_mutants.json"))
    p.add_argument("--resume", action="store_true", help="keep the results in --out and skip mutants caught there")
    args = p.parse_args(argv)
    out = json.loads(args.out.read_text()) if args.resume and args.out.is_file() else {}
    mutants = sorted(find_mutants(), key=lambda m: m.id)
    if args.assignment:
        unknown = set(args.assignment) - {m.id.split("/")[0] for m in mutants}
        if unknown:
            p.error(f"no mutants for {sorted(unknown)}")
        mutants = [m for m in mutants if m.id.split("/")[0] in args.assignment]
    notebooks, start = {}, time.perf_counter()
    for i, m in enumerate(mutants):
        if m.id in out and out[m.id][0] < out[m.id][1]:
            continue
        assignment, rest = m.id.split("/", 1)
        if assignment not in notebooks:
            notebooks[assignment] = solution_notebook(assignment)
        src, nb = notebooks[assignment]
        mutated = copy.deepcopy(nb)
        nc.cell_by_id(mutated, rest.split("__")[0]).source = m.text
        _, grades, _ = trusted.Grader(dict(SPEC)).grade(src, mutated)
        got = sum(g["auto"] or 0 for g in grades.values())
        top = sum(g["max"] for g in grades.values() if not g["manual"])
        out[m.id] = [got, top]
        print(f"[{i + 1}/{len(mutants)}] {m.id}: {got:g} / {top:g}{'  SURVIVED' if got >= top else ''}", flush=True)
        args.out.write_text(json.dumps(out, indent=0) + "\n")
    survivors = sorted(k for k, (got, top) in out.items() if got >= top)
    print(f"{len(out)} mutants, {len(survivors)} survived, {time.perf_counter() - start:.0f} s"
          + "".join(f"\n  {s}" for s in survivors))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
