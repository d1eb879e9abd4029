"""The bubblewrap sandbox (course_admin/bwrap.py) holds: each test runs a small ``python -I -c``
program inside :class:`BwrapSandbox` and checks one property the grader relies on (unprivileged,
no capabilities, hidden checkout and host /tmp, read-only system and venv, only the given
environment, its own /proc and root, no mounts, no network or host sockets, a /tmp quota,
process and memory limits, pipes passed through, torch importable).

Skips when bwrap is missing or does not work here, except with ``COURSE_SANDBOX_TEST=required``
(``.ci/run`` sets it), where it fails. About 15 s on 2 shared cores (torch's import inside is
1.2 to 2 s of it).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import course_lib
from course_admin import bwrap

CHECKOUT = Path(__file__).resolve().parents[1]
COURSE_LIB = Path(course_lib.__file__).resolve().parent


@pytest.fixture(autouse=True)
def _bwrap_or_skip():
    ok, why = bwrap.available()
    if not ok:
        if os.environ.get("COURSE_SANDBOX_TEST") == "required":
            pytest.fail(f"COURSE_SANDBOX_TEST=required but the sandbox does not work: {why}")
        pytest.skip(why)


@pytest.fixture()
def work(tmp_path):
    w = tmp_path / "work"
    w.mkdir()
    return w


def run(code: str, work: Path, timeout: float = 60, **kw) -> dict:
    """Run ``code`` in a sandbox; it prints one JSON line, returned as a dict."""
    sandbox = bwrap.BwrapSandbox(kw.pop("ro_paths", []), str(work), **kw)
    code = TRY + textwrap.dedent(code[len(TRY):]) if code.startswith(TRY) else textwrap.dedent(code)
    out = subprocess.run(sandbox.command([sys.executable, "-I", "-c", code]),
                         capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


TRY = """
import errno, json, os
def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
"""


def test_uid_is_unprivileged_and_has_no_capabilities(work):
    got = run("""
        import json, os
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
        print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
                          "eff": status["CapEff"].strip(), "prm": status["CapPrm"].strip(),
                          "bnd": status["CapBnd"].strip()}))""", work)
    assert got["uid"] == got["euid"] == got["gid"] == bwrap.SANDBOX_UID != 0
    assert int(got["eff"], 16) == 0 and int(got["prm"], 16) == 0 and int(got["bnd"], 16) == 0, got


def test_checkout_git_assignments_and_host_tmp_are_not_visible(work):
    with tempfile.TemporaryDirectory(dir="/tmp") as host_tmp:
        Path(host_tmp, "secret.txt").write_text("hidden test")
        got = run(f"""
            import json, os
            paths = {[str(CHECKOUT / ".git"), str(CHECKOUT / "assignments"), str(CHECKOUT / "course_admin"),
                      str(CHECKOUT / "pyproject.toml"), host_tmp, str(Path(host_tmp, "secret.txt")), "/run",
                      "/var", "/home", "/etc/passwd", "/etc/shadow"]!r}
            print(json.dumps({{"seen": [p for p in paths if os.path.lexists(p)],
                               "tmp": os.listdir("/tmp"), "course_lib": os.path.isdir({str(COURSE_LIB)!r})}}))""",
                  work)
    # a checkout under the host's /tmp (CI may clone there): bwrap makes the folders that lead to the bound
    # course_lib inside the sandbox's own /tmp; only that first folder may be listed, nothing of the host's
    mountpoints = [Path(str(COURSE_LIB)).relative_to("/tmp").parts[0]] if str(COURSE_LIB).startswith("/tmp/") else []
    assert got["seen"] == [] and got["tmp"] == mountpoints, got
    assert got["course_lib"] is True


def test_extra_read_only_paths_even_under_the_hosts_tmp(work):
    """What the grader adds (ro_paths) is there and read-only, also under the host's /tmp (a
    checkout in /tmp, as CI may have it), while the rest of the host's /tmp is not."""
    with tempfile.TemporaryDirectory(dir="/tmp") as host_tmp:
        Path(host_tmp, "server").mkdir()
        Path(host_tmp, "server", "server.py").write_text("print('served')")
        Path(host_tmp, "hidden.txt").write_text("hidden test")
        got = run(TRY + f"""
            import subprocess, sys
            print(json.dumps({{"read": open({host_tmp!r} + "/server/server.py").read(),
                               "write": attempt(lambda: open({host_tmp!r} + "/server/x.py", "w")),
                               "hidden": os.path.exists({host_tmp!r} + "/hidden.txt")}}))""",
                  work, ro_paths=[str(Path(host_tmp, "server"))])
    assert got == {"read": "print('served')", "write": "EROFS", "hidden": False}, got


