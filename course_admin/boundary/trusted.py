"""Grade one submitted notebook with the tests outside the student's reach.

``python -m course_admin.boundary.trusted SPEC`` (started by :class:`course_admin.sandbox.Sandbox`
for each submission) reads the instructor's source notebook and the student's notebook, starts the
student's side (:mod:`course_admin.boundary.server`, in the sandbox) and walks the notebook:

* the student's cells (solution cells, and cells the student added) run in the sandbox only;
* the instructor's locked cells that are not tests (the setup) run in both processes;
* every graded test cell (the instructor's version, hidden tests included) runs here, in this
  process, where the names the solution cells define are bound to proxies
  (:mod:`course_admin.boundary.client`). A test cell scores its points when it runs to the end
  without an exception, else 0: there is no partial credit a student could forge.

Only the names the source notebook's solution cells define are taken from the student: a student
who rebinds ``check_equal``, ``torch`` or a helper of the tests changes nothing here. A request
that runs past the cell's time limit, or a sandbox that dies (``os._exit``, a crash, a limit),
scores that cell 0; a fresh sandbox then replays the cells before it, without the one that stopped
it, and grading goes on.

The result (scores per graded cell, the notebook with its outputs, messages) is written to the
spec's ``report`` path as JSON and the notebook to ``notebook_out``; the caller writes the scores into
nbgrader's gradebook.
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

SERVER = str(Path(__file__).resolve().with_name("server.py"))
MAX_NOTEBOOK_OUTPUT = 2_000_000  # characters of output kept per graded notebook, all cells together
BUILTIN_NAMES = set(dir(__builtins__)) if isinstance(__builtins__, dict) is False else set(__builtins__)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test(cell) -> bool:
    m = _meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def solution_names(source_nb) -> list[str]:
    """Top-level names the source notebook's solution cells bind: what the tests may take from the student."""
    names = []
    for cell in source_nb.cells:
        if cell.cell_type != "code" or not _meta(cell).get("solution"):
            continue
        try:
            tree = ast.parse(_python(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(n for n in names if not n.startswith("_")))


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def merge(source_nb, student_nb):
    """The notebook to grade: the student's cells in their order, every cell the source locks
    (setup, tests, instructions) in the source's version, and locked cells the student deleted put
    back where they were. Returns ``(notebook, messages)``."""
    import copy

    source_cells = {_meta(c).get("grade_id"): c for c in source_nb.cells if _meta(c).get("grade_id")}
    out = copy.deepcopy(student_nb)
    cells, present = [], set()
    for cell in out.cells:
        gid = _meta(cell).get("grade_id")
        if gid in source_cells and gid not in present:
            src = source_cells[gid]
            if _meta(src).get("locked") or is_test(src):
                cell = copy.deepcopy(src)
            else:
                cell.metadata["nbgrader"] = copy.deepcopy(src.metadata["nbgrader"])
                cell.cell_type = src.cell_type
            present.add(gid)
        elif gid is not None:  # unknown or duplicate graded cell: an ordinary cell now
            cell.metadata.pop("nbgrader", None)
        cells.append(cell)
    restored = []
    for index, src in enumerate(source_nb.cells):
        gid = _meta(src).get("grade_id")
        if not gid or gid in present or not (_meta(src).get("locked") or _meta(src).get("grade")):
            continue
        before = {_meta(c).get("grade_id") for c in source_nb.cells[:index]}
        position = 0
        for i, c in enumerate(cells):
            if _meta(c).get("grade_id") in before:
                position = i + 1
        cells.insert(position, copy.deepcopy(src))
        present.add(gid)
        restored.append(gid)
    out.cells = cells
    messages = [f"deleted cells put back and graded: {', '.join(restored)}"] if restored else []
    return out, messages


class _Shell:
    """``get_ipython()`` for the course's locked cells run here: magics do nothing."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


def _strip_hidden(source: str) -> str:
    out, hidden = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out)


def _stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _error(ename: str, evalue: str, traceback: str | None = None):
    lines = [f"{ename}: {evalue}"] if not traceback else [traceback]
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=lines)


class Grader:
    """Walks one notebook (see the module docstring)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.cell_timeout = float(spec.get("cell_timeout") or 60)
        self.client = None
        self.replay: list[tuple[str, str]] = []  # (filename, source) run in the sandbox so far
        self.poisoned: dict[str, str] = {}  # grade_id -> why the sandbox was stopped there
        self.output_chars = 0

    def start(self):
        from .client import Client

        early, self.early = getattr(self, "early", None), None
        self.client = Client(lambda: early or self._popen(), timeout=self.cell_timeout)
        self.client.namespace = self.ns
        self.client.bound = {}
        self.client.shared_names = self.shared_names
        self.client.deadline = time.monotonic() + self.cell_timeout
        for filename, source in self.replay:
            self.client.run_cell(source, filename)
        self.client.deadline = None

    def _popen(self):
        command = self.spec.get("sandbox_argv") or (self.spec["sandbox_command"] + [sys.executable, "-I", SERVER])
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=self.spec.get("sandbox_env") or {"PATH": os.environ.get("PATH", "")},
                                cwd=self.spec.get("sandbox_cwd"), start_new_session=True,
                                preexec_fn=self._limits)

    def _limits(self):
        import resource

        for name, value in (self.spec.get("rlimits") or {}).items():
            which = getattr(resource, name)
            resource.setrlimit(which, (int(value), int(value)))

    def grade(self, source_nb, student_nb):
        nb, messages = merge(source_nb, student_nb)
        self.names = solution_names(source_nb)
        import types

        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main  # the tests' classes pickle by reference as __main__.Name
        self.ns = main.__dict__
        self.shared_names: set[str] = set()
        self.setup_errors: list[str] = []
        grades: dict[str, dict] = {}
        self.start()
        release = {_meta(c).get("grade_id"): c.source for c in self.spec_release_cells(source_nb)}
        for index, cell in enumerate(nb.cells):
            meta = _meta(cell)
            gid = meta.get("grade_id") or f"cell-{index}"
            if cell.cell_type != "code":
                if meta.get("grade") and meta.get("solution"):  # a written answer: graded by hand
                    grades[gid] = self._manual(cell, release.get(gid))
                continue
            cell.outputs, cell.execution_count = [], index + 1
            if is_test(cell):
                passed, outputs = self.run_test(cell, gid)
                cell.outputs = outputs
                grades[gid] = {"auto": float(meta.get("points", 0)) if passed else 0.0, "manual": False,
                               "max": float(meta.get("points", 0))}
            elif meta.get("locked"):
                cell.outputs = self.run_in_sandbox(cell, gid)
                self.run_here(cell.source, gid)
            else:
                cell.outputs = self.run_in_sandbox(cell, gid)
                if meta.get("grade") and meta.get("solution"):
                    grades[gid] = self._manual(cell, release.get(gid))
        if self.client:
            self.client.close()
        return nb, grades, messages + self.setup_errors

    def spec_release_cells(self, source_nb):
        path = self.spec.get("release")
        if path and Path(path).is_file():
            return nbformat.read(path, as_version=4).cells
        return []

    def _manual(self, cell, released):
        points = float(_meta(cell).get("points", 0))
        unchanged = released is not None and cell.source.strip() == released.strip()
        return {"auto": 0.0 if unchanged else None, "manual": not unchanged, "max": points}

    def run_here(self, source: str, gid: str) -> None:
        """A locked setup cell, in this process too (its imports and helpers are the tests')."""
        before = {k: id(v) for k, v in self.ns.items()}
        self.ns.setdefault("get_ipython", _Shell)
        try:
            self.bind_student_names()  # a locked cell may use them (a09: student_q_sample = q_sample), as in the kernel
            before = {k: id(v) for k, v in self.ns.items()}
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(_python(source), f"<cell {gid}>", "exec"), self.ns)
        except Exception as err:  # noqa: BLE001 - the course's own cell: say so, grade on (its tests will fail)
            self.setup_errors.append(f"the locked cell {gid} failed in the grader: {type(err).__name__}: {err}")
        self.shared_names |= {k for k, v in self.ns.items() if before.get(k) != id(v)}  # the sandbox has them too

    def run_in_sandbox(self, cell, gid: str) -> list:
        from .client import SandboxDied

        filename = f"<cell {gid}>"
        self.client.output.clear()
        self.client.deadline = time.monotonic() + self.cell_timeout
        try:
            reply = self.client.run_cell(cell.source, filename)
        except SandboxDied as err:
            stop = self._stopped(err)
            self.poisoned[gid] = stop["evalue"]
            outputs = self._outputs_so_far() + [stop]
            self.start()
            return outputs
        finally:
            if self.client:
                self.client.deadline = None
        self.replay.append((filename, cell.source))
        outputs = self._outputs_so_far()
        if not reply.get("ok"):
            err = reply.get("error") or {}
            outputs.append(_error(str(err.get("type"))[:200], self.budget(str(err.get("message"))[:4000]),
                                  self.budget(str(err.get("traceback", ""))[:6000])))
        return outputs

    def _outputs_so_far(self) -> list:
        text = "".join(self.client.output) if self.client else ""
        self.client.output.clear()
        return [_stream(self.budget(text))] if text else []

    def budget(self, text: str) -> str:
        """At most :data:`MAX_NOTEBOOK_OUTPUT` characters of output per notebook in all (a submission of
        many cells that each print the most a request may bring back would otherwise make an autograded
        notebook of gigabytes)."""
        left = MAX_NOTEBOOK_OUTPUT - self.output_chars
        if len(text) > left:
            text = text[:max(left, 0)] + ("\n[the grader keeps at most {:,} characters of output per notebook]\n"
                                          .format(MAX_NOTEBOOK_OUTPUT) if left > -1 else "")
        self.output_chars += len(text)
        return text

    def _stopped(self, err) -> dict:
        why = ("this cell ran longer than {t:g} s (an endless loop?) and was stopped; it scores 0, and the cells "
               "before it were run again in a fresh sandbox" if str(err) == "timeout" else
               "the student's process died while this cell ran (os._exit, a crash, or a resource limit of the "
               "grader: memory, processes, file size); it scores 0, and the cells before it were run again in a "
               "fresh sandbox").format(t=self.cell_timeout)
        return _error("GraderStop", why)

    def share_visible_definitions(self, source: str, gid: str) -> None:
        """The classes and functions the visible part of a test cell defines (the student has them in
        the release notebook) are defined in the sandbox too, so that the tests can hand them to the
        student's code as objects rather than callbacks (gradients flow through them there)."""
        visible = _strip_hidden(source)
        try:
            tree = ast.parse(_python(visible))
        except SyntaxError:
            return
        defs = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
        if not defs:
            return
        code = "\n\n".join(ast.get_source_segment(_python(visible), n) or "" for n in defs)
        reply = self.client.run_cell(code, f"<visible definitions of {gid}>")
        if reply.get("ok"):
            self.replay.append((f"<visible definitions of {gid}>", code))
            self.shared_names |= {n.name for n in defs}

    def bind_student_names(self) -> None:
        values = self.client.names(self.names)
        self.client.bound = {}
        for name in self.names:
            if name in values and not isinstance(values[name], BaseException):
                self.ns[name] = values[name]
                self.client.bound[name] = values[name]
            else:
                self.ns.pop(name, None)

    def run_test(self, cell, gid: str):
        from .client import SandboxDied

        out = io.StringIO()
        error = None
        before = set(self.ns)
        self.client.output.clear()
        self.client.deadline = time.monotonic() + self.cell_timeout
        try:
            self.share_visible_definitions(cell.source, gid)
            self.bind_student_names()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                exec(compile(_python(cell.source), f"<cell {gid}>", "exec"), self.ns)
        except SandboxDied as err:
            error = self._stopped(err)
            self.poisoned[gid] = error["evalue"]
            self.start()
        except Exception as err:  # noqa: BLE001 - a failing test is a result
            error = _error(type(err).__name__, self.budget(str(err)[:20_000]))
            if os.environ.get("COURSE_GRADER_DEBUG"):  # the trusted traceback (hidden lines): for the instructor
                import traceback

                traceback.print_exc(file=sys.__stderr__)
        finally:
            if self.client:
                self.client.deadline = None
        outputs = []
        text = out.getvalue() + ("".join(self.client.output) if self.client else "")
        if self.client:
            self.client.output.clear()
            try:
                self.client.free()
            except SandboxDied:
                self.start()
        if text:
            outputs.append(_stream(self.budget(text[:200_000])))
        if error is not None:
            outputs.append(error)
        return error is None, outputs


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    source_nb = nbformat.read(spec["source"], as_version=4)
    student_nb = nbformat.read(spec["submission"], as_version=4)
    grader = Grader(spec)
    grader.early = grader._popen()  # the sandbox imports torch while this process does
    report = {"success": False}
    try:
        nb, grades, messages = grader.grade(source_nb, student_nb)
        nbformat.write(nb, spec["notebook_out"])
        report = {"success": True, "grades": grades, "messages": messages, "stopped": grader.poisoned}
    except Exception as err:  # noqa: BLE001
        import traceback

        report = {"success": False, "error": f"{type(err).__name__}: {err}", "log": traceback.format_exc()[-4000:]}
    Path(spec["report"]).write_text(json.dumps(report, indent=1))
    return 0 if report["success"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
