"""The grading boundary (course_admin/boundary): the tests run in the grader's process, the student's
code in another one, and only plain data comes back.

Small notebooks built here check each mechanism (plain data only, gradients, in-place changes,
modules, random numbers, hooks, time limits, which names are taken from the student); the slow tests
grade every assignment's solution, release and a sample of its mutants through the boundary, so
that the boundary is shown to change no honest score and to keep catching wrong answers.
"""
from __future__ import annotations

import copy
import io
import pickle
import random
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from course_admin import course as nc
from course_admin.boundary import client as bc
from course_admin.boundary import trusted

sys.path.insert(0, str(Path(__file__).parent))
import hostile_submissions as hs  # noqa: E402

PLAIN = {"sandbox_command": [], "cell_timeout": 60,
         "sandbox_env": {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}}


def cell(source, kind="code", **nbgrader):
    c = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        c.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": False,
                                  **nbgrader}
    return c


SETUP = "import torch\nfrom torch import nn\nfrom course_lib.grading import check_close, check_equal, check_runs"


def notebook(solution: str, *tests: str, setup: str = SETUP):
    """A source notebook: a locked setup cell, one solution cell, test cells worth 1 point each."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell(setup, grade_id="setup", locked=True), cell(solution, grade_id="answer", solution=True)]
    nb.cells += [cell(t, grade_id=f"test_{i}", grade=True, locked=True, points=1) for i, t in enumerate(tests)]
    return nb


def grade(source, student_solution: str | None = None, extra_cells=(), timeout=60):
    student = copy.deepcopy(source)
    if student_solution is not None:
        nc.cell_by_id(student, "answer").source = student_solution
    student.cells += [cell(c) for c in extra_cells]
    out, grades, _ = trusted.Grader({**PLAIN, "cell_timeout": timeout}).grade(source, student)
    return {gid: g["auto"] for gid, g in grades.items()}, out


def errors(out) -> dict:
    return {nc.nbgrader(c).get("grade_id"): " ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in c.outputs
                                                       if o.get("output_type") == "error")
            for c in out.cells if c.cell_type == "code"}


# --- only plain data comes back -------------------------------------------------------------------

class _Gadget:
    def __reduce__(self):
        return (print, ("the grader ran code it received",))


def test_a_reply_that_is_not_plain_data_is_refused(capsys):
    forged = io.BytesIO()
    torch.save({"ok": True, "value": _Gadget()}, forged)  # torch.save pickles the gadget
    client = object.__new__(bc.Client)
    with pytest.raises(bc.SandboxDied, match="not plain data"):
        client._decode(forged.getvalue())
    assert "the grader ran code" not in capsys.readouterr().out
    plain = io.BytesIO()
    torch.save({"ok": True, "value": (1, 2.5, "x", torch.ones(2))}, plain)
    assert client._decode(plain.getvalue())["value"][:3] == (1, 2.5, "x")


def test_objects_that_pretend_to_be_right_answers_get_no_points():
    source = notebook("def answer():\n    return 15",
                      "check_equal(answer(), 15, 'answer()')",
                      "assert answer() == 15",
                      "got = answer()\nassert isinstance(got, int) and got + 0 == 15")
    cheat = ("import sys\nclass Liar(int):\n    def __eq__(self, other):\n        return True\n"
             "    def __ne__(self, other):\n        return False\n    __hash__ = int.__hash__\n"
             "class Frame:\n    def __eq__(self, other):\n        return True\n"
             "    def __index__(self):\n        return sys._getframe(1).f_locals.get('expected', 0)\n"
             "def answer():\n    return Liar(3)")
    scores, out = grade(source, cheat)
    assert scores == {"test_0": 0, "test_1": 0, "test_2": 0}, errors(out)
    scores, _ = grade(source)
    assert scores == {"test_0": 1, "test_1": 1, "test_2": 1}


def test_only_the_solution_names_are_taken_from_the_student():
    """Rebinding the helpers, torch or builtins in the student's cells changes nothing in the tests."""
    source = notebook("def double(x):\n    return 2 * x",
                      "check_equal(double(2), 4, 'double(2)')",
                      "check_close(double(torch.ones(2)), torch.full((2,), 2.0), 'double')")
    cheat = ("import builtins, torch\nimport course_lib.grading as g\n"
             "def double(x):\n    return x\n"
             "check_equal = check_close = lambda *a, **k: None\ng.check_equal = g.check_close = check_equal\n"
             "torch.allclose = lambda *a, **k: True\nbuiltins.AssertionError = type('Nothing', (Exception,), {})\n"
             "import sys\nsys.settrace(lambda *a: None)")
    scores, out = grade(source, cheat)
    assert scores == {"test_0": 0, "test_1": 0}, errors(out)


# --- what a test does with the student's code works across the boundary -----------------------------

