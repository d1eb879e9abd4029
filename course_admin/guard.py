"""Run by the grader at the top of every graded test cell (see ``execute.SafeExecute``).

A submission could make the tests pass by changing the helpers they call: rebinding
``check_equal`` in the notebook, replacing ``course_lib.grading.check_close``, or patching a
library function the checks use (``torch.allclose = lambda *a, **k: True``). :func:`restore`

1. loads a fresh copy of ``course_lib.grading`` and binds the notebook's helper names (and any
   name bound to the module) to it again, which undoes the first two silently;
2. looks for functions defined in the notebook (``__module__ == "__main__"``) that were put into
   ``torch``, ``numpy``, ``math``, ``builtins``, ``course_lib``'s or ``course_admin``'s modules (this
   one included: the grader imports it afresh for every test cell), and runs a self-test
   of the helpers (a wrong value must fail, a right one must pass); if either finds something, it
   raises :class:`GradingIntegrityError`, so the test cell scores 0 with a message that says why.

This is a check inside the student's own Python process, so it cannot stop code that takes over
the import system or the interpreter; the grader also flags such code for review
(``submission.suspicious_code``).
"""
from __future__ import annotations

import importlib
import sys
import types

WATCHED_MODULES = ("builtins", "math", "numpy", "torch", "torch.nn.functional", "torch.testing")
WATCHED_CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"), ("numpy", "ndarray"))


class GradingIntegrityError(AssertionError):
    """The notebook changed code that the tests rely on."""


def _defined_in_notebook(value) -> bool:
    return callable(value) and getattr(value, "__module__", None) == "__main__"


def patched_names() -> list[str]:
    """``module.name`` of library attributes that hold a function defined in the notebook."""
    found = []
    names = [m for m in WATCHED_MODULES if m in sys.modules]
    names += [m for m in list(sys.modules) if m in ("course_lib", "course_admin")
              or m.startswith(("course_lib.", "course_admin."))]
    for name in names:
        module = sys.modules.get(name)
        if not isinstance(module, types.ModuleType):
            found.append(f"sys.modules[{name!r}]")
            continue
        for attr, value in list(vars(module).items()):
            if _defined_in_notebook(value):
                found.append(f"{name}.{attr}")
    for module_name, class_name in WATCHED_CLASSES:
        cls = getattr(sys.modules.get(module_name), class_name, None)
        if isinstance(cls, type):
            found += [f"{module_name}.{class_name}.{a}" for a, v in list(vars(cls).items()) if _defined_in_notebook(v)]
    return found


def _self_test(grading) -> list[str]:
    """Names of the helpers that no longer tell a right value from a wrong one."""
    import torch

    broken = []

    def fails(fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
        except AssertionError:
            return True
        return False

    cases = [("check_equal", fails(grading.check_equal, 2, 3, "x"), not fails(grading.check_equal, 3, 3, "x")),
             ("check_close", fails(grading.check_close, torch.zeros(3), torch.ones(3), "x"),
              not fails(grading.check_close, torch.ones(3), torch.ones(3), "x")),
             ("check_shape", fails(grading.check_shape, torch.zeros(2), (3,), "x"),
              not fails(grading.check_shape, torch.zeros(3), (3,), "x")),
             ("check_raises", fails(grading.check_raises, ValueError, abs, -1, what="x"),
              not fails(grading.check_raises, ValueError, int, "x", what="x"))]
    for name, wrong_fails, right_passes in cases:
        if not (wrong_fails and right_passes):
            broken.append(name)
    return broken


def restore(namespace: dict) -> None:
    """Rebind the notebook's grading helpers to a fresh ``course_lib.grading``; raise
    :class:`GradingIntegrityError` if library code was replaced by the notebook."""
    for name in [m for m in sys.modules if m == "course_lib.grading" or m.startswith("course_lib.grading.")]:
        del sys.modules[name]
    grading = importlib.import_module("course_lib.grading")
    if isinstance(sys.modules.get("course_lib"), types.ModuleType):
        sys.modules["course_lib"].grading = grading
    for name in grading.__all__:
        if name in namespace:
            namespace[name] = getattr(grading, name)
    for name, value in list(namespace.items()):
        if isinstance(value, types.ModuleType) and value.__name__ == "course_lib.grading":
            namespace[name] = grading
    patched = patched_names()
    broken = [] if patched else _self_test(grading)
    if patched or broken:
        what = ", ".join(patched or broken)
        raise GradingIntegrityError(
            f"the notebook changed code that the tests rely on ({what}), so this test cell scores 0. "
            "Remove the code that replaces library functions and submit again.")
