"""Publishing: the notebooks' badges and Colab cells come from pyproject's [tool.course], and the Colab
cell really installs the course in a (simulated) Colab runtime.

The simulated run (about 15 s) clones this repository's committed HEAD through a file:// URL, in a
Python that has the course's dependencies but not course_lib, with a fake ``google.colab`` module.
"""
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebook_header as nh  # noqa: E402

NOTEBOOKS = nh.notebooks(ROOT)


def test_headers_match_what_the_refresh_command_writes():
    """A notebook whose badge or Colab cell differs from pyproject's [tool.course] fails here:
    run `python tools/notebook_header.py --refresh`."""
    assert len(NOTEBOOKS) >= 2
    assert nh.refresh_all(ROOT, write=False) == []
    pub = nh.publication(ROOT)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert f"github/{pub.repository}/blob/{pub.branch}/notebooks/{path.name}" in nb.cells[0].source
        assert f'"https://github.com/{pub.repository}"' in nb.cells[1].source


def test_refresh_rewrites_a_stale_header_and_keeps_the_rest(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.course]\nrepository = "old/name"  # keep me\nbranch = "main"\n')
    nb = nbformat.v4.new_notebook(cells=nh.header_cells("notebooks/01_x.ipynb", "01 · X", nh.publication(tmp_path))
                                  + [nbformat.v4.new_code_cell("print(1)")])
    nb.cells[0].metadata["tags"] = ["keep"]
    nbformat.write(nb, tmp_path / "notebooks" / "01_x.ipynb")
    assert nh.refresh_all(tmp_path, write=False) == []

    nh.set_repository("new-owner/new.name", tmp_path)
    assert '"new-owner/new.name"  # keep me' in (tmp_path / "pyproject.toml").read_text()
    stale = nh.refresh_all(tmp_path, write=False)
    assert [p.name for p in stale] == ["01_x.ipynb"]
    assert nh.refresh_all(tmp_path) == stale and nh.refresh_all(tmp_path, write=False) == []
    out = nbformat.read(tmp_path / "notebooks" / "01_x.ipynb", as_version=4)
    assert out.cells[0].source.startswith("# 01 · X\n")
    assert "github/new-owner/new.name/blob/main/notebooks/01_x.ipynb" in out.cells[0].source
    assert "old/name" not in out.cells[0].source + out.cells[1].source
    assert out.cells[0].metadata["tags"] == ["keep"] and out.cells[2].source == "print(1)" and len(out.cells) == 3
    assert nh.check_header(out, "notebooks/01_x.ipynb", nh.publication(tmp_path)) == []


@pytest.mark.parametrize("url, expected", [
    ("https://github.com/me/course.git", "me/course"),
    ("git@github.com:some-org/img2img.course.git\n", "some-org/img2img.course"),
    ("ssh://git@github.com/me/course", "me/course"),
])
def test_repository_from_a_git_remote(url, expected):
    assert nh.repository_from_remote(url) == expected


def test_bad_settings_say_what_to_fix(tmp_path):
    with pytest.raises(ValueError, match="not a GitHub repository"):
        nh.repository_from_remote("https://gitlab.com/me/course.git")
    with pytest.raises(ValueError, match="owner/name"):
        nh.Publication("just-a-name")
    (tmp_path / "pyproject.toml").write_text('[tool.course]\nrepository = "https://github.com/me/course.git"\n')
    assert nh.publication(tmp_path) == nh.Publication("me/course", "main")
    (tmp_path / "pyproject.toml").write_text('[tool.course]\nrepository = "https://gitlab.com/me/course"\n')
    with pytest.raises(ValueError, match="GitHub"):
        nh.publication(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ValueError, match=r"no \[tool.course\] repository"):
        nh.publication(tmp_path)


def _can_build_offline() -> bool:
    """Whether this environment's setuptools can build an editable wheel without the network."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    major, minor = (int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _python_without_course_lib(tmp_path: Path) -> Path:
    """A venv (no pip of its own) that sees the running environment's packages except course_lib:
    a folder of links to every entry of this environment's site-packages but course_lib's, on a .pth."""
    site = Path(sysconfig.get_paths()["purelib"])
    deps = tmp_path / "deps"
    deps.mkdir()
    for entry in site.iterdir():
        low = entry.name.lower()
        if low.startswith(("course_lib", "course_admin", "__editable__")) or low.endswith(".pth"):
            continue
        (deps / entry.name).symlink_to(entry)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    venv_site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip()
    Path(venv_site, "course_deps.pth").write_text(f"{deps}\n")
    return python


def test_colab_cell_installs_course_lib_in_a_simulated_colab(tmp_path):
    if shutil.which("git") is None or subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                                      capture_output=True).returncode:
        pytest.skip("needs git and a git checkout to clone")
    if not _can_build_offline():
        pytest.skip("pip installs the clone offline, without build isolation, so the test environment needs "
                    "setuptools >= 70.1 (or setuptools with the wheel package): pip install 'setuptools>=70.1'")
    pub = nh.publication(ROOT)
    # The "published" repository: this checkout's HEAD on the branch the cell clones.
    source = tmp_path / "published"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(source)], check=True)
    subprocess.run(["git", "-C", str(source), "checkout", "-q", "-B", pub.branch], check=True)
    python = _python_without_course_lib(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_", "COURSE_"))}
    env.update(PYTHONNOUSERSITE="1", PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1", COURSE_CLONE_URL=source.as_uri(),
               COURSE_DIR=str(tmp_path / "content" / "course"), OMP_NUM_THREADS="1")
    work = tmp_path / "work"
    work.mkdir()
    before = subprocess.run([python, "-c", "import course_lib"], cwd=work, env=env, capture_output=True, text=True)
    assert before.returncode != 0 and "No module named 'course_lib'" in before.stderr

    fake = tmp_path / "fake_colab" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""A stand-in for Colab\'s google.colab package."""\n')
    cell = nbformat.read(NOTEBOOKS[0], as_version=4).cells[1].source
    (work / "cell.py").write_text(cell)
    runner = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(fake.parents[1])!r})
        import google.colab
        exec(open("cell.py").read())
        import course_lib
        print("FILE", course_lib.__file__)
        print("CWD", os.getcwd())
    """)
    run = subprocess.run([python, "-c", runner], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    course = (tmp_path / "content" / "course").resolve()
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if line.startswith(("FILE ", "CWD ")))
    assert Path(lines["FILE"]).resolve() == course / "course_lib" / "__init__.py"
    assert Path(lines["CWD"]).resolve() == course / "notebooks"
    printed = run.stdout.replace(str(tmp_path / "content" / "course"), str(course))
    assert f"course_lib installed from {course}" in printed

    # A later kernel (no sys.path help) imports the pip-installed, editable course_lib from the clone.
    after = subprocess.run([python, "-c", "import course_lib; print(course_lib.__file__); "
                            "print(course_lib.get_profile().name)"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert after.returncode == 0, after.stderr
    file, profile = after.stdout.split()
    assert Path(file).resolve() == course / "course_lib" / "__init__.py" and profile == "fast"


def test_colab_cell_does_nothing_outside_colab(tmp_path):
    env = dict(os.environ, COURSE_DIR=str(tmp_path / "never"), COURSE_CLONE_URL="file:///nonexistent")
    cell = nbformat.read(NOTEBOOKS[0], as_version=4).cells[1].source
    run = subprocess.run([sys.executable, "-c", cell], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "" and not (tmp_path / "never").exists()