def test_gradients_in_place_changes_and_random_numbers_cross():
    source = notebook(
        "def f(x):\n    return (x ** 2).sum()\n"
        "def bump(x):\n    x.add_(1)\n    return None\n"
        "def noise(shape):\n    return torch.randn(shape)",
        # a gradient through the student's function, in the grader's autograd
        "x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)\n(g,) = torch.autograd.grad(f(x), [x])\n"
        "check_close(g, 2 * x.detach(), 'grad')",
        # a change in place is seen on the grader's tensor
        "t = torch.zeros(3)\nbump(t)\ncheck_close(t, torch.ones(3), 'bumped')",
        # seeded draws: the same numbers as in one process
        "torch.manual_seed(5)\na = noise((4,))\ntorch.manual_seed(5)\ncheck_close(a, torch.randn(4), 'seeded', atol=0)\n"
        "b = noise((4,))\ntorch.manual_seed(5)\ntorch.randn(4)\ncheck_close(b, torch.randn(4), 'next draw', atol=0)")
    scores, out = grade(source)
    assert scores == {"test_0": 1, "test_1": 1, "test_2": 1}, errors(out)
    wrong = ("def f(x):\n    return (x.detach() ** 2).sum().requires_grad_()\n"
             "def bump(x):\n    return x + 1\n"
             "def noise(shape):\n    return torch.randn(shape, generator=torch.Generator().manual_seed(5))")
    scores, out = grade(source, wrong)
    assert scores == {"test_0": 0, "test_1": 0, "test_2": 0}, errors(out)


def test_a_stored_tensor_keeps_its_graph_when_read_later():
    """A tensor with a graph that the student's object keeps (read as an attribute after the call, not
    returned by it) arrives with requires_grad and a grad_fn, as in one process; a detached one without.
    (Two a08 ImagePool mutants that store the attached images got full marks before.)"""
    source = notebook(
        "class Keeper:\n    def __init__(self):\n        self.kept = []\n"
        "    def keep(self, x):\n        self.kept.append(x.detach() if DETACH else x[0])\n        return x.detach()\n"
        "DETACH = True",
        "w = torch.tensor(2.0, requires_grad=True)\nk = Keeper()\nout = k.keep(w * torch.ones(2, 3))\n"
        "check_equal((out.requires_grad, out.grad_fn), (False, None), 'the answer')\n"
        "check_equal([(t.requires_grad, t.grad_fn is None) for t in k.kept], [(False, True)], 'what it kept')")
    scores, out = grade(source)
    assert scores == {"test_0": 1}, errors(out)
    scores, out = grade(source, nc.cell_by_id(source, "answer").source.replace("DETACH = True", "DETACH = False"))
    assert scores == {"test_0": 0}, errors(out)
    assert "what it kept" in errors(out)["test_0"], errors(out)


MODULE = ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
          "        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))\n"
          "    def forward(self, x):\n        return self.body(x).relu()")


def test_a_student_module_lives_in_the_grader():
    source = notebook(MODULE, """
torch.manual_seed(0)
net = Net()
ref = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
net.load_state_dict({"body." + k: v for k, v in ref.state_dict().items()})
assert isinstance(net, nn.Module) and isinstance(net.body[0], nn.Linear) and net.body[0].out_features == 4
x = torch.randn(5, 3)
check_close(net(x), ref(x).relu(), "train-mode forward")
check_close(net.body[1].running_mean, ref[1].running_mean, "BatchNorm statistics after one call")
net.eval(); ref.eval()
check_close(net(x), ref(x).relu(), "eval-mode forward")
(g,) = torch.autograd.grad(net(x).sum(), [net.body[0].weight])
(e,) = torch.autograd.grad(ref(x).relu().sum(), [ref[0].weight])
check_close(g, e, "gradient with respect to a weight")
import copy
twin = copy.deepcopy(net).double()
check_close(twin(x.double()), ref.double()(x.double()).relu(), "a float64 copy", atol=1e-10)
assert twin(x.double()).dtype == torch.float64
""")
    scores, out = grade(source)
    assert scores == {"test_0": 1}, errors(out)
    forgets_relu = MODULE.replace(".relu()", "")
    scores, out = grade(source, forgets_relu)
    assert scores == {"test_0": 0}


