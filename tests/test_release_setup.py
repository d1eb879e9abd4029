"""The release's setup cell (course_admin.student_setup): a student with only the released notebook
can start it.

* the cell is put in front of the locked setup cell of every released notebook, once, and leaks no
  solution line; the wheel lies beside the notebook;
* the cell's code, run here with pip and the import system stubbed: it does nothing where course_lib
  is importable, installs from the wheel beside the notebook, the wheel's URL or the published
  repository, and says what is wrong when it cannot;
* end to end (about 2 to 3 minutes, most of it pip installing PyTorch): the wheel built by
  ``python -m course_admin wheel``, a01 released with it, the release folder alone copied to a
  fresh virtual environment that has only Jupyter's kernel (ipykernel, what a student's Jupyter
  provides), and run there with nbclient: the setup cell installs course_lib, the imports work, and
  the only errors are the stubs' NotImplementedError; then, in the same venv with course_lib
  uninstalled, the repository route (a ``file://`` URL of this checkout at its commit).
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import venv
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from course_admin import course as nc
from course_admin import leaks, student_setup, term

A = "a01_receptive_fields"
WHEEL_NAME = "course_lib-0.1.0-py3-none-any.whl"
INSTALLS = {
    "wheel": student_setup.Install("wheel", wheel=Path("release") / WHEEL_NAME, url="https://example.org/w.whl"),
    "repository": student_setup.Install("repository", url="git+https://example.org/course.git@v1"),
    "none": student_setup.Install("none"),
}


def released(root: Path, assignment: str = A):
    return nc.read_notebook(root / "release" / assignment / f"{assignment}.ipynb")


# --- choosing the source ----------------------------------------------------------------------

def test_git_requirement():
    assert student_setup.git_requirement("owner/name", "v2027.1") == "git+https://github.com/owner/name@v2027.1"
    assert student_setup.git_requirement("https://gitlab.example.org/x/y.git") == "git+https://gitlab.example.org/x/y.git"
    assert student_setup.git_requirement("file:///srv/course", "main").endswith("git+file:///srv/course@main")
    with pytest.raises(ValueError, match="give a URL"):
        student_setup.git_requirement("not a url")
    with pytest.raises(ValueError, match="ref"):
        student_setup.git_requirement("owner/name", "main@evil")


def test_choose(tmp_path):
    repo = {"repository": "owner/name", "branch": "term-2027"}
    assert student_setup.choose(tmp_path, settings={}).mode == "none"
    got = student_setup.choose(tmp_path, settings=repo)
    assert (got.mode, got.url) == ("repository", "git+https://github.com/owner/name@term-2027")
    assert student_setup.choose(tmp_path, "repository", ref="v1", settings=repo).url.endswith("@v1")
    with pytest.raises(FileNotFoundError, match="course_admin wheel"):
        student_setup.choose(tmp_path, "wheel", settings=repo)
    with pytest.raises(ValueError, match=r"\[tool.course\] repository"):
        student_setup.choose(tmp_path, "repository", settings={})
    with pytest.raises(ValueError, match="choose one of"):
        student_setup.choose(tmp_path, "pypi", settings={})
    (tmp_path / "release").mkdir()
    (tmp_path / "release" / WHEEL_NAME).write_bytes(b"stand-in")
    got = student_setup.choose(tmp_path, settings=repo, wheel_url="https://example.org/w.whl")  # a wheel wins
    assert (got.mode, got.wheel.name, got.url) == ("wheel", WHEEL_NAME, "https://example.org/w.whl")


def test_course_settings_reads_tool_course(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.course]\nrepository = "o/n"\n')
    assert student_setup.course_settings(tmp_path / "pyproject.toml") == {"repository": "o/n"}
    assert student_setup.course_settings(tmp_path / "missing.toml") == {}


# --- the cell's code, with pip and the import system stubbed ------------------------------------

class FakePip:
    """Stands in for ``subprocess.run``; after a successful install, course_lib is "importable"."""

    def __init__(self, returncode=0):
        self.returncode, self.calls, self.installed = returncode, [], False

    def run(self, cmd, **kwargs):
        self.calls.append(cmd)
        self.installed = self.returncode == 0
        return subprocess.CompletedProcess(cmd, self.returncode, "pip says: no space left", "")


def run_cell(install, monkeypatch, tmp_path, pip, course_lib_present=False):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "course_lib":
            return real_find_spec("json") if (course_lib_present or pip.installed) else None
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(subprocess, "run", pip.run)
    monkeypatch.chdir(tmp_path)
    exec(compile(student_setup.setup_cell_source(install), "setup-cell", "exec"), {})


@pytest.mark.parametrize("mode", sorted(INSTALLS))
def test_cell_does_nothing_where_course_lib_is_installed(mode, monkeypatch, tmp_path, capsys):
    pip = FakePip()
    run_cell(INSTALLS[mode], monkeypatch, tmp_path, pip, course_lib_present=True)
    assert pip.calls == [] and capsys.readouterr().out == ""


def test_cell_installs_the_wheel_beside_the_notebook(monkeypatch, tmp_path, capsys):
    (tmp_path / WHEEL_NAME).write_bytes(b"stand-in")
    pip = FakePip()
    run_cell(INSTALLS["wheel"], monkeypatch, tmp_path, pip)
    assert pip.calls == [[sys.executable, "-m", "pip", "install", WHEEL_NAME]]
    assert "course_lib installed" in capsys.readouterr().out


def test_cell_falls_back_to_the_wheels_url(monkeypatch, tmp_path):
    pip = FakePip()
    run_cell(INSTALLS["wheel"], monkeypatch, tmp_path, pip)
    assert pip.calls == [[sys.executable, "-m", "pip", "install", "https://example.org/w.whl"]]


def test_cell_without_the_wheel_says_where_to_put_it(monkeypatch, tmp_path):
    pip = FakePip()
    install = student_setup.Install("wheel", wheel=Path(WHEEL_NAME))
    with pytest.raises(FileNotFoundError, match=f"{WHEEL_NAME} is not in {tmp_path}"):
        run_cell(install, monkeypatch, tmp_path, pip)
    assert pip.calls == []


def test_cell_installs_from_the_repository(monkeypatch, tmp_path):
    pip = FakePip()
    run_cell(INSTALLS["repository"], monkeypatch, tmp_path, pip)
    assert pip.calls == [[sys.executable, "-m", "pip", "install", "git+https://example.org/course.git@v1"]]


def test_cell_reports_pips_failure(monkeypatch, tmp_path, capsys):
    pip = FakePip(returncode=1)
    with pytest.raises(RuntimeError, match=r"pip could not install git\+https://example.org/course.git@v1 "
                                           r"\(exit status 1\)"):
        run_cell(INSTALLS["repository"], monkeypatch, tmp_path, pip)
    assert "no space left" in capsys.readouterr().out


def test_cell_without_a_source_says_so(monkeypatch, tmp_path):
    pip = FakePip()
    with pytest.raises(ModuleNotFoundError, match="install it as your instructor says"):
        run_cell(INSTALLS["none"], monkeypatch, tmp_path, pip)
    assert pip.calls == []


@pytest.mark.parametrize("assignment", nc.find_assignments())
def test_cell_has_no_line_of_a_solution(assignment):
    """check-leaks flags any line of a release that is a solution or hidden-test line."""
    secrets = nc.secret_lines(nc.read_notebook(nc.source_path(assignment)))
    for install in INSTALLS.values():
        lines = {line.strip() for line in student_setup.setup_cell_source(install).splitlines()}
        assert not secrets & lines, (install.mode, secrets & lines)


# --- the release command ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    nc.use_this_python()
    return nc.copy_course(tmp_path_factory.mktemp("release_setup") / "assignments")


def test_release_puts_the_cell_and_the_wheel_in_front_of_the_setup_cell(course):
    from course_admin.__main__ import main

    (course / "release").mkdir(exist_ok=True)
    (course / "release" / WHEEL_NAME).write_bytes(b"stand-in wheel")
    before = nc.read_notebook(nc.source_path(A, course))
    for _ in range(2):  # releasing again replaces the cell
        assert main(["--course", str(course), "release", A, "--wheel-url", "https://example.org/w.whl"]) == 0
    nb = released(course)
    setup = [i for i, c in enumerate(nb.cells) if student_setup.is_setup_cell(c)]
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert setup == [first_code], "one setup cell, the first code cell"
    assert nc.nbgrader(nb.cells[first_code + 1]).get("grade_id") == "setup"
    assert "nbgrader" not in nb.cells[first_code].metadata, "the setup cell is not an nbgrader cell"
    assert repr(WHEEL_NAME) in nb.cells[first_code].source and "https://example.org/w.whl" in nb.cells[first_code].source
    beside = course / "release" / A / WHEEL_NAME
    assert beside.read_bytes() == b"stand-in wheel"
    assert nc.read_notebook(nc.source_path(A, course)) == before, "source/ must not change"
    assert leaks.check_leaks(course, A) == []


@pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
def test_nbgrader_grades_and_gives_feedback_on_a_release_with_the_cell(course):
    """Plain nbgrader (autograde, generate_feedback) on submissions that carry the setup cell: the
    release handed in untouched scores 0, the release with the solutions filled in full marks."""
    term.release(course, [A], INSTALLS["repository"])
    nb = released(course)
    assert any(student_setup.is_setup_cell(c) for c in nb.cells)
    source = nc.read_notebook(nc.source_path(A, course))
    solved = nbformat.from_dict(nb)
    for cell in solved.cells:
        if nc.is_solution_cell(cell):
            cell.source = nc.cell_by_id(source, nc.nbgrader(cell)["grade_id"]).source
    api = nc.make_api(course)
    for student, notebook in (("untouched", nb), ("solved", solved)):
        path = course / f"{student}.ipynb"
        nbformat.write(notebook, path)
        nc.submit(course, A, student, path)
        assert api.autograde(A, student)["success"]
    untouched, maximum, _ = nc.gradebook_scores(api, A, "untouched")
    solved_score, _, per_cell = nc.gradebook_scores(api, A, "solved")
    assert maximum > 0 and untouched == 0 and solved_score == maximum, per_cell
    assert api.generate_feedback(A)["success"]
    page = (course / "feedback" / "solved" / A / f"{A}.html").read_text()
    assert "course-lib-setup" in page or "Setup of the course library" in page
    assert leaks.check_leaks(course, A) == []


def test_release_with_a_repository(course):
    install = student_setup.Install("repository", url="git+https://example.org/course.git@v1")
    term.release(course, [A], install)
    cell = next(c for c in released(course).cells if student_setup.is_setup_cell(c))
    assert "git+https://example.org/course.git@v1" in cell.source
    assert not list((course / "release" / A).glob("*.whl")), "no wheel beside the notebook in repository mode"


def test_release_wheel_mode_without_a_wheel_is_refused(tmp_path, capsys):
    from course_admin.__main__ import main

    root = nc.copy_course(tmp_path / "assignments")
    assert main(["--course", str(root), "release", A, "--install", "wheel"]) == 2
    assert "python -m course_admin wheel" in capsys.readouterr().err
    assert not (root / "release" / A).exists()


# --- end to end: the released notebook in a fresh virtual environment --------------------------

KERNEL_TIMEOUT = 1200  # seconds for one cell: the setup cell installs PyTorch


def error_outputs(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def seconds(cell) -> float:
    """How long nbclient took to run ``cell`` (its ``execution`` metadata)."""
    t = cell.metadata.execution
    stamp = lambda key: datetime.fromisoformat(t[key].replace("Z", "+00:00"))  # noqa: E731
    return (stamp("shell.execute_reply") - stamp("iopub.execute_input")).total_seconds()


class Student:
    """A fresh virtual environment with pip and ipykernel only (what the student's Jupyter provides:
    a kernel), and nbclient running notebooks in it."""

    def __init__(self, base: Path):
        venv.EnvBuilder(with_pip=True, clear=True).create(base / "venv")
        self.python = base / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        self.env["OMP_NUM_THREADS"] = "1"
        self.pip("install", "--quiet", "ipykernel")
        self.specs = base / "kernels"
        (self.specs / "student").mkdir(parents=True)
        (self.specs / "student" / "kernel.json").write_text(json.dumps({
            "argv": [str(self.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "the student's Python", "language": "python", "env": {"OMP_NUM_THREADS": "1"}}))

    def pip(self, *args: str) -> None:
        subprocess.run([self.python, "-m", "pip", *args], check=True, env=self.env, timeout=900)

    def course_lib(self, cwd: Path) -> subprocess.CompletedProcess:
        """Where this Python imports course_lib from (an error if it cannot)."""
        return subprocess.run([self.python, "-c", "import course_lib, os; print(os.path.dirname(course_lib.__file__))"],
                              capture_output=True, text=True, cwd=cwd, env=self.env)

    def run(self, nb, folder: Path):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager
        from nbclient import NotebookClient

        km = KernelManager(kernel_name="student", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self.specs)]))
        NotebookClient(nb, km=km, timeout=KERNEL_TIMEOUT, allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute(env=self.env)
        return nb


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return Student(tmp_path_factory.mktemp("student"))


def check_setup_and_imports(nb, target: str) -> list:
    """The setup cell installed course_lib from ``target`` and the imports ran; returns the code cells."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup_cell, imports = code[0], code[1]
    assert student_setup.is_setup_cell(setup_cell)
    assert not error_outputs(setup_cell), error_outputs(setup_cell)
    text = "".join(o.get("text", "") for o in setup_cell.outputs if o.output_type == "stream")
    assert f"pip install {target}" in text and "course_lib installed" in text, text
    assert nc.nbgrader(imports).get("grade_id") == "setup" and not error_outputs(imports), error_outputs(imports)
    return code


