"""End to end in a real browser: Debian's chromium, driven by playwright, on JupyterLab started with
``python -m course_admin lab`` (tests/lab_server.py).

* Formgrader's page lists the course's assignments;
* Lab opens notebook 01, runs all its cells, and the saved notebook has no error;
* a released assignment with a wrong answer: the Validate button shows the failing check's message;
* an HTML page as ``python -m course_lib run`` writes it, opened from disk with the internet refused,
  typesets its maths (the local MathJax).

Chromium is the system's (``apt-get install chromium``; ``.ci/run`` installs it), never a browser that
playwright downloads. Without it the tests skip, except in CI (``CI`` or ``COURSE_BROWSER_TEST=required``
set), where they fail. 28 to 51 s for the four on 2 shared cores (load average 3 to 5): starting Lab
(7 s), notebook 01 (8 to 15 s), one validation (7 to 11 s).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import nbgrader_course as nc
from lab_server import running_lab

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK = nc.REPO / "notebooks" / "01_receptive_fields.ipynb"
ASSIGNMENT = "a01_receptive_fields"
WRONG = "missing_plus_one"  # the mutant put in the student's notebook: conv_output_size forgets the + 1
STEP_TIMEOUT_MS = 300_000  # one step (a notebook run, a validation) on a loaded CI machine


def _required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("COURSE_BROWSER_TEST") == "required"


def _browser_or_skip():
    """playwright's sync API, or skip (fail in CI) saying what is missing."""
    missing = []
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        missing.append(f"chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append('the playwright package (pip install -e ".[dev]")')
        sync_playwright = None
    if missing:
        why = "the browser test needs " + " and ".join(missing)
        if _required():
            pytest.fail(why + "; CI must run it (.ci/run installs chromium)")
        pytest.skip(why)
    return sync_playwright


def _student_notebook(course: Path, dest: Path) -> None:
    """The released assignment as a student would hand it in: every solution written, one of them
    wrong (a mutant of the course's)."""
    from course_admin.mutants import find_mutants
    from course_admin.term import release

    release(course, [ASSIGNMENT])
    nb = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    source = nbformat.read(nc.source_path(ASSIGNMENT, course), as_version=4)
    (mutant,) = [m for m in find_mutants(course / "mutants", course) if m.assignment == ASSIGNMENT and m.name == WRONG]
    for cell in nb.cells:
        if nc.is_solution_cell(cell):
            grade_id = nc.nbgrader(cell)["grade_id"]
            text = mutant.text if grade_id == mutant.grade_id else nc.cell_by_id(source, grade_id).source
            cell.source = "\n".join(line for line in text.splitlines()
                                    if nc.BEGIN_SOLUTION not in line and nc.END_SOLUTION not in line)
    dest.parent.mkdir(parents=True)
    nbformat.write(nb, dest)


def _lab_settings(settings: Path) -> None:
    """Lab's user settings for the test: every cell in the page (no windowing), no news or update checks."""
    for name, values in {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
                         "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                         "checkForUpdates": False}}.items():
        path = settings / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def browser_lab(tmp_path_factory):
    """(Lab, a chromium context): Lab on a term folder holding a copy of the course, notebook 01 and a
    student's notebook."""
    sync_playwright = _browser_or_skip()
    nc.use_this_python()
    term = tmp_path_factory.mktemp("term")
    course = nc.copy_course(term / "course")
    (term / "notebooks").mkdir()
    shutil.copyfile(NOTEBOOK, term / "notebooks" / NOTEBOOK.name)
    _student_notebook(course, term / "student" / f"{ASSIGNMENT}.ipynb")
    jupyter = tmp_path_factory.mktemp("jupyter")
    _lab_settings(jupyter / "settings")
    with running_lab(course, jupyter, root=term) as lab, sync_playwright() as playwright, \
            tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield lab, context
        finally:
            context.close()


@pytest.fixture
def page(browser_lab, tmp_path):
    """A new tab for each test (closed without waiting for Lab's "leave the page?" question); a
    screenshot of a failed test is left in its tmp_path."""
    _, context = browser_lab
    tab = context.new_page()
    tab.set_default_timeout(STEP_TIMEOUT_MS)
    yield tab
    tab.screenshot(path=str(tmp_path / "last.png"))
    tab.close(run_before_unload=False)


def _open(lab, page, path: str) -> None:
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}")  # reset: only this notebook open
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    # the kernel is started and idle
    page.wait_for_function("() => !!document.querySelector('.jp-NotebookPanel') && "
                           "[...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]"
                           ".some(e => e.getAttribute('data-status') === 'idle')")


def _run_all(page) -> None:
    """Menu Run > Run All Cells, once the kernel takes it: a click while Lab is still connecting to
    the new kernel runs nothing, so it is repeated until the first cell starts."""
    first = "() => { const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell " \
            ".jp-InputArea-prompt'); return !!p && p.textContent.trim() !== '[ ]:'; }"
    for _ in range(5):
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item[data-command='runmenu:run-all']")
        try:
            page.wait_for_function(first, timeout=20_000)
            return
        except Exception:  # playwright's TimeoutError
            continue
    raise AssertionError("Run All Cells did not start the first cell in 100 s")


def test_formgrader_page_lists_the_assignments(browser_lab, page):
    lab, _ = browser_lab
    page.goto(f"{lab.url}/formgrader/manage_assignments?token={lab.token}")
    page.wait_for_selector("text=a01_receptive_fields")
    text = page.inner_text("body")
    for name in nc.find_assignments(nc.COURSE):
        assert name in text
    assert "No data available" not in text


def test_lab_runs_notebook_01_without_error(browser_lab, page):
    lab, _ = browser_lab
    start = time.perf_counter()
    _open(lab, page, f"notebooks/{NOTEBOOK.name}")
    n_code = sum(c.cell_type == "code" for c in nbformat.read(NOTEBOOK, as_version=4).cells)
    _run_all(page)
    # Run All stops at the first error: then some prompts stay empty ("[ ]:").
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while True:
        prompts = page.evaluate("() => [...document.querySelectorAll("
                                "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]"
                                ".map(e => e.textContent.trim())")
        if len(prompts) == n_code and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            break
        assert time.monotonic() < deadline, f"cells still not run after {STEP_TIMEOUT_MS / 1000} s: {prompts}"
        time.sleep(1)
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while True:  # the saved file, as Lab wrote it
        saved = lab.get_json(f"/api/contents/notebooks/{NOTEBOOK.name}?content=1")["content"]
        code = [c for c in saved["cells"] if c["cell_type"] == "code"]
        if all(c["execution_count"] for c in code) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(code) == n_code and all(c["execution_count"] for c in code), "not every cell ran"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, errors[0]
    assert "Traceback" not in page.inner_text(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    print(f"notebook 01 in Lab: {time.perf_counter() - start:.1f} s")


def test_validate_button_shows_the_failing_check(browser_lab, page):
    lab, _ = browser_lab
    start = time.perf_counter()
    _open(lab, page, f"student/{ASSIGNMENT}.ipynb")
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button button, "
               ".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button jp-button")
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while not page.query_selector(".jp-Dialog [class*=validation-]"):  # the result, or nbgrader's error
        dialog = page.query_selector(".jp-Dialog")
        assert not (dialog and "error running the validate command" in dialog.inner_text()), dialog.inner_text()
        assert time.monotonic() < deadline, ("no validation result; dialog: "
                                             + (dialog.inner_text()[-2000:] if dialog else "none"))
        time.sleep(1)
    text = page.inner_text(".jp-Dialog")
    assert page.query_selector(".jp-Dialog .validation-failed"), text[-3000:]
    assert "The following cell failed:" in text
    assert "conv_output_size(input_size=32, kernel_size=3) is wrong" in text, text[-2000:]
    assert re.search(r"expected: 30 \(int\)\s+got:\s+29 \(int\)", text), text[-2000:]
    page.click(".jp-Dialog button:has-text('Ok')")
    print(f"validation in Lab: {time.perf_counter() - start:.1f} s")


def test_built_html_renders_maths_offline(page, tmp_path):
    """A page written like ``python -m course_lib run`` writes it, opened from disk with every
    http(s) request refused: MathJax (the local copy) typesets the formulas."""
    from nbformat.v4 import new_markdown_cell, new_notebook

    from course_lib.__main__ import offline_html_exporter

    nb = new_notebook(cells=[new_markdown_cell(r"Output side: $n_\text{out} = \lfloor (n + 2p - k) / s \rfloor + 1$."
                                               "\n\n$$r_0 = 1 + \\sum_l (k_l - 1) \\prod_{i<l} s_i$$")])
    html, _ = offline_html_exporter(tmp_path).from_notebook_node(nb)
    (tmp_path / "maths.html").write_text(html, encoding="utf-8")
    refused = []
    page.route(re.compile(r"^https?://"), lambda route: (refused.append(route.request.url), route.abort()))
    try:
        page.goto((tmp_path / "maths.html").as_uri())
        page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                               "document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length >= 2",
                               timeout=60_000)
        text = page.inner_text("body")
    finally:
        page.unroute(re.compile(r"^https?://"))
    assert not refused, f"the page asked the internet for {refused}"
    assert "\\lfloor" not in text and "$$" not in text, text  # typeset, not raw LaTeX