def test_the_tests_hooks_see_what_the_students_code_did():
    source = notebook(
        "def step(model, opt, x):\n    opt.zero_grad()\n    model(x).sum().backward()\n    opt.step()",
        """
model = nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
passes, steps, seen = [0], [], []
model.weight.register_hook(lambda g: passes.__setitem__(0, passes[0] + 1))
opt.register_step_post_hook(lambda *a: steps.append(model.weight.detach().clone()))
model.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape))
before = model.weight.detach().clone()
step(model, opt, torch.ones(3, 2))
check_equal(passes[0], 1, "backward passes through the weight")
check_equal(len(steps), 1, "optimizer steps")
check_equal(seen, [torch.Size([3, 2])], "inputs the model saw")
check_close(model.weight, before - 0.1 * 3, "the weight after one step")
check_close(steps[0], model.weight, "the weight right after opt.step()")
""")
    scores, out = grade(source)
    assert scores == {"test_0": 1}, errors(out)
    twice = "def step(model, opt, x):\n    opt.zero_grad()\n    model(x).sum().backward()\n    opt.step()\n    opt.step()"
    assert grade(source, twice)[0] == {"test_0": 0}


# --- the student's process can stop; grading goes on -------------------------------------------------

def test_a_cell_that_hangs_or_exits_scores_zero_and_grading_goes_on():
    source = notebook("def one():\n    return 1",
                      "check_equal(one(), 1, 'one()')",
                      "check_equal(one(), 1, 'one() again')")
    hang = "def one():\n    while True:\n        pass"
    scores, out = grade(source, hang, timeout=5)
    assert scores == {"test_0": 0, "test_1": 0}
    assert "ran longer than 5 s" in errors(out)["test_0"]
    exits = "import os\ndef one():\n    os._exit(3)"
    scores, out = grade(source, exits)
    assert scores == {"test_0": 0, "test_1": 0} and "died while this cell ran" in errors(out)["test_0"]
    # a later cell that kills the sandbox: the cells before it are run again in a fresh one, the tests go on
    scores, out = grade(source, extra_cells=["import os\nos._exit(1)"])
    assert scores == {"test_0": 1, "test_1": 1}, errors(out)


def test_partial_credit_cannot_be_forged():
    """nbgrader gives a failing cell the points of an execute_result it showed; here a cell passes or not."""
    source = notebook("def f():\n    return 0", "assert f() == 1")
    forge = ("def f():\n    from IPython.display import display\n    display({'text/plain': '1'}, raw=True)\n"
             "    print(1)\n    return 1.0 if False else 0")
    scores, out = grade(source, forge)
    assert scores == {"test_0": 0}
    assert all(o.get("output_type") in ("stream", "error") for c in out.cells for o in c.get("outputs", []))


# --- every assignment, honest and wrong, through the boundary ---------------------------------------

def _solution(assignment):
    src = nc.read_notebook(nc.source_path(assignment))
    nb = copy.deepcopy(src)
    for c in nb.cells:
        if nc.is_solution_cell(c):
            c.source = hs.answer(src, nc.nbgrader(c)["grade_id"])
        elif nc.is_test_cell(c):
            c.source = nc.strip_hidden_tests(c.source)
    return src, nb


@pytest.mark.parametrize("assignment", nc.find_assignments())
def test_every_solution_scores_full_marks_and_every_release_zero(assignment):
    src, nb = _solution(assignment)
    _, grades, _ = trusted.Grader(dict(PLAIN, cell_timeout=120)).grade(src, nb)
    assert grades and all(g["auto"] == g["max"] for g in grades.values() if not g["manual"]), grades
    release = copy.deepcopy(nb)
    for c in release.cells:  # the stub students get, made from the source cell (with its solution markers)
        if nc.is_solution_cell(c):
            c.source = nc.release_stub(nc.cell_by_id(src, nc.nbgrader(c)["grade_id"]).source)
    _, grades, _ = trusted.Grader(dict(PLAIN, cell_timeout=120)).grade(src, release)
    assert sum(g["auto"] or 0 for g in grades.values()) == 0, grades


ONCE_SURVIVED = ("a08_cyclegan/image_pool_query__detaches_answers_only",
                 "a08_cyclegan/image_pool_query__answers_stacked_under_no_grad")
"""Mutants that the in-process grader caught and the boundary once let through (full marks): graded here
every time, besides the sample."""


@pytest.mark.parametrize("assignment", nc.find_assignments())
def test_mutants_lose_points_through_the_boundary(assignment):
    """Two mutants per assignment (a fixed random sample; the full set runs in-process in
    `python -m course_admin mutants`) and those in :data:`ONCE_SURVIVED`: each loses points here too."""
    from course_admin.mutants import find_mutants

    src, nb = _solution(assignment)
    mutants = sorted((m for m in find_mutants() if m.id.startswith(assignment + "/")), key=lambda m: m.id)
    sample = random.Random(assignment).sample(mutants, 2)
    sample += [m for m in mutants if m.id in ONCE_SURVIVED and m not in sample]
    for m in sample:
        mutated = copy.deepcopy(nb)
        nc.cell_by_id(mutated, m.id.split("/")[1].split("__")[0]).source = m.text
        _, grades, _ = trusted.Grader(dict(PLAIN, cell_timeout=120)).grade(src, mutated)
        got = sum(g["auto"] or 0 for g in grades.values())
        assert got < sum(g["max"] for g in grades.values() if not g["manual"]), f"{m.id} got full marks"


