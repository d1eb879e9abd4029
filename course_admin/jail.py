"""Inside the sandbox: the grading process of one submission, and the wrapper of its kernel.

This file imports only the standard library at the top and is run by its path (``python
.../jail.py``), not as ``-m course_admin...``, so that the kernel wrapper does not import
``course_lib`` (and torch) before the kernel does.

:mod:`course_admin.sandbox` (the instructor's process) starts, for each submission::

    [unshare --user --map-root-user --net --pid --fork --kill-child]  python .../course_admin/jail.py grade SPEC

in a throwaway copy of the course. ``grade`` runs nbgrader's ``autograde`` there (nbgrader's own
API), with :class:`SafeExecute` in place of nbgrader's ``Execute`` preprocessor, and writes a
report next to its private gradebook. The notebook's kernel is started through a kernelspec whose
command is ``python .../jail.py kernel SPEC -- <the ipykernel command>``: that
wrapper hides the instructor's folders (a private mount namespace with an empty read-only tmpfs
over each), sets the resource limits, then becomes the kernel.

What each mechanism does (``python -m course_admin sandbox-info`` says which work here):

* ``setrlimit`` on the kernel (``resource``): address space (RLIMIT_AS: a 10 GB allocation fails
  with MemoryError), processes (RLIMIT_NPROC: a fork bomb stops at the limit), CPU seconds
  (RLIMIT_CPU), file size (RLIMIT_FSIZE: a runaway file write kills the kernel), no core files;
* Linux namespaces through ``unshare`` (util-linux): a user namespace (no privileges needed), a
  network namespace with only the loopback interface (no network; the kernel still talks to the
  grader over 127.0.0.1), a PID namespace (every process of the submission dies with it), and a
  mount namespace for the kernel (the gradebook, the course's source/ and the other students'
  folders are not there);
* wall clocks: per cell (nbgrader's ``Execute.timeout``, enforced by :class:`SafeExecute`, which
  scores the cell 0, restarts the notebook and skips that cell, instead of nbgrader dropping the
  student) and per notebook (the parent kills the process group / namespace).
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import socket
import struct
import sys
from pathlib import Path


# --- operating-system mechanisms ----------------------------------------------------------------

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18


def bring_loopback_up() -> None:
    """Set the ``lo`` interface up (a new network namespace starts with it down): the kernel and
    the grader talk over 127.0.0.1. Raises OSError where that is not allowed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        request = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(sock, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sh14x", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP
    finally:
        sock.close()


def hide_paths(paths: list[str], bind: tuple[str, str] | None = None) -> list[str]:
    """In a new mount namespace, put an empty read-only tmpfs over each folder in ``paths``.

    With ``bind=(folder, mountpoint)``, ``folder`` is first bind-mounted on ``mountpoint`` (an empty
    folder outside ``paths``), and a working directory inside ``folder`` moves to the same place
    under ``mountpoint``: the kernel keeps its own files while the folder they live in is hidden.

    Needs CAP_SYS_ADMIN in the current user namespace (true inside ``unshare --user
    --map-root-user``). Returns the folders hidden; raises OSError if the namespace cannot be made.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "making / private failed")
    cwd = None
    if bind:
        folder, mountpoint = bind
        if libc.mount(os.fsencode(folder), os.fsencode(mountpoint), None, MS_BIND | MS_REC, None) != 0:
            raise OSError(ctypes.get_errno(), f"bind-mounting {folder} failed")
        here = os.getcwd()
        if here == folder or here.startswith(folder.rstrip("/") + "/"):
            cwd = mountpoint + here[len(folder.rstrip("/")):]
    hidden = []
    for path in paths:
        if os.path.isdir(path) and libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs",
                                              MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0555") == 0:
            hidden.append(path)
    if cwd:
        os.chdir(cwd)  # from the bound copy: ".." must not lead back into a hidden folder
    return hidden


def set_limits(limits: dict) -> None:
    """Resource limits of this process and its children (``limits`` as in ``limits.Limits.rlimits``):
    ``{"RLIMIT_AS": bytes, "RLIMIT_NPROC": n, "RLIMIT_CPU": s, "RLIMIT_FSIZE": bytes, ...}``."""
    for name, value in limits.items():
        which = getattr(resource, name)
        soft, hard = resource.getrlimit(which)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def probe() -> dict:
    """What works in this process: run by ``limits.mechanisms()`` inside the same ``unshare``."""
    found = {"uid": os.getuid(), "pid": os.getpid()}
    try:
        bring_loopback_up()
        found["loopback"] = True
    except OSError as err:
        found["loopback"] = f"no: {err}"
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=1).close()  # TEST-NET-1: never routable
        found["network"] = "reachable"
    except OSError as err:
        found["network"] = f"unreachable ({err.strerror or err})"
    probe_dir = os.environ.get("COURSE_PROBE_DIR")
    try:
        hide_paths([probe_dir] if probe_dir else [])
        found["hide"] = bool(probe_dir) and os.listdir(probe_dir) == []
    except OSError as err:
        found["hide"] = f"no: {err}"
    return found


# --- the kernel wrapper -------------------------------------------------------------------------

def kernel_main(spec_path: str, argv: list[str]) -> None:
    """Hide the instructor's folders, set the limits, then exec the kernel command ``argv``."""
    spec = json.loads(Path(spec_path).read_text())
    if spec.get("hide"):
        try:
            hide_paths(spec["hide"], tuple(spec["bind"]) if spec.get("bind") else None)
        except OSError as err:  # no mount namespace here: the fallback (see docs/instructors.md)
            print(f"grader: could not hide the course folders ({err})", file=sys.stderr)
        else:
            if spec.get("bind"):  # paths into the bound folder (connection file, HOME, TMPDIR): moved too
                folder, mountpoint = spec["bind"]
                move = lambda v: mountpoint + v[len(folder):] if v == folder or v.startswith(folder + "/") else v  # noqa: E731
                argv = [move(a) for a in argv]
                for key, value in list(os.environ.items()):
                    os.environ[key] = move(value)
    set_limits(spec.get("rlimits", {}))
    os.execv(argv[0], argv)


# --- grading one submission (nbgrader's autograde with SafeExecute) ----------------------------

def grade(spec_path: str) -> int:
    """Bring the loopback interface up (in a network namespace), then autograde (``execute.grade``)."""
    spec = json.loads(Path(spec_path).read_text())
    loopback = None
    if spec.get("network_namespace"):
        try:
            bring_loopback_up()
            loopback = True
        except OSError as err:
            loopback = str(err)
    from course_admin.execute import grade as grade_submission  # nbgrader: only in the grading process

    return grade_submission(spec_path, loopback)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["kernel"]:
        split = argv.index("--")
        kernel_main(argv[1], argv[split + 1:])
        return 1  # not reached: exec
    if argv[:1] == ["grade"]:
        return grade(argv[1])
    if argv[:1] == ["probe"]:
        print(json.dumps(probe()))
        return 0
    print("usage: python .../course_admin/jail.py grade SPEC | kernel SPEC -- CMD... | probe", file=sys.stderr)
    return 2


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        # run by path: the project folder, not this one, so that `course_admin` imports even from a checkout
        # installed before the package existed, and this folder's modules do not shadow top-level names
        sys.path[0] = str(Path(__file__).resolve().parents[1])
    sys.exit(main())