def test_no_descriptor_of_the_host_is_inherited(work):
    """Only stdin, stdout and stderr come in (an open folder of the host would be a way out)."""
    got = run("""
        import json, os
        fds = {}
        for f in os.listdir("/proc/self/fd"):
            try:
                fds[f] = os.readlink("/proc/self/fd/" + f)
            except OSError:  # listdir's own descriptor, closed by now
                pass
        print(json.dumps(fds))""", work)
    assert set(got) == {"0", "1", "2"}, got


def test_root_venv_and_course_lib_are_read_only(work):
    site = sysconfig.get_paths()["purelib"]
    try:
        _read_only(work, site)
    finally:  # a broken sandbox must not leave a .pth in the venv
        for path in (Path(site, "evil.pth"), COURSE_LIB / "evil.py"):
            if path.exists():
                path.unlink()


def _read_only(work, site):
    got = run(TRY + f"""
        print(json.dumps({{
            "pth": attempt(lambda: open({site!r} + "/evil.pth", "w")),
            "course_lib": attempt(lambda: open({str(COURSE_LIB / "evil.py")!r}, "w")),
            "course_lib_init": attempt(lambda: open({str(COURSE_LIB / "__init__.py")!r}, "a")),
            "root": attempt(lambda: open("/evil", "w")),
            "usr": attempt(lambda: open("/usr/evil", "w")),
            "stdlib": attempt(lambda: open({os.path.realpath(os.__file__)!r}, "a")),
            "chmod": attempt(lambda: os.chmod({site!r}, {os.stat(site).st_mode & 0o7777})),  # same mode
            "work": attempt(lambda: open("/work/mine.txt", "w").write("x")),
        }}))""", work)
    assert got.pop("work") == "ok"
    assert {k: v for k, v in got.items() if v not in ("EROFS", "EACCES", "EPERM")} == {}
    assert (work / "mine.txt").read_text() == "x"  # /work is the host's workdir
    made = {p.name for p in work.iterdir()} - {"mine.txt"}  # mount points of read-only paths under /work
    assert made == {m.split("/")[0] for m in bwrap.BwrapSandbox([], str(work)).workdir_mountpoints}
    assert not Path(site, "evil.pth").exists() and not (COURSE_LIB / "evil.py").exists()


def test_environment_has_only_what_was_given(work, monkeypatch):
    monkeypatch.setenv("COURSE_INSTRUCTOR_SECRET", "s3cret-answer-key")
    got = run("import json, os; print(json.dumps(dict(os.environ)))", work, env={"GIVEN": "yes"})
    assert "s3cret-answer-key" not in json.dumps(got)
    assert set(got) <= {"PATH", "HOME", "TMPDIR", "LANG", "GIVEN", "PWD"}, got
    assert got["GIVEN"] == "yes" and got["HOME"] == "/work" and got["TMPDIR"] == "/tmp"


def test_proc_shows_only_the_sandbox_and_its_root_is_the_sandboxs(work):
    with tempfile.TemporaryDirectory(dir="/tmp") as host_tmp:
        marker = Path(host_tmp, "marker")
        marker.write_text("host")
        got = run(f"""
            import json, os
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            print(json.dumps({{"pids": pids, "ppid": os.getppid(),
                "via1": os.path.exists("/proc/1/root" + {str(marker)!r}),
                "via_grader": os.path.exists("/proc/{os.getpid()}/root" + {str(marker)!r}),
                "root1": sorted(os.listdir("/proc/1/root")), "root": sorted(os.listdir("/"))}}))""", work)
    assert len(got["pids"]) <= 3 and all(int(p) <= 10 for p in got["pids"]), got["pids"]
    assert got["via1"] is False and got["via_grader"] is False
    assert got["root1"] == got["root"] and "work" in got["root"]