def test_released_notebook_runs_in_a_fresh_venv(student, tmp_path):
    start = time.monotonic()
    course = nc.copy_course(tmp_path / "assignments")
    wheel = student_setup.build_wheel(course / "release")
    with open(nc.REPO / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    assert wheel.name == f"course_lib-{version}-py3-none-any.whl"
    term.release(course, [A], student_setup.choose(course, "wheel"))
    built = time.monotonic() - start

    # The student's folder: only what the release hands out, far from the checkout.
    folder = tmp_path / "student"
    shutil.copytree(course / "release" / A, folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{A}.ipynb", wheel.name])
    probe = student.course_lib(folder)
    assert probe.returncode != 0 and "No module named 'course_lib'" in probe.stderr, "the venv must lack course_lib"

    nb = student.run(nbformat.read(folder / f"{A}.ipynb", as_version=4), folder)
    ran = time.monotonic() - start
    code = check_setup_and_imports(nb, wheel.name)
    print(f"\nwheel + release {built:.0f} s, notebook {ran - built:.0f} s (of which the setup cell, installing "
          f"course_lib and its dependencies: {seconds(code[0]):.0f} s)")
    errors = [(nc.nbgrader(c).get("grade_id"), o.ename, o.evalue) for c in code for o in error_outputs(c)]
    assert errors, "the stubs must raise: the notebook did not run its test cells"
    others = [e for e in errors if "NotImplementedError" not in f"{e[1]} {e[2]}"]
    assert not others, f"errors other than the stubs' NotImplementedError: {others}"
    installed = student.course_lib(tmp_path)
    assert installed.returncode == 0 and "site-packages" in installed.stdout, installed


def test_released_notebook_installs_from_the_repository(student, tmp_path):
    """The repository route, with a ``file://`` URL of this checkout pinned to its commit (the
    dependencies are in the venv already when the test above ran first)."""
    head = subprocess.run(["git", "-C", str(nc.REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0 or shutil.which("git") is None:
        pytest.skip("the checkout is not a git repository, or git is missing")
    student.pip("uninstall", "--yes", "--quiet", "course_lib")
    assert student.course_lib(tmp_path).returncode != 0
    course = nc.copy_course(tmp_path / "assignments")
    requirement = student_setup.git_requirement(f"file://{nc.REPO}", head.stdout.strip())
    term.release(course, [A], student_setup.Install("repository", url=requirement))
    folder = tmp_path / "student"
    shutil.copytree(course / "release" / A, folder)
    nb = nbformat.read(folder / f"{A}.ipynb", as_version=4)
    end = next(i for i, c in enumerate(nb.cells) if nc.nbgrader(c).get("grade_id") == "setup")
    nb.cells = nb.cells[:end + 1]  # the setup cell and the imports: the code at that commit may predate the tests
    code = check_setup_and_imports(student.run(nb, folder), requirement)
    print(f"\nsetup cell installing course_lib from the repository: {seconds(code[0]):.0f} s")
    installed = student.course_lib(tmp_path)
    assert installed.returncode == 0 and "site-packages" in installed.stdout, installed
