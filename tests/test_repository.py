"""The repository as users meet it: notebooks' structure, README and CI commands, environments."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_header import check_header  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_source_is_clean_and_has_its_header(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name notebooks NN_topic.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3", "nbgrader and nbval expect the python3 kernel"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"
            assert "course_lib" in cell.source or len(cell.source.splitlines()) <= 40, \
                "long code cell: move library code into course_lib"
    assert check_header(nb, f"notebooks/{path.name}") == []


def _readme_block(title: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    m = re.search(rf"<!-- {title} -->\s*```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert m, f"README has no code block marked <!-- {title} -->"
    return [ln.strip() for ln in m.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_ci_runs_the_readme_install_and_test_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    install = _readme_block("install")
    test = _readme_block("test")
    assert any("pip install" in ln for ln in install)
    for line in [ln for ln in install if "pip install" in ln] + test:
        assert line in ci, f"README command {line!r} is not what .ci/run runs"


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"{path.name} is missing from the README's notebook table"


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = (ROOT / "environment.yml").read_text()
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name = re.split(r"[<>=!\[ ]", req)[0]
        assert re.search(rf"^\s*-\s*{re.escape(name)}\b", env, re.M), f"{name} is in pyproject but not environment.yml"


def test_generated_folders_are_ignored():
    ignored = (ROOT / ".gitignore").read_text()
    for entry in ("build/", "assignments/release/", "assignments/submitted/", "assignments/autograded/",
                  "assignments/feedback/", "gradebook.db", ".ipynb_checkpoints/"):
        assert entry in ignored


def test_run_command_executes_notebooks_and_reports_a_table(tmp_path):
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint('profile', os.environ['COURSE_PROFILE'])")])
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(good, nb_dir / "01_good.ipynb")
    nbformat.write(bad, nb_dir / "02_bad.ipynb")
    out = tmp_path / "build"
    proc = subprocess.run([sys.executable, "-m", "course_lib", "run", "--notebooks-dir", str(nb_dir),
                           "--build-dir", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert re.search(r"\| 01_good\.ipynb\s+\|\s+[\d.]+ \| ok", proc.stdout)
    assert re.search(r"\| 02_bad\.ipynb\s+\|\s+[\d.]+ \| error: ZeroDivisionError", proc.stdout)
    executed = nbformat.read(out / "01_good.ipynb", as_version=4)
    assert "profile fast" in executed.cells[0].outputs[0]["text"]
    assert (out / "01_good.html").read_text().count("profile fast") >= 1