def test_mount_umount_and_new_user_namespaces_fail(work):
    got = run(TRY + f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def call(f, *args):
            def go():
                if f(*args) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, os.strerror(e))
            return go
        print(json.dumps({{
            "mount": attempt(call(libc.mount, b"none", b"/tmp", b"tmpfs", 0, None)),
            "umount": attempt(call(libc.umount2, {str(COURSE_LIB).encode()!r}, 0)),
            "remount_rw": attempt(call(libc.mount, b"none", {str(COURSE_LIB).encode()!r}, None, 32 | 4096, None)),
            "unshare_user": attempt(call(libc.unshare, 0x10000000)),
            "unshare_mount": attempt(call(libc.unshare, 0x00020000)),
        }}))""", work)
    assert all(v in ("EPERM", "ENOSPC", "EINVAL") for v in got.values()), got
    assert got["mount"] == got["umount"] == got["unshare_mount"] == "EPERM", got


def test_no_network_and_no_host_loopback(work):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        got = run(TRY + f"""
            import socket
            def connect(addr):
                def go():
                    s = socket.socket()
                    s.settimeout(5)
                    s.connect(addr)
                return go
            print(json.dumps({{"dns": attempt(connect(("1.1.1.1", 53))),
                               "host": attempt(connect(("127.0.0.1", {port})))}}))""", work)
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
    assert got["dns"] in ("ENETUNREACH", "EHOSTUNREACH"), got
    assert got["host"] in ("ECONNREFUSED", "ENETUNREACH"), got


def test_host_unix_sockets_cannot_be_reached(work):
    with tempfile.TemporaryDirectory(dir="/tmp") as host_tmp:
        path = os.path.join(host_tmp, "grader.sock")
        abstract = f"\0course-bwrap-test-{os.getpid()}"
        servers = []
        for addr in (path, abstract):
            s = socket.socket(socket.AF_UNIX)
            s.bind(addr)
            s.listen(5)
            s.setblocking(False)
            servers.append(s)
        try:
            got = run(TRY + f"""
                import socket
                def connect(addr):
                    def go():
                        socket.socket(socket.AF_UNIX).connect(addr)
                    return go
                print(json.dumps({{"path": attempt(connect({path!r})), "abstract": attempt(connect({abstract!r}))}}))""",
                      work)
            for s in servers:
                with pytest.raises(BlockingIOError):
                    s.accept()
        finally:
            for s in servers:
                s.close()
    assert got["path"] == "ENOENT" and got["abstract"] == "ECONNREFUSED", got


def test_tmp_and_shm_are_size_limited_and_the_rest_read_only(work):
    got = run(TRY + """
        def fill(path):
            written = 0
            try:
                with open(path, "wb") as f:
                    for _ in range(64):
                        f.write(b"x" * 2**20)
                        f.flush()
                        written += 2**20
                return "ok", written
            except OSError as e:
                return errno.errorcode[e.errno], written
        print(json.dumps({"tmp": fill("/tmp/fill"), "shm": fill("/dev/shm/fill"),
                          "dev": attempt(lambda: open("/dev/x", "wb").write(b"x")),
                          "root": attempt(lambda: open("/x", "wb").write(b"x")),
                          "null": attempt(lambda: open("/dev/null", "wb").write(b"x"))}))""", work, tmp_mb=8)
    assert got["tmp"] == ["ENOSPC", 8 * 2**20] and got["shm"] == ["ENOSPC", 8 * 2**20], got
    assert got["dev"] == got["root"] == "EROFS" and got["null"] == "ok", got


def test_work_mb_gives_work_a_quota_and_keeps_the_host_folder(work):
    (work / "given.txt").write_text("the student's file")
    got = run(TRY + """
        def fill():
            with open("/work/fill", "wb") as f:
                for _ in range(64):
                    f.write(b"x" * 2**20)
                    f.flush()
        print(json.dumps({"given": open("/work/given.txt").read(), "fill": attempt(fill),
                          "size": os.path.getsize("/work/fill"),
                          "source": attempt(lambda: open("/.workdir/x", "w"))}))""", work, work_mb=8)
    assert got["given"] == "the student's file" and got["fill"] == "ENOSPC" and got["size"] <= 8 * 2**20, got
    assert got["source"] == "EROFS"
    assert sorted(p.name for p in work.iterdir()) == ["given.txt"]
    assert bwrap.BwrapSandbox([], str(work), work_mb=8).workdir_mountpoints == []


def test_rlimits_are_set_inside(work):
    limits = {"RLIMIT_AS": 3 * 2**30, "RLIMIT_NPROC": 40, "RLIMIT_FSIZE": 2**20, "RLIMIT_CPU": 100,
              "RLIMIT_CORE": 0}
    got = run(TRY + """
        import resource
        print(json.dumps({k: resource.getrlimit(getattr(resource, k))[0] for k in
                          ["RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_CORE"]}
                         | {"big": attempt(lambda: open("/work/big", "wb").write(b"x" * 2**21))}))""",
              work, rlimits=limits)
    assert got.pop("big") == "EFBIG"
    assert got == limits


def test_ten_gb_allocation_fails(work):
    got = run("""
        import json
        try:
            b = bytearray(10 * 2**30)
            r = "allocated"
        except MemoryError:
            r = "MemoryError"
        print(json.dumps({"r": r}))""", work, rlimits={"RLIMIT_AS": 6 * 2**30})
    assert got["r"] == "MemoryError"


FORK = """
    import json, os, time
    n = 0
    while n < 200:  # bounded, so that a broken sandbox fails the test rather than the machine
        try:
            pid = os.fork()
        except OSError as e:
            break
        if pid == 0:
            time.sleep(30)  # forked and sleeping: gone only if the sandbox's end kills them
            os._exit(0)
        n += 1
    print(json.dumps({"forked": n, "procs": len([p for p in os.listdir("/proc") if p.isdigit()])}), flush=True)
    os._exit(0)"""


def test_fork_bomb_is_contained(work):
    """Forking until refused: refused at the limit (RLIMIT_NPROC, or the pids cgroup when the
    grader is root), and the sleeping children are gone when the sandbox's command ends. Skips
    for a root grader without a writable pids cgroup (nothing caps it there; describe() says so)."""
    from course_admin.limits import PidsCgroup
    if os.geteuid() == 0 and PidsCgroup.root() is None:
        pytest.skip("root without a writable pids cgroup: RLIMIT_NPROC does not bind root, nothing caps a fork bomb")
    start = time.monotonic()
    got = run(FORK, work, timeout=60, rlimits={"RLIMIT_NPROC": 32})
    assert got["forked"] < 32 + bwrap.NPROC_SLACK and got["procs"] <= 32 + bwrap.NPROC_SLACK, got
    assert time.monotonic() - start < 25  # not waiting for the sleepers
    out = subprocess.run(["pgrep", "-f", "forked and sleeping"], capture_output=True, text=True)
    assert out.stdout.strip() == "", out.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the pids cgroup is for a grader that is root")
def test_pids_cgroup_of_a_root_grader_is_removed_afterwards(work):
    from course_admin.limits import PidsCgroup
    if PidsCgroup.root() is None:
        pytest.skip("no writable pids cgroup here")
    sandbox = bwrap.BwrapSandbox([], str(work), rlimits={"RLIMIT_NPROC": 16})
    p = subprocess.Popen(sandbox.command([sys.executable, "-I", "-c", "import time; time.sleep(2)"]))
    try:
        cgroup = Path("/")
        for _ in range(200):  # bwrap, once the launcher has moved it into its cgroup
            for child in Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split():
                lines = Path(f"/proc/{child}/cgroup").read_text().splitlines()
                line = [l for l in lines if ":pids:" in l] or [l for l in lines if l.startswith("0::")]
                cgroup = Path(str(PidsCgroup.root()) + line[0].split(":", 2)[2])
            if cgroup.name.startswith("course-bwrap-"):
                break
            time.sleep(0.02)
        assert cgroup.name.startswith("course-bwrap-") and (cgroup / "pids.max").read_text().strip() == "20"
        assert p.wait(timeout=60) == 0
    finally:
        p.kill()
    assert not cgroup.exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not os.path.exists("/usr/bin/python3"),
                    reason="shows a grader that is an ordinary user, from root (setpriv, the system's python3)")
def test_a_grader_that_is_an_ordinary_user_gets_the_same_sandbox(monkeypatch):
    """As instructors run it: bwrap started by an unprivileged user (here nobody, through
    setpriv; the system's python3, since the venv's interpreter may live in root's home). The
    uid is 65534 and without capabilities, / is read-only, /work writable, and RLIMIT_NPROC caps
    the sandbox's own processes even while the same user has more processes outside."""
    monkeypatch.setattr(bwrap, "_python_prefixes", lambda: [])
    work = tempfile.mkdtemp(prefix="course-bwrap-test-")
    os.chown(work, 65534, 65534)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    outside = [subprocess.Popen(nobody + ["sleep", "60"]) for _ in range(12)]
    try:
        sandbox = bwrap.BwrapSandbox([], work, python="/usr/bin/python3", pids_cgroup=False,
                                     rlimits={"RLIMIT_NPROC": 10, "RLIMIT_AS": 2 * 2**30})
        code = textwrap.dedent(FORK).replace('print(json.dumps({', """st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
print(json.dumps({"uid": os.getuid(), "cap": st["CapEff"].strip(), "root_w": os.access("/", os.W_OK),
    "work_w": os.access("/work", os.W_OK), """)
        out = subprocess.run(nobody + sandbox.command(["/usr/bin/python3", "-I", "-c", code]),
                             capture_output=True, text=True, timeout=60)
    finally:
        for p in outside:
            p.kill()
        shutil.rmtree(work, ignore_errors=True)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert got["uid"] == 65534 and int(got["cap"], 16) == 0 and not got["root_w"] and got["work_w"], got
    assert 0 < got["forked"] < 10, got


def test_sandbox_dies_with_the_grader(work):
    """A "grader" process starts the sandbox and is killed (SIGKILL): the sandbox goes too."""
    marker = f"course-bwrap-orphan-{os.getpid()}"
    sandbox = bwrap.BwrapSandbox([], str(work))
    code = f"import time; open('/work/started', 'w').close(); time.sleep(60)  # {marker}"
    cmd = sandbox.command([sys.executable, "-I", "-c", code])
    grader = subprocess.Popen([sys.executable, "-c", f"import subprocess, time; subprocess.Popen({cmd!r}); time.sleep(60)"])
    try:
        for _ in range(200):
            if (work / "started").exists():
                break
            time.sleep(0.1)
        else:
            pytest.fail("the sandbox did not start")
        grader.kill()
        grader.wait()
        for _ in range(100):
            if subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0:
                return
            time.sleep(0.1)
        pytest.fail("the sandbox outlived the grader that started it")
    finally:
        grader.kill()
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
        for pid in left:  # only what this test started: the marker holds the test's pid
            os.kill(int(pid), 9)


def test_no_way_to_the_graders_terminal(work):
    """Started with a terminal as its controlling terminal (as when an instructor grades in a
    shell), the sandbox cannot open it (``/dev/tty``) or type into it (TIOCSTI): a new session."""
    import fcntl
    import pty
    import termios
    leader, follower = pty.openpty()
    sandbox = bwrap.BwrapSandbox([], str(work))
    code = TRY + textwrap.dedent("""
        import fcntl, termios
        print(json.dumps({"tty": attempt(lambda: open("/dev/tty", "w")),
                          "sti": attempt(lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x"))}))""")

    def take_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        out = subprocess.run(sandbox.command([sys.executable, "-I", "-c", code]), stdin=follower,
                             capture_output=True, text=True, timeout=60, start_new_session=True,
                             preexec_fn=take_terminal)
    finally:
        os.close(follower)
        os.close(leader)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["tty"] == "ENXIO" and got["sti"] in ("EPERM", "EIO"), got


def test_stdin_and_stdout_pass_through(work):
    sandbox = bwrap.BwrapSandbox([], str(work))
    code = "import sys\nfor line in sys.stdin:\n    print(line.strip().upper(), flush=True)"
    p = subprocess.Popen(sandbox.command([sys.executable, "-I", "-c", code]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        for word in ("hello", "sandbox"):
            p.stdin.write(word + "\n")
            p.stdin.flush()
            assert p.stdout.readline() == word.upper() + "\n"
        p.stdin.close()
        assert p.wait(timeout=30) == 0
    finally:
        p.kill()


def test_exit_status_passes_through(work):
    sandbox = bwrap.BwrapSandbox([], str(work))
    for code, status in (("import sys; sys.exit(3)", 3), ("import os; os.kill(os.getpid(), 9)", 128 + 9)):
        assert subprocess.run(sandbox.command([sys.executable, "-I", "-c", code]), timeout=60).returncode == status


def test_torch_and_course_lib_import_inside(work):
    got = run("""
        import json, time
        t = time.perf_counter()
        import torch
        import course_lib
        dt = time.perf_counter() - t
        print(json.dumps({"s": dt, "sum": float(torch.ones(3).sum()), "lib": course_lib.__file__}))""",
              work, rlimits={"RLIMIT_AS": 6 * 2**30, "RLIMIT_NPROC": 64})
    print(f"torch + course_lib import inside the sandbox: {got['s']:.2f} s")
    assert got["sum"] == 3.0 and got["lib"].startswith(str(COURSE_LIB)) and got["s"] < 60


def test_describe_reports_version_and_that_it_works():
    lines = bwrap.describe()
    assert lines[0].startswith("bwrap: ") and "bubblewrap" in lines[0]
    assert lines[1] == "bwrap sandbox works: yes"


def test_an_older_bwrap_without_size_and_disable_userns_still_runs(work, monkeypatch):
    """bubblewrap < 0.8 (Ubuntu 22.04 has 0.6) knows neither ``--size`` nor ``--disable-userns``:
    the sandbox is made without them, and describe() says which limits are then missing."""
    monkeypatch.setattr(bwrap, "_supports", lambda option: False)
    cmd = bwrap.BwrapSandbox([], str(work)).command([sys.executable, "-I", "-c", "print('ok')"])
    assert "--size" not in cmd and "--disable-userns" not in cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "ok\n", out.stderr
    # "root" in a user namespace of its own: it can mount a tmpfs there, not undo bwrap's mounts
    got = run(TRY + f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def call(f, *args):
            def go():
                if f(*args) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, os.strerror(e))
            return go
        print(json.dumps({{
            "unshare": attempt(call(libc.unshare, 0x10000000 | 0x00020000)),
            "tmpfs": attempt(call(libc.mount, b"none", b"/tmp", b"tmpfs", 0, None)),
            "umount": attempt(call(libc.umount2, {str(COURSE_LIB).encode()!r}, 0)),
            "remount_rw": attempt(call(libc.mount, None, {str(COURSE_LIB).encode()!r}, None, 32 | 4096, None)),
            "write": attempt(lambda: open({str(COURSE_LIB / "evil.py")!r}, "w")),
        }}))""", work)
    assert got["unshare"] == "ok" and got["tmpfs"] == "ok", got
    # with the checkout under /tmp, the tmpfs a nested namespace mounts on /tmp hides course_lib there (ENOENT):
    # our bind is still underneath, and nothing reaches the host's folder either way
    hidden = ("ENOENT",) if str(COURSE_LIB).startswith("/tmp/") else ()
    assert got["umount"] in ("EINVAL", "EPERM") + hidden and got["remount_rw"] in ("EPERM",) + hidden \
        and got["write"] in ("EROFS",) + hidden, got
    text = "\n".join(bwrap.describe())
    assert "size limit: NO" in text and "nested user namespaces: ALLOWED" in text
