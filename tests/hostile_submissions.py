"""Submissions of a01_receptive_fields for tests/test_instructor.py: honest, wrong and hostile ones.

Each is built from the release notebook (what a student gets) with the solution cells filled in
from the source notebook (markers removed), then changed as its entry says. ``EXPECTED`` gives
the score each must get (a01: conv_output_size is worth 3 + 1 points, receptive_field_of_stack
2 + 2 + 2) and a piece of the message that must explain it.
"""
from __future__ import annotations

import copy

from course_admin import course as nc
from course_admin.mutants import find_mutants

ASSIGNMENT = "a01_receptive_fields"
CONV, RF = "conv_output_size", "receptive_field_of_stack"
RF_TESTS = ["test_receptive_field_basic", "test_receptive_field_patchgan", "test_receptive_field_dilation"]


def answer(source_nb, grade_id: str) -> str:
    """The source's solution cell as a student would hand it in: the marker lines removed."""
    lines = nc.cell_by_id(source_nb, grade_id).source.splitlines()
    return "\n".join(line for line in lines if nc.BEGIN_SOLUTION not in line and nc.END_SOLUTION not in line)


def body(source_nb, grade_id: str, new_body: str) -> str:
    """The solution cell with the function's body (the solution region) replaced by ``new_body``."""
    out, within = [], False
    for line in nc.cell_by_id(source_nb, grade_id).source.splitlines():
        if nc.BEGIN_SOLUTION in line:
            within = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + row for row in new_body.strip("\n").splitlines()]
        elif nc.END_SOLUTION in line:
            within = False
        elif not within:
            out.append(line)
    return "\n".join(out)


def student_notebook(release_nb, source_nb, replace: dict[str, str] | None = None, drop=(), append=()):
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        gid = nc.nbgrader(cell).get("grade_id")
        if nc.is_solution_cell(cell):
            cell.source = answer(source_nb, gid)
        if replace and gid in replace:
            cell.source = replace[gid]
    nb.cells = [c for c in nb.cells if nc.nbgrader(c).get("grade_id") not in drop]
    for code in append:
        nb.cells.append(nc.nbformat.v4.new_code_cell(code))
    return nb


def build(release_nb, source_nb, course_root: str, repo_course: str) -> dict:
    """``{student: notebook}`` of every submission; ``course_root`` is the real course (which the
    intruder tries to reach by its absolute path), ``repo_course`` the checkout's assignments/."""
    rf, conv = answer(source_nb, RF), answer(source_nb, CONV)
    wrong_rf = body(source_nb, RF, "return 1, 1")
    mutant = next(m for m in find_mutants() if m.id == f"{ASSIGNMENT}/{CONV}__calls_reference")
    intruder = rf + f'''

import glob, os, sqlite3
COURSE, REPO_COURSE = {course_root!r}, {repo_course!r}
for path in [COURSE + "/gradebook.db", "../../../gradebook.db"]:
    try:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE grade SET manual_score = 100")
    except Exception:
        pass
    try:
        with open(path, "ab") as f:
            f.write(b"garbage")
    except Exception:
        pass
targets = (glob.glob(COURSE + "/submitted/*/*/*.ipynb") + glob.glob("../../../submitted/*/*/*.ipynb")
           + glob.glob(COURSE + "/source/*/*.ipynb") + glob.glob(COURSE + "/release/*/*.ipynb"))
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("{{}}")
    except Exception:
        pass
for path in [COURSE + "/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", "../../../source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
             REPO_COURSE + "/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]:
    try:
        with open(path) as f:
            print(f.read())
    except Exception as err:
        print("cannot read", path, type(err).__name__)
'''
    return {
        "solution": student_notebook(release_nb, source_nb),
        "untouched": copy.deepcopy(release_nb),
        "calls_reference": student_notebook(release_nb, source_nb, {CONV: mutant.text}),
        # an endless loop that ignores SIGINT, after a right answer
        "loop": student_notebook(release_nb, source_nb, {RF: rf + "\n\nimport signal\nsignal.signal(signal.SIGINT, "
                                                         "signal.SIG_IGN)\nwhile True:\n    pass\n"}),
        "exit": student_notebook(release_nb, source_nb, {RF: rf + "\n\nimport os\nos._exit(3)\n"}),
        # forks until the process limit, before the function is defined: the function is never defined
        "fork_bomb": student_notebook(release_nb, source_nb, {RF: "import os\nwhile True:\n    os.fork()\n\n" + rf}),
        # a 10 GB allocation in one function, 10 MB of output from the other cell
        "alloc_and_output": student_notebook(release_nb, source_nb, {
            CONV: body(source_nb, CONV, "data = bytearray(10 * 2**30)\nreturn len(data)"),
            RF: rf + "\n\nfor _ in range(10000):\n    print('spam ' * 200)\n"}),
        "intruder": student_notebook(release_nb, source_nb, {RF: intruder}, append=['print("\\n".join(In))']),
        # a wrong answer, its test cells edited or deleted, and the test helpers patched
        "tampered_tests": student_notebook(release_nb, source_nb, {
            RF: wrong_rf + "\n\nimport course_lib.grading as g\ng.check_equal = lambda *a, **k: None\n"
                           "check_equal = lambda *a, **k: None\n",
            RF_TESTS[0]: "pass"}, drop=RF_TESTS[1:]),
        "patch_torch": student_notebook(release_nb, source_nb, {CONV: conv + "\n\nimport torch\n"
                                                                "torch.allclose = lambda *a, **k: True\n"}),
    }


# student: (score of 10, a piece (or pieces, one of which) of the grader's message or of a failing cell's message)
EXPECTED = {
    "solution": (10, None),
    "untouched": (0, "is not written yet"),
    "calls_reference": (6, "calls course_lib.receptive_field.conv_output_size"),
    "loop": (4, "ran longer than"),
    "exit": (4, "died while this cell ran"),
    # the bomb stops at the process limit (BlockingIOError), or the kernel hangs until the cell's wall clock
    "fork_bomb": (4, ("name 'receptive_field_of_stack' is not defined", "ran longer than", "died while this cell ran")),
    "alloc_and_output": (6, "MemoryError"),
    "intruder": (10, "for review"),
    "tampered_tests": (4, ("deleted cells put back", "is wrong")),
    # patching torch in its own process changes nothing in the grader's: the honest score, flagged for review
    "patch_torch": (10, "for review"),
}
