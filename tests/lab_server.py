"""A JupyterLab server for the tests, started with ``python -m course_admin lab`` on a free localhost
port with a token, in its own Jupyter config and runtime folders; stopped (and its kernels with it)
when the ``with`` block ends. Used by tests/test_lab.py and tests/test_browser.py."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Lab:
    url: str      # http://127.0.0.1:PORT
    token: str
    log: Path     # the server's output

    def get(self, path: str, timeout: float = 60):
        """GET ``path`` with the token; return (status, body text)."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def get_json(self, path: str, timeout: float = 60):
        status, body = self.get(path, timeout)
        assert status == 200, f"GET {path}: {status} {body[:500]}\n--- server log:\n{self.log_text()}"
        return json.loads(body)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_lab(course: Path, workdir: Path, root: Path | None = None, start_timeout: float = 180):
    """Start Lab for ``course`` (its file browser on ``root``); yield a :class:`Lab`."""
    token = secrets.token_hex(16)
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(workdir / "config"), JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(workdir / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"),
               OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "course_admin", "--course", str(course), "lab", "--no-browser"]
    if root is not None:
        command += ["--root", str(root)]
    command += ["--", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI and containers run as root
        command.append("--allow-root")
    log = workdir / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, log=log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{lab.log_text()}")
            try:
                if lab.get("/api/status", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer in {start_timeout} s:\n{lab.log_text()}")
            time.sleep(0.5)
        yield lab
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
