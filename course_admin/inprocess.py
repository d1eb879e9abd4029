"""Grade a notebook the way nbgrader's autograder does, but in this Python process.

:func:`grade_in_process` runs every code cell in order, in one namespace; a graded test cell earns
its points unless it raises or writes to stderr (warnings do not count: ``course_lib.grading``, which
every assignment's setup cell imports, shows them on stdout in the kernel). Checking a mutant so takes a fraction of a second
instead of a kernel start; tests/test_assignments.py checks that it agrees with nbgrader, cell by
cell, on the solution, the release notebook and one mutant of each assignment.
"""
from __future__ import annotations

import ast
import contextlib
import io
import warnings
from dataclasses import dataclass

from . import course as nc


@dataclass
class CellResult:
    grade_id: str
    points: float
    max_points: float
    error: str | None  # why the cell lost its points

    @property
    def passed(self) -> bool:
        return self.error is None


class _NotGradeable(Exception):
    pass


def _run_cell(source: str, namespace: dict, filename: str) -> str | None:
    """Run one cell's code in ``namespace``; return why it failed (exception or stderr), or None."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(source)  # IPython syntax, as the kernel reads it
    tree = ast.parse(code, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    err, out = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
                if value is not None:  # nbgrader would read a displayed number as partial credit
                    raise _NotGradeable(f"{filename} ends with an expression worth {value!r}")
        except _NotGradeable:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing cell is a result, not an error here
            return f"{type(exc).__name__}: {exc}"
    if err.getvalue():  # nbgrader gives 0 to a test cell that writes to stderr
        return "wrote to stderr: " + err.getvalue()[:200]
    return None


def grade_in_process(nb, replace: dict[str, str] | None = None, hidden_tests: bool = True,
                     ) -> dict[str, CellResult]:
    """Grade notebook ``nb`` like nbgrader's autograder, in this process.

    Args:
        nb: the notebook (source or release version).
        replace: ``{grade_id: source}`` -- cells to replace, e.g. a solution cell by a mutant.
        hidden_tests: False strips the hidden tests first (what the student can run).

    Returns:
        ``{grade_id: CellResult}`` for every graded test cell, in notebook order.
    """
    import torch

    replace = replace or {}
    unknown = set(replace) - {nc.nbgrader(c).get("grade_id") for c in nb.cells}
    assert not unknown, f"no cells with grade_id {unknown}"
    namespace = {"__name__": "__main__"}
    results = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only cost time, more so on a busy machine
    try:
        _grade_cells(nb, replace, hidden_tests, namespace, results)
    finally:
        torch.set_num_threads(threads)
    return results


def _grade_cells(nb, replace, hidden_tests, namespace, results) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = nc.nbgrader(cell)
        grade_id = meta.get("grade_id", f"cell{index}")
        source = replace.get(grade_id, cell.source)
        if not hidden_tests:
            source = nc.strip_hidden_tests(source)
        error = _run_cell(source, namespace, f"<cell {grade_id}>")
        if nc.is_test_cell(cell):
            max_points = float(meta["points"])
            results[grade_id] = CellResult(grade_id, 0.0 if error else max_points, max_points, error)


def total(results: dict[str, CellResult]) -> tuple[float, float]:
    return (sum(r.points for r in results.values()), sum(r.max_points for r in results.values()))
