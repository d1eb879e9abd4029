"""The release's setup cell: a released notebook that installs the course library where it is missing.

A student who gets only ``release/<a>/<a>.ipynb`` has no ``course_lib``, and the notebook's
locked setup cell imports it. :func:`add_setup_cell` puts one more cell in front of that one
(after generate_assignment, in the release only; ``source/`` is never touched). The cell does
nothing where ``course_lib`` can be imported (the course's checkout, the grading sandbox, CI);
elsewhere it runs ``pip install`` in the kernel's own Python, from one of:

* ``wheel``: ``course_lib-<version>-py3-none-any.whl``, built by ``python -m course_admin wheel``
  into ``<course>/release/`` and linked beside every released notebook (and, with
  ``--wheel-url``, downloaded from there when the file is not beside the notebook);
* ``repository``: ``git+<repository>@<ref>``, the published repository of
  ``[tool.course] repository`` in the checkout's ``pyproject.toml`` (``branch`` there, or
  ``--ref`` for a tag or commit to pin);
* ``none``: no source is known; the cell then says what is missing instead of failing at the import.

``auto`` (the default) takes ``wheel`` when ``release/`` holds a wheel, else ``repository`` when
it is configured, else ``none``. The cell has no nbgrader metadata, so it is neither graded nor
restored by the grader; it carries the tag :data:`TAG`.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import REPO

TAG = "course-lib-setup"
MODES = ("auto", "wheel", "repository", "none")
WHEEL_GLOB = "course_lib-*-py3-none-any.whl"
# What goes into the wheel: the packages and the files pyproject.toml refers to.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "course_lib", "course_admin")

_HEAD = '''\
# Setup of the course library (added when this assignment was released; not graded).
# Where this Python lacks course_lib, this cell installs it with pip, once (a few minutes: PyTorch
# comes with it); where course_lib is installed already, it does nothing.
import importlib.util as _course_lib_util
if _course_lib_util.find_spec("course_lib") is None:
    import importlib as _course_lib_importlib, os as _course_lib_os, subprocess as _course_lib_sub, sys as _course_lib_sys
'''
_WHEEL = '''\
    _course_lib_wheel = {wheel!r}  # your instructor's file, beside this notebook
    _course_lib_url = {url!r}
    _course_lib_target = _course_lib_wheel if _course_lib_os.path.isfile(_course_lib_wheel) else _course_lib_url
    if not _course_lib_target:
        raise FileNotFoundError(f"course_lib is not installed, and {{_course_lib_wheel}} is not in "
                                f"{{_course_lib_os.getcwd()}}: put the file your instructor gave you there "
                                "(beside this notebook) and run this cell again")
'''
_REPOSITORY = '''\
    _course_lib_target = {requirement!r}
'''
_NONE = '''\
    raise ModuleNotFoundError("course_lib, the course library, is not installed in this notebook's Python: "
                              "install it as your instructor says (pip install ...) and run this cell again")
'''
_TAIL = '''\
    print(f"installing the course library: pip install {_course_lib_target}")
    _course_lib_pip = _course_lib_sub.run([_course_lib_sys.executable, "-m", "pip", "install", _course_lib_target],
                                          capture_output=True, text=True)
    if _course_lib_pip.returncode != 0:
        print(_course_lib_pip.stdout[-4000:], _course_lib_pip.stderr[-4000:], sep="\\n")
        raise RuntimeError(f"pip could not install {_course_lib_target} (exit status {_course_lib_pip.returncode}); "
                           "its last messages are above. Fix what they say (network, disk space, a missing "
                           "pip or git) and run this cell again, or install course_lib yourself.")
    _course_lib_importlib.invalidate_caches()
    if _course_lib_util.find_spec("course_lib") is None:
        raise RuntimeError("course_lib is installed but this kernel does not see it yet: "
                           "restart the kernel (Kernel > Restart Kernel) and run the notebook again")
    print("course_lib installed")
'''


@dataclass(frozen=True)
class Install:
    """Where the setup cell installs ``course_lib`` from.

    Attributes:
        mode: ``wheel``, ``repository`` or ``none``.
        wheel: the wheel file (mode ``wheel``), in ``<course>/release/``.
        url: mode ``wheel``: where the wheel can be downloaded when it is not beside the notebook
            (or ``None``); mode ``repository``: what pip installs, ``git+<repository>@<ref>``.
    """

    mode: str
    wheel: Path | None = None
    url: str | None = None

    def describe(self) -> str:
        """One line for the instructor: what the released notebooks will install."""
        if self.mode == "wheel":
            extra = f", else from {self.url}" if self.url else ""
            return f"the setup cell installs {self.wheel.name} (beside each notebook{extra}) where course_lib is missing"
        if self.mode == "repository":
            return f"the setup cell installs `{self.url}` where course_lib is missing"
        return ("WARNING: the setup cell cannot install course_lib (no wheel in release/, no [tool.course] "
                "repository in pyproject.toml): run `python -m course_admin wheel` or set the repository, "
                "then release again")


def course_settings(pyproject: Path = REPO / "pyproject.toml") -> dict:
    """The ``[tool.course]`` table of the checkout's ``pyproject.toml`` (``{}`` if there is none)."""
    if not Path(pyproject).is_file():
        return {}
    with open(pyproject, "rb") as f:
        return tomllib.load(f).get("tool", {}).get("course", {})