def test_magics_in_a_students_cells_do_nothing_and_cost_nothing():
    """Students run their notebooks in Jupyter, where `%matplotlib inline` or `!ls` are ordinary."""
    source = notebook("def one():\n    return 1", "check_equal(one(), 1, 'one()')")
    scores, out = grade(source, "%matplotlib inline\n!ls\ndef one():\n    return 1", extra_cells=["%pip install nothing"])
    assert scores == {"test_0": 1}, errors(out)


FLOOD = """
import io, os, struct, torch
def apply(f):
    buf = io.BytesIO()
    torch.save({"kind": "callback", "cb": 1, "args": [1], "kwargs": {"__t": "dict", "items": []}, "tensors": []}, buf)
    frame = struct.pack(">Q", len(buf.getvalue())) + buf.getvalue()
    fds = [int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2]
    while True:  # forged callback requests on every descriptor, never reading the answers
        for fd in fds:
            try:
                os.write(fd, frame)
            except OSError:
                pass
"""


@pytest.mark.parametrize("student", ["def apply(f):\n    while True:\n        f(1)", FLOOD])
def test_a_flood_of_callbacks_still_stops_at_the_cells_time_limit(student):
    """The student's side keeps asking the grader to call a function of the tests (honestly, or by
    writing forged requests on the protocol pipe and never reading the answers): the cell's deadline
    holds although a message is always waiting, and the grader's writes do not block."""
    source = notebook(student, "apply(lambda x: x)")
    scores, out = grade(source, timeout=5)
    assert scores == {"test_0": 0} and "ran longer than 5 s" in errors(out)["test_0"]


def test_the_output_of_a_notebook_is_bounded():
    """Many cells that each print the most one request may bring back do not make a huge notebook."""
    source = notebook("def one():\n    return 1", "check_equal(one(), 1, 'one()')")
    scores, out = grade(source, extra_cells=["print('x' * 300_000)"] * 15)
    assert scores == {"test_0": 1}
    total = sum(len(o.get("text", "")) for c in out.cells for o in c.get("outputs", []))
    assert 1_900_000 < total <= trusted.MAX_NOTEBOOK_OUTPUT + 200, total


def test_a_huge_reply_costs_the_grader_little():
    """A function that returns twenty million numbers: that test scores 0 within the cell's limit (the
    reply is refused above 64 MB, or its reading stops at the deadline), and the next test is graded."""
    import time

    source = notebook("def big():\n    return list(range(20_000_000))\ndef one():\n    return 1",
                      "check_equal(len(big()), 20_000_000, 'len(big())')", "check_equal(one(), 1, 'one()')")
    start = time.monotonic()
    scores, out = grade(source, timeout=20)
    assert scores == {"test_0": 0, "test_1": 1}, errors(out)
    assert time.monotonic() - start < 120


def test_a_locked_cell_after_the_solution_sees_the_students_names():
    """As in the kernel: a locked helper cell between the solution and the tests may use the
    student's function (a09's helpers keep `student_q_sample = q_sample`)."""
    source = notebook("def double(x):\n    return 2 * x", "check_equal(alias(2), 4, 'alias(2)')")
    source.cells.insert(2, cell("alias = double", grade_id="helpers", locked=True))
    scores, out = grade(source)
    assert scores == {"test_0": 1}, errors(out)
    assert grade(source, "def double(x):\n    return x + 1")[0] == {"test_0": 0}


def test_the_tests_floating_point_and_warning_settings_hold_in_the_sandbox():
    """np.errstate(divide="raise") and warnings.simplefilter("error") around a call apply to the
    student's code there, and a warning it shows reaches the test (a10 checks psnr_y this way)."""
    source = notebook("import numpy as np\nimport warnings\n"
                      "def ratio(a, b):\n    return np.float64(a) / np.float64(b)\n"
                      "def noisy():\n    warnings.warn('careful', RuntimeWarning)\n    return 1",
                      "import numpy as np\nwith np.errstate(divide='raise'):\n    try:\n        ratio(1, 0)\n"
                      "    except FloatingPointError:\n        pass\n    else:\n        raise AssertionError('no error')",
                      "import warnings\nwith warnings.catch_warnings(record=True) as seen:\n"
                      "    warnings.simplefilter('always')\n    noisy()\nassert [str(w.message) for w in seen] == ['careful']",
                      "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('error', RuntimeWarning)\n"
                      "    try:\n        noisy()\n    except RuntimeWarning:\n        pass\n    else:\n"
                      "        raise AssertionError('no error')")
    scores, out = grade(source)
    assert scores == {"test_0": 1, "test_1": 1, "test_2": 1}, errors(out)
