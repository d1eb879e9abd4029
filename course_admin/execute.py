"""nbgrader's ``Execute`` preprocessor made safe, and the grading run of one submission
(started by ``jail.py grade`` inside the sandbox; see :mod:`course_admin.sandbox`).

``jail.py`` (standard library only, run by its path) brings the network namespace's loopback up
and calls :func:`grade`; this module does not import ``jail``."""
from __future__ import annotations

import json
import os
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

# --- nbgrader's Execute, made safe --------------------------------------------------------------

# Cells that stopped the kernel in an earlier run of this notebook: {key: message}. The grading
# run is repeated without them (see :func:`grade`); module-level, as nbgrader builds a fresh
# preprocessor for every notebook.
POISONED: dict[str, str] = {}

GUARD = ("__import__('sys').modules.pop('course_admin.guard', None); "
         "import course_admin.guard as _course_guard; _course_guard.restore(globals()); "
         "del _course_guard  # added by the grader: checks the test helpers")
TRUNCATED = "\n[the grader kept only the first {n} bytes of this cell's output]\n"


def cell_key(cell, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{index}"


def _error_output(ename: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=message,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {message}"])


class SafeExecute(Execute):
    """nbgrader's ``Execute`` that survives cells that hang, kill the kernel or flood the output.

    * a cell that runs past ``timeout`` (even one that ignores SIGINT) or kills the kernel
      (``os._exit``, a crash, a resource limit) is recorded in :data:`POISONED` and the run is
      aborted; :func:`grade` runs the notebook again from a fresh kernel, where that cell is not
      executed but given an error output that says why. The other cells are graded as usual.
    * a cell's output beyond ``max_output_bytes`` is dropped while it runs (nbgrader's
      ``LimitOutput`` trims what is left afterwards).
    * before each graded test cell, :mod:`course_admin.guard` restores the grading helpers
      and fails the cell if the notebook replaced library functions the tests rely on.
    """

    interrupt_on_timeout = Bool(False).tag(config=True)  # a cell that ignores SIGINT would hang
    max_output_bytes = Integer(1_000_000, help="output kept per cell while it runs").tag(config=True)
    guard = Bool(True, help="check the test helpers before each test cell").tag(config=True)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code":
            return cell
        key = cell_key(cell, cell_index)
        if key in POISONED:
            cell.outputs = [_error_output("GraderStop", POISONED[key])]
            return cell
        meta = cell.metadata.get("nbgrader", {})
        original = cell.source
        if self.guard and meta.get("grade") and not meta.get("solution"):
            cell.source = GUARD + "\n" + original
        self._output_bytes, self._truncated = 0, False
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except CellTimeoutError:
            POISONED[key] = (f"this cell ran longer than {self.timeout} s (an endless loop?) and was stopped; it "
                             "scores 0, and the notebook was run again from the start without it")
            raise
        except DeadKernelError:
            POISONED[key] = ("the kernel died while this cell ran (os._exit, a crash, or a resource limit of "
                             "the grader: memory, processes, file size); it scores 0, and the notebook was "
                             "run again from the start without it")
            raise
        finally:
            cell.source = original

    execute_cell = run_sync(async_execute_cell)  # nbclient binds the sync name to its own method

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = sum(len(str(v)) for v in content.get("data", {}).values()) + len(content.get("text", ""))
        size += sum(len(line) for line in content.get("traceback", []))
        self._output_bytes = getattr(self, "_output_bytes", 0) + size
        if self._output_bytes > self.max_output_bytes:
            if not getattr(self, "_truncated", False):
                self._truncated = True
                outs.append(NotebookNode(output_type="stream", name="stdout",
                                         text=TRUNCATED.format(n=self.max_output_bytes)))
            return None
        return super().output(outs, msg, display_id, cell_index)


# --- grading one submission ---------------------------------------------------------------------

def clear_leftovers() -> None:
    """Kill the other processes of this sandbox (they carry its marker in their environment) and
    reap the orphans: in its own PID namespace this process is init, and unreaped children would
    keep counting against the process limit."""
    import signal
    import time

    marker = os.environ.get("COURSE_GRADER_SANDBOX")
    me = int(os.readlink("/proc/self"))
    ancestors, pid = set(), me
    while pid > 1:  # this process and the ones above it (unshare) are spared
        ancestors.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    for _ in range(20):
        found = False
        if marker:
            needle = f"COURSE_GRADER_SANDBOX={marker}".encode()
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and int(entry.name) not in ancestors:
                    try:
                        if needle in (entry / "environ").read_bytes():
                            # /proc is the host's: kill by the pid this namespace knows (last of NSpid)
                            nspid = [l for l in (entry / "status").read_text().splitlines() if l.startswith("NSpid:")]
                            os.kill(int(nspid[0].split()[-1]) if nspid else int(entry.name), signal.SIGKILL)
                            found = True
                    except (OSError, ValueError):
                        pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not found:
            return
        time.sleep(0.1)


def _config(spec: dict):
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=spec["course"]).load_config()
    config.CourseDirectory.root = spec["course"]
    config.CourseDirectory.db_url = spec["db_url"]
    config.Autograde.autograde_preprocessors = [SafeExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                                SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    if spec.get("cell_timeout"):
        config.SafeExecute.timeout = int(spec["cell_timeout"])
    config.SafeExecute.max_output_bytes = int(spec.get("max_output_bytes", 1_000_000))
    return config


def grade(spec_path: str, loopback: bool | str | None = None) -> int:
    """Autograde one submission in the throwaway course of ``spec``; write ``spec["report"]``.
    ``loopback``: whether ``jail.py`` brought the loopback interface up (True, or why not), for the report."""
    spec = json.loads(Path(spec_path).read_text())
    report = {"attempts": 0, "stopped_cells": {}, "loopback": loopback}
    os.chdir(spec["course"])
    from nbgrader.apps import NbGraderAPI

    result = {}
    for attempt in range(int(spec.get("max_attempts", 6))):
        if attempt:
            clear_leftovers()  # what the stopped kernel left (a fork bomb's children) would block the next kernel
        report["attempts"] = attempt + 1
        before = len(POISONED)
        result = NbGraderAPI(config=_config(spec)).autograde(spec["assignment"], spec["student"], force=True,
                                                             create=True)
        report["stopped_cells"] = dict(POISONED)
        Path(spec["report"]).write_text(json.dumps(report, indent=1))
        if result.get("success") or len(POISONED) == before:
            break
    report["success"] = bool(result.get("success"))
    report["error"] = (result.get("error") or "")[-4000:]
    report["log"] = (result.get("log") or "")[-4000:]
    Path(spec["report"]).write_text(json.dumps(report, indent=1))
    return 0 if report["success"] else 1