def git_requirement(repository: str, ref: str | None = None) -> str:
    """What ``pip install`` takes to install course_lib from a git repository: ``git+<URL>[@<ref>]``.

    Args:
        repository: a URL pip's git support understands (``https://...``, ``ssh://...``,
            ``file://...``) or a GitHub ``owner/name``.
        ref: a branch, tag or commit to pin (``None``: the repository's default branch).
    """
    repository = repository.strip()
    if re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        repository = f"https://github.com/{repository}"
    if not re.match(r"^(https?|ssh|file|git)://", repository):
        raise ValueError(f"[tool.course] repository = {repository!r}: give a URL (https://..., ssh://..., "
                         "file://...) or a GitHub owner/name")
    if ref is not None and not re.fullmatch(r"[\w./-]+", ref):
        raise ValueError(f"ref {ref!r}: a branch, tag or commit has no spaces or '@'")
    # The bare VCS URL, not "course_lib @ git+...": pip 23.2 refuses a file:// URL in that form
    # ("Invalid requirement"), and the bare URL works with every pip.
    return f"git+{repository}" + (f"@{ref}" if ref else "")


def find_wheel(root: Path) -> Path | None:
    """The newest wheel of course_lib in ``<course>/release/`` (``None`` if there is none)."""
    wheels = sorted((Path(root) / "release").glob(WHEEL_GLOB), key=lambda p: p.stat().st_mtime)
    return wheels[-1] if wheels else None


def choose(root: Path, mode: str = "auto", ref: str | None = None, wheel_url: str | None = None,
           settings: dict | None = None) -> Install:
    """Where the setup cell of the course ``root`` installs course_lib from (see the module's text).

    Args:
        root: the course folder (its ``release/`` may hold the wheel).
        mode: ``auto``, ``wheel``, ``repository`` or ``none``.
        ref: mode ``repository``: the branch, tag or commit (default: ``[tool.course] branch``).
        wheel_url: mode ``wheel``: a URL where students can also download the wheel.
        settings: ``[tool.course]`` (default: read from the checkout's pyproject.toml).
    """
    if mode not in MODES:
        raise ValueError(f"install mode {mode!r}: choose one of {', '.join(MODES)}")
    settings = course_settings() if settings is None else settings
    wheel = find_wheel(root)
    if mode == "auto":
        mode = "wheel" if wheel else "repository" if settings.get("repository") else "none"
    if mode == "wheel":
        if wheel is None:
            raise FileNotFoundError(f"no {WHEEL_GLOB} in {Path(root) / 'release'}: build it first with "
                                    "`python -m course_admin wheel`")
        return Install("wheel", wheel=wheel, url=wheel_url)
    if mode == "repository":
        if not settings.get("repository"):
            raise ValueError("no [tool.course] repository in pyproject.toml: set it to the published repository's "
                             "URL, or build a wheel (`python -m course_admin wheel`)")
        return Install("repository", url=git_requirement(settings["repository"], ref or settings.get("branch")))
    return Install("none")


def setup_cell_source(install: Install) -> str:
    """The code of the setup cell for ``install``."""
    if install.mode == "wheel":
        body = _WHEEL.format(wheel=install.wheel.name, url=install.url)
    elif install.mode == "repository":
        body = _REPOSITORY.format(requirement=install.url)
    else:
        return _HEAD + _NONE
    return _HEAD + body + _TAIL


def is_setup_cell(cell) -> bool:
    """Whether ``cell`` is the setup cell this module adds."""
    return TAG in cell.get("metadata", {}).get("tags", [])


def add_setup_cell(notebook: Path, install: Install) -> None:
    """Put the setup cell in the released ``notebook`` (in place), before its first code cell;
    a setup cell there already is replaced. In mode ``wheel`` the wheel is linked (or copied) beside it."""
    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if not is_setup_cell(c)]
    cell = nbformat.v4.new_code_cell(setup_cell_source(install))
    cell.metadata = {"tags": [TAG], "deletable": False}
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, cell)
    nbformat.write(nb, notebook)
    for old in notebook.parent.glob(WHEEL_GLOB):
        old.unlink()
    if install.mode == "wheel":
        beside = notebook.parent / install.wheel.name
        try:
            os.link(install.wheel, beside)
        except OSError:
            shutil.copy2(install.wheel, beside)


def build_wheel(dest: Path, source: Path = REPO) -> Path:
    """Build ``course_lib-<version>-py3-none-any.whl`` of the checkout ``source`` into ``dest``.

    ``pip wheel --no-deps`` on a clean copy of the packages (no stale ``build/``); pip fetches
    the build backend (setuptools) from its index unless it is cached. Wheels of other versions
    in ``dest`` are removed, so that ``release`` finds this one. Returns the wheel's path.
    """
    source, dest = Path(source), Path(dest)
    missing = [name for name in WHEEL_SOURCES if not (source / name).exists()]
    if missing:
        raise FileNotFoundError(f"{source} is not a checkout of the course (missing {', '.join(missing)}): "
                                "build the wheel from the repository")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "course"
        tree.mkdir()
        for name in WHEEL_SOURCES:
            if (source / name).is_dir():
                shutil.copytree(source / name, tree / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
            else:
                shutil.copy2(source / name, tree / name)
        out = Path(tmp) / "wheel"
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(tree)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pip wheel failed (exit status {done.returncode}):\n{done.stdout[-3000:]}"
                               f"\n{done.stderr[-3000:]}")
        (built,) = out.glob(WHEEL_GLOB)
        for old in dest.glob(WHEEL_GLOB):
            old.unlink()
        return Path(shutil.copy2(built, dest / built.name))
