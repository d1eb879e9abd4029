"""Keep the hidden tests out of the feedback, whatever the notebook printed.

nbgrader's ``ClearHiddenTests`` removes the hidden tests from the test cells' source in the
feedback, but a cell's *output* can still show them: a traceback quotes the failing line, and a
submission can print the kernel's input history (``In``, ``_ih``) or read a file. nbgrader issues
#917 and #1363 report hidden tests in feedback.

:class:`RedactHiddenTests` is an nbgrader preprocessor (listed in ``GenerateFeedback.preprocessors``
in ``assignments/nbgrader_config.py``): it reads the test cells, hidden tests included, from the
gradebook and replaces every output line that contains a line of a hidden test (one that does not
also appear in the visible part) by :data:`REDACTED`. The assertion message of a failing check,
built by ``course_lib.grading`` (what was expected, what came, a hint), stays.
"""
from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

REDACTED = "[the grader removed a line of the hidden tests from this output]"
MIN_LENGTH = 8  # shorter hidden lines (")", "else:") say nothing and would match everywhere
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


def hidden_lines(sources: list[str]) -> set[str]:
    """Stripped lines inside the hidden-test regions of ``sources`` that are not also outside them."""
    inside, outside = set(), set()
    for source in sources:
        within = False
        for line in source.splitlines():
            if BEGIN_HIDDEN in line:
                within = True
            elif END_HIDDEN in line:
                within = False
            else:
                (inside if within else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= MIN_LENGTH and not line.startswith("#")}


def redact_text(text: str, secrets: set[str]) -> tuple[str, int]:
    """``text`` with every line that contains one of ``secrets`` replaced; and how many were."""
    if not secrets or not text:
        return text, 0
    out, n = [], 0
    for line in text.split("\n"):
        plain = ANSI.sub("", line)
        if any(secret in plain for secret in secrets):
            out.append(REDACTED)
            n += 1
        else:
            out.append(line)
    return "\n".join(out), n


def redact_notebook(nb, secrets: set[str]) -> int:
    """Redact the outputs of every code cell of ``nb`` in place; return the number of lines removed."""
    removed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"], n = redact_text(output["text"], secrets)
                removed += n
            if "traceback" in output:
                lines = []
                for entry in output["traceback"]:
                    entry, n = redact_text(entry, secrets)
                    removed += n
                    lines.append(entry)
                output["traceback"] = lines
            if "evalue" in output:
                output["evalue"], n = redact_text(output["evalue"], secrets)
                removed += n
            for mime, value in list(output.get("data", {}).items()):
                if isinstance(value, str) and mime.startswith("text/"):
                    output["data"][mime], n = redact_text(value, secrets)
                    removed += n
    return removed


def secrets_from_gradebook(db_url: str, assignment: str, notebook: str) -> set[str]:
    """The hidden-test lines of one notebook, read from the gradebook's copy of its locked cells."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        return hidden_lines([cell.source for cell in nb.source_cells])


class RedactHiddenTests(NbGraderPreprocessor):
    """Feedback preprocessor: remove hidden-test lines from every output (see the module docstring)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        secrets = secrets_from_gradebook(info["db_url"], info["assignment"], info["notebook"])
        redact_notebook(nb, secrets)
        return nb, resources
