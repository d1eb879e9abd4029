"""``python -m course_admin lab``: JupyterLab started with the course's nbgrader configuration, so that
Formgrader lists the course's assignments.

The server test starts Lab on a free localhost port with a token (a copy of the course, inside a
term folder that Lab's file browser shows) and asks nbgrader's Formgrader API over HTTP: about 10 s.
"""
import json
import sys
from pathlib import Path

import pytest

import nbgrader_course as nc
from course_admin.lab import lab_launch
from lab_server import running_lab


def test_formgrader_lists_the_course_assignments(tmp_path):
    term = tmp_path / "term"
    course = nc.copy_course(term / "course-2027")
    expected = nc.find_assignments(course)
    assert len(expected) >= 10
    with running_lab(course, tmp_path / "jupyter", root=term) as lab:
        assignments = lab.get_json("/formgrader/api/assignments")
        assert sorted(a["name"] for a in assignments) == expected, json.dumps(assignments)[:2000]
        assert all(a["source_path"] == f"source/{a['name']}" for a in assignments), json.dumps(assignments[0])
        status, page = lab.get("/formgrader/manage_assignments")
        assert status == 200
        assert "not a subdirectory" not in page and "nbgrader is not correctly configured" not in page.lower()
        assert 'var url_prefix = "course-2027";' in page  # Formgrader's links lead into the course
        contents = lab.get_json("/api/contents/course-2027/source")  # the file browser's view of the term
        assert sorted(c["name"] for c in contents["content"]) == expected
    assert "is not a subdirectory of the notebook server root" not in lab.log_text()


def test_launch_starts_in_the_course_with_lab_on_the_checkout():
    launch = lab_launch(nc.COURSE, jupyter_args=["--no-browser"])
    assert launch.cwd == nc.COURSE.resolve()  # where nbgrader's extensions look for nbgrader_config.py
    assert launch.root == nc.REPO.resolve()
    assert launch.command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={nc.REPO.resolve()}" in launch.command and launch.command[-1] == "--no-browser"
    assert launch.env["PATH"].split(":")[0] == str(Path(sys.executable).parent)


def test_launch_outside_the_checkout_shows_the_course_folder(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    launch = lab_launch(tmp_path)
    assert launch.root == launch.cwd == tmp_path.resolve()


def test_launch_refuses_a_folder_without_config_or_a_root_outside(tmp_path):
    with pytest.raises(ValueError, match="has no nbgrader_config.py: pass --course"):
        lab_launch(tmp_path)
    with pytest.raises(ValueError, match="does not contain the course"):
        lab_launch(nc.COURSE, root=tmp_path)
    with pytest.raises(ValueError, match="is not a folder"):
        lab_launch(nc.COURSE, root=tmp_path / "missing")


def test_the_command_line_reports_bad_input(tmp_path, capsys):
    from course_admin.cli import main

    assert main(["--course", str(tmp_path), "lab"]) == 2
    assert "has no nbgrader_config.py" in capsys.readouterr().err
    assert main(["lab", "--course", str(tmp_path)]) == 2  # --course after the command works too
    assert "has no nbgrader_config.py" in capsys.readouterr().err
