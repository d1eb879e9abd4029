"""``python -m course_admin lab``: JupyterLab that sees the course's nbgrader configuration.

nbgrader's server extensions (Formgrader, the Validate button, the assignment list) read
``nbgrader_config.py`` from the folder the Jupyter server was started in. Started at the root of
the checkout, where the README says to start Lab, they find none, and Formgrader shows "No data
available". This command starts ``jupyter lab`` from the course folder (so its ``nbgrader_config.py``
is read) with Lab's file browser rooted at the checkout (or ``--root``), which must contain the
course: Formgrader lists the course's assignments and the notebooks are a click away.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .course import REPO


@dataclass
class LabLaunch:
    """How to start Lab for a course: the command, the folder to start it in, its environment."""

    command: list[str]
    cwd: Path
    env: dict[str, str]
    course: Path
    root: Path


def lab_launch(course: Path, root: Path | None = None, jupyter_args: Sequence[str] = (),
               environ: dict[str, str] | None = None) -> LabLaunch:
    """The ``jupyter lab`` command for ``course`` (a folder with an ``nbgrader_config.py``).

    Args:
        course: the nbgrader course folder.
        root: the folder Lab's file browser shows; it must contain ``course``. Default: the
            checkout when the course is inside it, else the course folder itself.
        jupyter_args: more options for ``jupyter lab`` (e.g. ``--no-browser``, ``--port=8899``).
        environ: the environment to start from (default: this process's).

    Raises:
        ValueError: the course has no ``nbgrader_config.py``, or ``root`` does not contain it.
    """
    course = Path(course).expanduser().resolve()
    if not (course / "nbgrader_config.py").is_file():
        raise ValueError(f"{course} has no nbgrader_config.py: pass --course with the nbgrader course folder "
                         f"(the checkout's is {REPO / 'assignments'})")
    if root is None:
        root = REPO if course.is_relative_to(REPO) else course
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"--root {root} is not a folder")
    if not course.is_relative_to(root):
        raise ValueError(f"--root {root} does not contain the course {course}: nbgrader's Formgrader only works "
                         f"when the course is inside the folder Lab shows; use a folder above the course")
    env = dict(os.environ if environ is None else environ)
    # nbgrader runs `alembic` by name, and the python3 kernelspec starts `python` by name: this
    # interpreter's folder first, so both come from the environment the course is installed in.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", *jupyter_args]
    return LabLaunch(command=command, cwd=course, env=env, course=course, root=root)


def start_lab(launch: LabLaunch) -> int:
    """Become ``jupyter lab`` as described by ``launch`` (POSIX: the process is replaced, so Ctrl-C
    and the server's own prompts work as usual; elsewhere: run it and return its exit status)."""
    relative = launch.course.relative_to(launch.root)
    print(f"JupyterLab on {launch.root}, nbgrader course {launch.course}\n"
          f"Formgrader: menu Nbgrader > Formgrader (or the URL below + /formgrader); "
          f"the course is {relative.as_posix() if relative.parts else 'the root'} in the file browser", flush=True)
    os.chdir(launch.cwd)
    if os.name == "posix":
        os.execve(launch.command[0], launch.command, launch.env)
    import subprocess

    return subprocess.call(launch.command, cwd=launch.cwd, env=launch.env)
