"""Start a process (the student's side of the grader) inside bubblewrap (``bwrap``).

:class:`BwrapSandbox` builds the command line; the grader runs it as
``subprocess.Popen(sandbox.command([sys.executable, "-I", server]), stdin=PIPE, stdout=PIPE, ...)``
and talks to the process over the inherited pipes (bwrap passes stdin, stdout, stderr and any
other inherited descriptor through unchanged). The exit status is the command's, or 128 + N when
a signal N killed it (bwrap's convention). What the sandboxed process gets:

* its own user, PID, mount, network, IPC, UTS and cgroup namespaces (``--unshare-all``), uid and
  gid 65534 inside, no capabilities (``--cap-drop ALL``), no way to make a further user namespace
  (``--disable-userns``: no "root in a nested namespace" from which to remount), a new session
  (``--new-session``: no TIOCSTI into the grader's terminal), killed with the grader
  (``--die-with-parent``);
* a filesystem made only of read-only binds of what Python needs (:func:`default_ro_paths`:
  ``/usr`` and the ``/bin``, ``/lib*``, ``/sbin`` links, a few files of ``/etc``, the Python
  installation, the virtual environment, the installed ``course_lib`` package folder, never the
  checkout around it), plus :attr:`BwrapSandbox.ro_paths`; a fresh ``/proc`` of its PID
  namespace (so ``/proc/<pid>/root`` only leads to the sandbox's own root), a minimal ``/dev``,
  a size-limited tmpfs ``/tmp`` (``--size``), and the read-write ``workdir`` at ``/work``. The
  checkout's ``.git`` and ``assignments/``, the host's ``/tmp``, ``/run`` (and its sockets),
  ``/var``, ``/home`` and ``/root`` apart from the Python installation are not there;
* no network: a new network namespace has only its own loopback device (the host's
  ``127.0.0.1`` is another one), and abstract unix sockets belong to the network namespace, so
  the host's (and the grader's) are out of reach;
* an environment of exactly ``PATH``, ``HOME=/work``, ``TMPDIR=/tmp``, ``LANG=C.UTF-8`` and
  :attr:`BwrapSandbox.env` (``--clearenv``);
* the resource limits of :attr:`BwrapSandbox.rlimits`, set inside the sandbox by a three-line
  Python program that then ``exec``\\ s the command (bwrap cannot set them, and setting them
  before bwrap would also bind bwrap's own setup).

Processes: RLIMIT_NPROC is counted per user *and* per user namespace, so for a grader that runs
as an ordinary user it caps the sandbox's own processes and threads. It never binds the real
root user (the kernel exempts uid 0), and when the grader runs as root the sandbox's uid 65534
is root outside; there :meth:`BwrapSandbox.command` starts bwrap through a small launcher that
puts it in a new ``pids`` cgroup (``pids.max`` = RLIMIT_NPROC + 4) and removes the cgroup when
bwrap exits; without a writable pids cgroup, a fork bomb of a root grader is stopped only by the
grader's wall clock (:func:`describe` says which holds).

What the tmpfs does not cover: by default ``/work`` is the host folder itself, so writes there
are bounded per file by RLIMIT_FSIZE and not in total (it is not a quota; the grader gives each
submission a throwaway folder). With :attr:`BwrapSandbox.work_mb`, ``/work`` is a tmpfs of that
size holding a copy of the folder instead (a quota, and nothing written comes back). Mount points for read-only paths that lie under ``/work`` on the host (the
virtual environment at ``/work/venv`` on a machine where the checkout is ``/work/main``) are
created by bwrap as empty folders in ``workdir`` (:attr:`BwrapSandbox.workdir_mountpoints`).
When the grader runs as root, files owned by root inside the read-only binds are readable by the
sandbox as their owner (its uid 65534 is root outside); nothing secret is bound.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_UID = 65534                     # nobody: the uid and gid inside the sandbox
INSIDE_WORK = "/work"                   # where ``workdir`` appears inside
WORK_COPY_FROM = "/.workdir"            # with work_mb: where the workdir is bound read-only, copied into /work
PATH = "/usr/local/bin:/usr/bin:/bin"
SHM_MB = 64                             # size of /dev/shm (at most tmp_mb): Python's and torch's shared memory
NPROC_SLACK = 4                         # bwrap's monitor, the sandbox's pid 1 and the launcher in the pids cgroup
# /etc files the dynamic linker, Python and torch read; never all of /etc (passwords, keys, hosts)
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/nsswitch.conf", "/etc/fonts"]

# Run inside the sandbox: set the resource limits, then exec the command (argv[1] is a JSON dict).
# With work_mb, first copy the workdir (bound read-only at WORK_COPY_FROM) into the /work tmpfs; what
# cannot be copied (a name where a read-only path is mounted) is left out.
_SET_LIMITS = ("import json,os,resource,sys\n"
               "limits=json.loads(sys.argv[1])\n"
               "if limits.pop('copy_work',0):\n"
               " import shutil\n"
               " try: shutil.copytree('%s','/work',symlinks=True,dirs_exist_ok=True)\n"
               " except (shutil.Error,OSError): pass\n"
               "for k,v in limits.items(): resource.setrlimit(getattr(resource,k),(v,v))\n"
               "os.execv(sys.argv[2],sys.argv[2:])") % WORK_COPY_FROM
# Run on the host when the grader is root: bwrap in a new pids cgroup, removed when bwrap exits.
# argv: cgroup root, pids.max, bwrap command. Empty cgroups left by a killed launcher (one whose pid
# in the name is gone) are removed first; a running launcher's cgroup is never touched.
_PIDS_LAUNCHER = (
    "import ctypes,os,signal,sys,time,uuid\n"
    "ctypes.CDLL(None).prctl(1,9)\n"  # PR_SET_PDEATHSIG SIGKILL: dies with the grader, and bwrap with it
    "if os.getppid()==1: sys.exit(137)\n"
    "root,limit,cmd=sys.argv[1],sys.argv[2],sys.argv[3:]\n"
    "for n in os.listdir(root):\n"  # course-bwrap-<launcher pid>-<random>: its launcher is gone
    " try: os.kill(int(n.split('-')[2]),0) if n.startswith('course-bwrap-') else 1/0\n"
    " except ProcessLookupError:\n"
    "  try: os.rmdir(os.path.join(root,n))\n"
    "  except OSError: pass\n"
    " except Exception: pass\n"
    "cg=os.path.join(root,'course-bwrap-%d-%s'%(os.getpid(),uuid.uuid4().hex[:8]))\n"
    "os.mkdir(cg)\n"
    "open(os.path.join(cg,'pids.max'),'w').write(limit)\n"
    "pid=os.fork()\n"
    "if pid==0:\n"
    " open(os.path.join(cg,'cgroup.procs'),'w').write(str(os.getpid()))\n"
    " os.execv(cmd[0],cmd)\n"
    "st=os.waitpid(pid,0)[1]\n"
    "for _ in range(500):\n"  # whatever is left in the cgroup is killed; it may take a moment to go
    " try: os.rmdir(cg); break\n"
    " except OSError: pass\n"
    " for p in open(os.path.join(cg,'cgroup.procs')).read().split():\n"
    "  try: os.kill(int(p),9)\n"
    "  except OSError: pass\n"
    " time.sleep(0.02)\n"
    "if os.WIFSIGNALED(st):\n"  # the same status as bwrap's: killed by the same signal
    " signal.signal(os.WTERMSIG(st),signal.SIG_DFL); os.kill(os.getpid(),os.WTERMSIG(st))\n"
    "sys.exit(os.waitstatus_to_exitcode(st))")


class SandboxUnavailable(RuntimeError):
    """bwrap is not installed, or cannot make the sandbox here."""


@dataclass
class BwrapSandbox:
    """One sandbox: the paths bound into it, its working folder, its /tmp, environment and limits.

    Args:
        ro_paths: host folders or files bound read-only at the same path, on top of
            :func:`default_ro_paths` (e.g. the folder of the grader's server program).
        workdir: host folder bound read-write at ``/work``, the working directory inside.
        tmp_mb: size of the writable tmpfs ``/tmp`` in MiB (memory, counted by the kernel
            against the tmpfs size: writes past it fail with ENOSPC).
        env: the only environment variables inside besides PATH, HOME, TMPDIR and LANG.
        rlimits: ``{"RLIMIT_AS": bytes, ...}`` as :meth:`course_admin.limits.Limits.rlimits`
            returns; set inside before the command runs.
        python: the interpreter that sets the limits inside (bound by :func:`default_ro_paths`).
        pids_cgroup: as root, put bwrap in a pids cgroup (None: where one is writable).
        work_mb: None: ``workdir`` itself is ``/work`` (writes go to the host's disk, without a
            quota). A size in MiB: ``/work`` is a tmpfs of that size holding a copy of ``workdir``
            (bound read-only at ``/.workdir``), so writes there have a quota too but never reach
            the host folder.
    """

    ro_paths: list[str]
    workdir: str
    tmp_mb: int = 256
    env: dict[str, str] = field(default_factory=dict)
    rlimits: dict = field(default_factory=dict)
    python: str = sys.executable
    pids_cgroup: bool | None = None
    work_mb: int | None = None

    @property
    def workdir_mountpoints(self) -> list[str]:
        """Folders (relative to ``workdir``) that bwrap creates there as mount points of the
        read-only paths under ``/work``; empty and left behind after the sandbox ends."""
        if self.work_mb is not None:  # then they are made in the /work tmpfs
            return []
        return sorted({os.path.relpath(p, INSIDE_WORK) for p in self._binds() if _under(p, INSIDE_WORK)})

    def _binds(self) -> list[str]:
        paths = []
        for p in default_ro_paths() + [os.path.abspath(p) for p in self.ro_paths]:
            if p not in paths and os.path.lexists(p):
                paths.append(p)
        return paths

    def command(self, argv: list[str]) -> list[str]:
        """The full command line that runs ``argv`` in this sandbox.

        Raises:
            SandboxUnavailable: no bwrap on PATH.
            ValueError: ``workdir`` is not a folder, or ``argv`` is empty.
        """
        bwrap = shutil.which("bwrap")
        if not bwrap:
            raise SandboxUnavailable("bwrap (bubblewrap) is not installed")
        if not argv:
            raise ValueError("nothing to run")
        workdir = os.path.realpath(self.workdir)
        if not os.path.isdir(workdir):
            raise ValueError(f"workdir {self.workdir} is not a folder")
        cmd = [bwrap, "--unshare-all", "--unshare-user", *(["--disable-userns"] if _supports("--disable-userns") else []),
               "--die-with-parent", "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
               "--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv"]
        env = {"PATH": PATH, "HOME": INSIDE_WORK, "TMPDIR": "/tmp", "LANG": "C.UTF-8", **self.env}
        for key, value in env.items():
            cmd += ["--setenv", key, value]
        # The fresh /proc, /dev and tmpfs /tmp first, then the read-only binds (a checkout under the
        # host's /tmp stays visible: bound on top of the tmpfs), then /work, then what lies under /work.
        cmd += ["--proc", "/proc", "--dev", "/dev"]
        for path, mb in (("/tmp", self.tmp_mb), ("/dev/shm", min(self.tmp_mb, SHM_MB))):
            cmd += (["--size", str(int(mb) * 2**20)] if _supports("--size") else []) + ["--tmpfs", path]
        binds = self._binds()
        for path in [p for p in binds if not _under(p, INSIDE_WORK)]:
            cmd += _bind(path)
        if self.work_mb is None:
            cmd += ["--bind", workdir, INSIDE_WORK]
        else:
            cmd += ["--ro-bind", workdir, WORK_COPY_FROM, *(["--size", str(int(self.work_mb) * 2**20)]
                                                            if _supports("--size") else []), "--tmpfs", INSIDE_WORK]
        for path in sorted((p for p in binds if _under(p, INSIDE_WORK)), key=len):
            cmd += _bind(path)
        # bwrap's / and /dev are tmpfs without a size: read-only, or they are a way round the /tmp quota
        cmd += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", INSIDE_WORK,
                "--", self.python, "-I", "-S", "-c", _SET_LIMITS,
                json.dumps({**{k: int(v) for k, v in self.rlimits.items()},
                            **({"copy_work": 1} if self.work_mb is not None else {})}), *argv]
        if os.geteuid() == 0 and self._use_pids_cgroup():
            from .limits import PidsCgroup
            nproc = int(self.rlimits.get("RLIMIT_NPROC", 256)) + NPROC_SLACK
            cmd = [sys.executable, "-I", "-S", "-c", _PIDS_LAUNCHER, str(PidsCgroup.root()), str(nproc), *cmd]
        return cmd

    def _use_pids_cgroup(self) -> bool:
        if self.pids_cgroup is not None:
            return self.pids_cgroup
        from .limits import PidsCgroup
        return PidsCgroup.root() is not None


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _bind(path: str) -> list[str]:
    """bwrap arguments for one read-only path: a host symbolic link (``/lib -> usr/lib``) is
    made again as a link, anything else is bound read-only at the same path."""
    if os.path.islink(path) and os.path.dirname(path) == "/":
        return ["--symlink", os.readlink(path), path]
    return ["--ro-bind", path, path]


@functools.lru_cache(maxsize=None)
def _supports(option: str) -> bool:
    """Whether this bwrap knows ``option`` (``--size``: a size for the next ``--tmpfs``, and
    ``--disable-userns``, both from bubblewrap 0.8; Ubuntu 22.04 has 0.6)."""
    try:
        out = subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return f"{option} " in out.stdout + out.stderr


def _python_prefixes() -> list[str]:
    """The virtual environment and the installation its python links to (``sys.prefix``,
    ``sys.base_prefix``, and the prefix of the real interpreter file)."""
    real = Path(os.path.realpath(sys.executable))
    prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, str(real.parent.parent)]
    out = []
    for p in prefixes:
        out += [os.path.abspath(p), os.path.realpath(p)]
    return out


def default_ro_paths() -> list[str]:
    """What Python, torch and the installed ``course_lib`` need, bound read-only: ``/usr``, the
    top-level links or folders ``/bin``, ``/sbin``, ``/lib``, ``/lib32``, ``/lib64``, a few
    files of ``/etc`` (:data:`ETC_FILES`), the Python installation and the virtual environment
    (both only where they are outside ``/usr``), and the folder of the ``course_lib`` package
    (an editable install points into the checkout: only the package folder is bound, never the
    checkout with its ``.git`` and ``assignments/``). Paths missing on this machine are left out."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] + ETC_FILES
    paths += [p for p in _python_prefixes() if not _under(p, "/usr")]
    try:
        import course_lib
        paths.append(os.path.dirname(os.path.realpath(course_lib.__file__)))
    except ImportError:
        pass
    out: list[str] = []
    for p in paths:
        if os.path.lexists(p) and p not in out and not any(_under(p, q) and not os.path.islink(q) for q in out):
            out.append(p)
    return out


def version() -> str | None:
    """``bwrap --version`` (e.g. ``bubblewrap 0.8.0``), None when bwrap is not installed."""
    exe = shutil.which("bwrap")
    if not exe:
        return None
    try:
        return subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """Whether bwrap is installed and makes a working sandbox here, and if not why.

    Runs ``print("ok")`` in a sandbox as the grader would (a fraction of a second, once). Fails
    where user namespaces are switched off (``kernel.unprivileged_userns_clone=0``, AppArmor's
    ``restrict_unprivileged_userns``) for a grader that is not root.
    """
    if not shutil.which("bwrap"):
        return False, "bwrap (bubblewrap) is not installed: sudo apt-get install bubblewrap"
    with tempfile.TemporaryDirectory(prefix="course-bwrap-probe-") as work:
        try:
            out = subprocess.run(BwrapSandbox([], work).command([sys.executable, "-I", "-c", "print('ok')"]),
                                 capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired, SandboxUnavailable) as err:
            return False, f"bwrap failed: {err}"
    if out.returncode != 0 or out.stdout.strip() != "ok":
        return False, f"bwrap failed (exit {out.returncode}): {out.stderr.strip()[-300:]}"
    return True, "bwrap works"


def describe() -> list[str]:
    """Lines for ``python -m course_admin sandbox-info``: bwrap's version, whether it works, and
    which limits hold here (tmpfs size, what stops a fork bomb)."""
    ver = version()
    if ver is None:
        return ["bwrap: not installed (sudo apt-get install bubblewrap); the grader refuses to grade "
                "without it unless --unsafe-no-sandbox is given"]
    ok, why = available()
    lines = [f"bwrap: {shutil.which('bwrap')} ({ver})", f"bwrap sandbox works: {'yes' if ok else 'no: ' + why}"]
    lines.append("bwrap /tmp size limit: " + ("yes (tmpfs --size)" if _supports("--size") else
                                               "NO (bubblewrap < 0.8 has no --size: /tmp and /dev/shm are bounded only "
                                               "by RLIMIT_FSIZE per file and the machine's memory)"))
    lines.append("bwrap nested user namespaces: " + ("disabled (--disable-userns)" if _supports("--disable-userns") else
                                                      "ALLOWED (bubblewrap < 0.8): the student can mount tmpfs "
                                                      "folders of its own (memory), not unmount or remount ours"))
    if os.geteuid() != 0:
        lines.append("bwrap processes: RLIMIT_NPROC in the sandbox's user namespace")
    else:
        from .limits import PidsCgroup
        root = PidsCgroup.root()
        lines.append(f"bwrap processes: pids cgroup under {root} (grader runs as root)" if root else
                     "bwrap processes: NOT capped (root, where RLIMIT_NPROC does not bind, and no writable pids "
                     "cgroup): only the wall clock stops a fork bomb")
    return lines
