"""What one submission may use (:class:`Limits`), and which OS mechanisms enforce it on this machine.

* :class:`Limits`: wall clocks per cell and per notebook, and the resource limits (``setrlimit``)
  that ``jail.py kernel`` sets on the kernel;
* :class:`PidsCgroup`: a ``pids`` cgroup that caps the processes of a sandbox when the grader
  runs as root (RLIMIT_NPROC does not bind root);
* :func:`mechanisms`: a probe of what works here (``unshare`` namespaces, no network, hidden
  folders), run once; ``python -m course_admin sandbox-info`` prints it.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

JAIL = str(Path(__file__).resolve().with_name("jail.py"))  # run by path: see its docstring
UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"]


@dataclass
class Limits:
    """What one submission may use. ``cell_timeout`` None: the course's ``Execute.timeout``."""

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


@functools.lru_cache(maxsize=1)
def mechanisms() -> dict:
    """Which OS mechanisms work here: ``{"rlimits", "namespaces", "no_network", "hide", "detail"}``.

    Probes by running ``jail probe`` under ``unshare``; takes a fraction of a second, once.
    """
    found = {"rlimits": True, "namespaces": False, "no_network": False, "hide": False, "detail": "",
             "pids_cgroup": PidsCgroup.root() is not None, "root": os.geteuid() == 0}
    if not shutil.which("unshare"):
        found["detail"] = "unshare (util-linux) not found"
        return found
    with tempfile.TemporaryDirectory() as probe_dir:
        Path(probe_dir, "visible").write_text("x")
        try:
            out = subprocess.run(UNSHARE + [sys.executable, JAIL, "probe"],
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "COURSE_PROBE_DIR": probe_dir})
        except (OSError, subprocess.TimeoutExpired) as err:
            found["detail"] = f"unshare failed: {err}"
            return found
    if out.returncode != 0:
        found["detail"] = f"unshare failed: {out.stderr.strip()[-300:]}"
        return found
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    found["namespaces"] = probe.get("loopback") is True
    found["no_network"] = found["namespaces"] and "Network is unreachable" in str(probe.get("network", ""))
    found["hide"] = probe.get("hide") is True
    found["detail"] = json.dumps(probe)
    return found
