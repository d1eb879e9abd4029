"""What one submission may use (:class:`Limits`), and the cgroup that holds the process limit for root.

* :class:`Limits`: wall clocks per cell and per notebook, the sizes of the sandbox's writable
  folders, and the resource limits (``setrlimit``) that :mod:`course_admin.bwrap` sets inside the
  sandbox before the student's side starts;
* :class:`PidsCgroup`: a ``pids`` cgroup that caps the processes of a sandbox when the grader
  runs as root (RLIMIT_NPROC does not bind root).

``python -m course_admin sandbox-info`` says what holds on this machine (:func:`course_admin.bwrap.describe`).
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Limits:
    """What one submission may use. ``cell_timeout`` None: the course's ``Execute.timeout``.

    Raises nothing itself; :meth:`rlimits` gives the ``setrlimit`` values (bytes, seconds, counts).
    """

    cell_timeout: int | None = None        # seconds per cell
    notebook_timeout: int = 900            # seconds for the whole grading of one submission
    memory_mb: int = 6144                  # address space of the kernel (torch alone maps ~3.3 GB)
    max_processes: int = 64                # processes and threads in the sandbox (RLIMIT_NPROC)
    file_size_mb: int = 64                 # largest file the kernel may write
    disk_mb: int = 256                     # size of each of the sandbox's writable tmpfs (/work and /tmp)
    max_output_bytes: int = 1_000_000      # output kept per cell while it runs
    network: bool = False                  # True: no network namespace

    def rlimits(self, namespaced: bool) -> dict:
        nproc = self.max_processes
        if not namespaced:  # RLIMIT_NPROC counts all the user's processes outside a user namespace
            nproc += _count_own_processes()
        return {"RLIMIT_AS": self.memory_mb * 2**20, "RLIMIT_NPROC": nproc,
                "RLIMIT_CPU": self.notebook_timeout, "RLIMIT_FSIZE": self.file_size_mb * 2**20,
                "RLIMIT_CORE": 0}


def _count_own_processes() -> int:
    uid, n = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        try:
            n += entry.name.isdigit() and entry.stat().st_uid == uid
        except OSError:
            pass
    return n


class PidsCgroup:
    """A cgroup of the ``pids`` controller that caps the number of processes and threads of one
    sandbox (``pids.max``). RLIMIT_NPROC does not bind processes of the real root user, so when
    the grader runs as root this is what stops a fork bomb; it needs write access to the cgroup
    tree (cgroup v1 ``/sys/fs/cgroup/pids`` or a v2 tree with the pids controller enabled)."""

    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def root() -> Path | None:
        candidates = [Path("/sys/fs/cgroup/pids")]
        unified = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified").is_dir() else Path("/sys/fs/cgroup")
        try:
            if "pids" in (unified / "cgroup.subtree_control").read_text().split():
                candidates.append(unified)
        except OSError:
            pass
        for path in candidates:
            if (path / "cgroup.procs").is_file() and os.access(path, os.W_OK):
                return path
        return None

    @classmethod
    def create(cls, limit: int) -> "PidsCgroup | None":
        root = cls.root()
        if root is None:
            return None
        path = root / f"course-grader-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            return None
        return cls(path)

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def remove(self) -> None:
        for _ in range(50):
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)
