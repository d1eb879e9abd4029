"""The leak check: no solution or hidden-test line in ``release/`` or ``feedback/``."""
from __future__ import annotations

import html
import re
from pathlib import Path

from . import course as nc


def html_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def check_leaks(root: Path, assignment: str) -> list[str]:
    """Lines of solutions or hidden tests found in ``release/<a>/`` or ``feedback/*/<a>/``.

    Release notebooks: no line of a solution region or of a hidden test (as lines). Feedback
    pages: no hidden-test line anywhere in the page (as text, so a line quoted inside a
    traceback counts), unless the release notebook or the student's own submission has that
    text too; and the feedback of a student who handed in the release notebook untouched holds
    no solution line (same exception).
    """
    root = Path(root)
    source = nc.read_notebook(nc.source_path(assignment, root))
    secrets = nc.secret_lines(source)
    hidden = set()
    for cell in source.cells:
        if nc.is_test_cell(cell):
            hidden.update(line.strip() for line in nc.split_region(cell.source, nc.BEGIN_HIDDEN, nc.END_HIDDEN)[0])
    hidden = {line for line in hidden & secrets if len(line) >= 8}
    problems = []
    for path in sorted((root / "release" / assignment).glob("*.ipynb")):
        nb = nc.read_notebook(path)
        lines = {line.strip() for cell in nb.cells for line in cell.source.splitlines()}
        problems += [f"{path.relative_to(root)}: {line}" for line in sorted(secrets & lines)]
        for marker in (nc.BEGIN_SOLUTION, nc.BEGIN_HIDDEN):
            if any(marker in cell.source for cell in nb.cells):
                problems.append(f"{path.relative_to(root)}: marker {marker}")
    given = ""  # what every student was handed: a line found there is no leak, even inside other text
    for path in sorted((root / "release" / assignment).glob("*.ipynb")):
        given += "\n".join(c.source for c in nc.read_notebook(path).cells)
    for page in sorted((root / "feedback").glob(f"*/{assignment}/*.html")):
        student = page.parent.parent.name
        text = html_text(page.read_text(errors="replace"))
        submitted = root / "submitted" / student / assignment / f"{page.stem}.ipynb"
        own = given
        if submitted.is_file():
            own += "\n".join(c.source for c in nc.read_notebook(submitted).cells)
        problems += [f"{page.relative_to(root)}: {line}" for line in sorted(hidden) if line in text and line not in own]
        if _is_untouched_release(root, assignment, submitted):
            solution = {line for line in secrets - hidden if len(line) >= 8}
            problems += [f"{page.relative_to(root)}: {line}" for line in sorted(solution)
                         if line in text and line not in own]
    return problems


def _is_untouched_release(root: Path, assignment: str, submitted: Path) -> bool:
    release = root / "release" / assignment / submitted.name
    if not (submitted.is_file() and release.is_file()):
        return False
    strip = lambda nb: [c.source for c in nb.cells]  # noqa: E731
    return strip(nc.read_notebook(submitted)) == strip(nc.read_notebook(release))
