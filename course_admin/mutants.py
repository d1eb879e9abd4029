"""The mutants: plausible wrong solutions that the tests of an assignment must catch.

``assignments/mutants/<assignment>/<grade_id>__<name>.patch`` changes one solution cell (the cell
whose nbgrader ``grade_id`` is ``<grade_id>``) of ``source/<assignment>/<assignment>.ipynb``::

    function: conv_output_size
    bug: off by one: the + 1 of the formula (the first position) is forgotten
    why: The "+ 1" counts the kernel's first position; a student who thinks of the output
      size as "how many strides fit" leaves it out.
    @@
         ### BEGIN SOLUTION
    -    return (input_size + 2 * padding - span) // stride + 1
    +    return (input_size + 2 * padding - span) // stride
         ### END SOLUTION

The header: ``function`` (the grade_id of the solution cell; the file name repeats it), ``bug``
(what is wrong), ``why`` (why a student would write it) and, optionally, ``category`` (the kind of
mistake, one of :data:`CATEGORIES`; ``values`` when absent); a line that starts with a space
continues the one above. Then one or more hunks, each opened by a line ``@@`` (what follows the
``@@`` is a comment): lines of the solution cell prefixed by ``" "`` (kept; an empty line is an
empty kept line), ``"-"`` (removed) or ``"+"`` (put in their place). A hunk is found by its kept
and removed lines, which must appear exactly once in the solution cell, in the order of the
hunks; line numbers play no part, so a change elsewhere in the cell leaves the patch valid.
Where a hunk no longer matches, :func:`apply_hunks` raises :class:`PatchError` naming the mutant
and the line.

``python -m course_admin mutants`` grades every mutant (:func:`mutation_report`), and
``python -m course_admin new-mutant`` writes a patch from an edited copy of a solution cell.
"""
from __future__ import annotations

import difflib
import functools
import textwrap
from dataclasses import dataclass
from pathlib import Path

from . import course as nc
from .inprocess import grade_in_process, total

MUTANTS_DIR = nc.COURSE / "mutants"
SUFFIX = ".patch"
HEADER_KEYS = ("function", "bug", "why")
OPTIONAL_KEYS = ("category",)
CATEGORIES = ("values", "gradient", "train_eval", "side_effect", "dtype_device", "stability", "validation",
              "integration", "calls_reference")
"""What kind of mistake a mutant makes (its optional ``category:`` header; ``values`` when absent):
wrong values; gradients that do not flow (detach, no_grad, NumPy); wrong train/eval behaviour (dropout,
BatchNorm); inputs changed in place; wrong dtype or device handling; numerical instability at extreme
values; missing argument validation; breaks when plugged into the course's own training step
(integration); hands the work to course_lib's own function (calls_reference)."""


class PatchError(ValueError):
    """A mutant file that cannot be read, or a hunk that does not match its solution cell."""


# --- the patch format -------------------------------------------------------------------------

@dataclass(frozen=True)
class Hunk:
    lines: tuple[tuple[str, str, int], ...]  # (" " | "-" | "+", text, line number in the patch file)

    @property
    def old(self) -> list[str]:
        return [text for op, text, _ in self.lines if op in " -"]

    @property
    def new(self) -> list[str]:
        return [text for op, text, _ in self.lines if op in " +"]


def parse_patch(text: str, where: str = "mutant") -> tuple[dict[str, str], list[Hunk]]:
    """``({"function": ..., "bug": ..., "why": ...}, hunks)`` of a mutant file's text."""
    header: dict[str, str] = {}
    hunks: list[list[tuple[str, str, int]]] = []
    key = None
    body = text.rstrip("\n")  # the file's final newline(s) end its last line, they add no empty kept line
    for number, line in enumerate(body.split("\n"), start=1):
        if line.startswith("@@"):
            hunks.append([])
        elif hunks:
            if line == "":
                hunks[-1].append((" ", "", number))  # an empty kept line whose space an editor removed
            elif line[0] in " -+":
                hunks[-1].append((line[0], line[1:], number))
            else:
                raise PatchError(f"{where}, line {number}: a hunk line must start with ' ', '-' or '+': {line!r}")
        elif line.strip() == "":
            continue
        elif line[0] in " \t" and key:
            header[key] += " " + line.strip()
        else:
            key, sep, value = line.partition(":")
            key = key.strip()
            if not sep or key not in HEADER_KEYS + OPTIONAL_KEYS:
                raise PatchError(f"{where}, line {number}: expected one of {', '.join(HEADER_KEYS + OPTIONAL_KEYS)} "
                                 f"followed by ':', got {line!r}")
            if key in header:
                raise PatchError(f"{where}, line {number}: a second {key!r} line (each header key once)")
            header[key] = value.strip()
    missing = [k for k in HEADER_KEYS if not header.get(k)]
    if missing:
        raise PatchError(f"{where}: the header lacks {', '.join(missing)}")
    if header.get("category", "values") not in CATEGORIES:
        raise PatchError(f"{where}: category {header['category']!r} is not one of {', '.join(CATEGORIES)}")
    if not hunks:
        raise PatchError(f"{where}: no hunk (a line starting with '@@' followed by the changed lines)")
    parsed = [Hunk(tuple(h)) for h in hunks]
    for i, hunk in enumerate(parsed, start=1):
        if not hunk.old:
            raise PatchError(f"{where}: hunk {i} has no kept or removed line to find its place by")
        if hunk.old == hunk.new:
            raise PatchError(f"{where}: hunk {i} changes nothing")
    return header, parsed


def _occurrences(lines: list[str], block: list[str]) -> list[int]:
    n = len(block)
    return [i for i in range(len(lines) - n + 1) if lines[i:i + n] == block]


def _mismatch(lines: list[str], hunk: Hunk, offset: int = 0) -> str:
    """Where hunk comes closest to matching ``lines`` (the cell from its line ``offset + 1`` on): the
    first of the hunk's lines that is not in the solution."""
    old = [(text, number) for op, text, number in hunk.lines if op in " -"]
    best, best_at = -1, 0
    for start in range(len(lines)):
        k = 0
        while k < len(old) and start + k < len(lines) and lines[start + k] == old[k][0]:
            k += 1
        if k > best:
            best, best_at = k, start
    if best <= 0:
        text, number = old[0]
        return f"its line {number} {text!r} is not in the solution cell"
    if best == len(old):  # matched only before the previous hunk
        return "it matches only before the previous hunk (hunks must come in the solution's order)"
    text, number = old[best]
    there = lines[best_at + best] if best_at + best < len(lines) else "(the end of the cell)"
    return (f"its line {number} {text!r} does not match line {offset + best_at + best + 1} of the solution cell: "
            f"{there!r}")


def apply_hunks(source: str, hunks: list[Hunk], where: str = "mutant") -> str:
    """``source`` (a solution cell) with ``hunks`` applied; :class:`PatchError` where one does not match."""
    lines = source.split("\n")
    out, pos = [], 0
    for i, hunk in enumerate(hunks, start=1):
        found = _occurrences(lines, hunk.old)
        after = [start for start in found if start >= pos]
        if not after:
            raise PatchError(f"{where}: hunk {i} does not match the solution cell: {_mismatch(lines[pos:], hunk, pos)}"
                             if not found else f"{where}: hunk {i} matches only before the previous hunk")
        if len(found) > 1:
            raise PatchError(f"{where}: hunk {i} matches the solution cell at lines "
                             f"{', '.join(str(s + 1) for s in found)}: add kept lines to tell them apart")
        start = after[0]
        out += lines[pos:start] + hunk.new
        pos = start + len(hunk.old)
    return "\n".join(out + lines[pos:])


def make_hunks(solution: str, mutated: str, context: int = 2) -> str:
    """The hunks (text) that turn ``solution`` into ``mutated``, with ``context`` kept lines around
    each change (more where fewer would match more than one place)."""
    a, b = solution.split("\n"), mutated.split("\n")
    if a == b:
        raise PatchError("the mutated cell is the solution")
    for n in range(context, len(a) + 1):
        body = []
        for line in list(difflib.unified_diff(a, b, lineterm="", n=n))[2:]:  # drop the ---/+++ lines
            body.append("@@" if line.startswith("@@") else line)
        text = "\n".join(body) + "\n"
        try:
            _, hunks = parse_patch("function: x\nbug: x\nwhy: x\n" + text)
            if apply_hunks(solution, hunks) == mutated:
                return text
        except PatchError:
            continue
    raise PatchError("no patch with unique hunks reproduces the mutated cell")


def format_mutant(function: str, bug: str, why: str, hunks: str) -> str:
    """The text of a mutant file."""
    wrap = functools.partial(textwrap.fill, width=100, subsequent_indent="  ", break_long_words=False,
                             break_on_hyphens=False)
    return "\n".join([f"function: {function}", wrap(f"bug: {bug}"), wrap(f"why: {why}"), hunks.rstrip("\n")]) + "\n"


# --- the mutants of a course ------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _solution_cells(path: str, mtime_ns: int) -> dict[str, str]:
    nb = nc.read_notebook(Path(path))
    return {nc.nbgrader(c)["grade_id"]: c.source for c in nb.cells if nc.is_solution_cell(c)}


@dataclass(frozen=True)
class Mutant:
    assignment: str
    grade_id: str
    name: str
    path: Path
    course: Path = nc.COURSE  # where the assignment's source notebook is

    @property
    def id(self) -> str:
        return f"{self.assignment}/{self.grade_id}__{self.name}"

    @functools.cached_property
    def parsed(self) -> tuple[dict[str, str], list[Hunk]]:
        header, hunks = parse_patch(self.path.read_text(), where=f"mutant {self.id}")
        if header["function"] != self.grade_id:
            raise PatchError(f"mutant {self.id}: 'function: {header['function']}' is not the {self.grade_id} "
                             "of its file name")
        return header, hunks

    @property
    def bug(self) -> str:
        return self.parsed[0]["bug"]

    @property
    def category(self) -> str:
        """The kind of mistake (:data:`CATEGORIES`): the ``category:`` header, ``calls_reference`` for the
        mutants of that name, else ``values``."""
        header = self.parsed[0]
        return header.get("category") or ("calls_reference" if self.name == "calls_reference" else "values")

    @property
    def why(self) -> str:
        return self.parsed[0]["why"]

    def apply(self, solution: str) -> str:
        """The mutated cell: ``solution`` (the source of the solution cell) with this patch applied."""
        return apply_hunks(solution, self.parsed[1], where=f"mutant {self.id} ({self.path})")

    def solution(self) -> str:
        path = nc.source_path(self.assignment, self.course)
        cells = _solution_cells(str(path), path.stat().st_mtime_ns)
        if self.grade_id not in cells:
            raise PatchError(f"mutant {self.id}: {path.name} has no solution cell {self.grade_id}")
        return cells[self.grade_id]

    @property
    def text(self) -> str:
        """The full source of the mutated cell, built from the current solution cell."""
        return self.apply(self.solution())


def find_mutants(mutants_dir: Path = MUTANTS_DIR, course: Path | None = None) -> list[Mutant]:
    """The mutants in ``mutants_dir`` (``<assignment>/<grade_id>__<name>.patch``), sorted; their
    solutions are read from ``course`` (default: the folder above ``mutants_dir``)."""
    mutants_dir = Path(mutants_dir)
    course = Path(course) if course is not None else mutants_dir.parent
    found = []
    for path in sorted(mutants_dir.glob(f"*/*{SUFFIX}")):
        grade_id, sep, name = path.name[: -len(SUFFIX)].partition("__")
        if not sep:
            raise PatchError(f"mutant file name {path.name} is not <grade_id>__<name>{SUFFIX}")
        found.append(Mutant(path.parent.name, grade_id, name, path, course))
    return found


def new_mutant(assignment: str, grade_id: str, name: str, mutated: str, bug: str, why: str,
               course: Path = nc.COURSE, mutants_dir: Path | None = None) -> Path:
    """Write ``<mutants_dir>/<assignment>/<grade_id>__<name>.patch`` from ``mutated``, the full text
    of the solution cell ``grade_id`` with the mistake in it; return its path."""
    nb = nc.read_notebook(nc.source_path(assignment, Path(course)))
    solution = nc.cell_by_id(nb, grade_id).source
    path = Path(mutants_dir or Path(course) / "mutants") / assignment / f"{grade_id}__{name}{SUFFIX}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_mutant(grade_id, bug, why, make_hunks(solution, mutated.rstrip("\n"))))
    return path


# --- the mutation score -----------------------------------------------------------------------

def mutation_report(root: Path, assignments: list[str] | None = None, mutants_dir: Path | None = None) -> list[dict]:
    """Per assignment: solution score, release-stub score, mutants caught / total, survivors, and
    ``categories``: ``{category: (caught, total)}`` by kind of mistake (:data:`CATEGORIES`).

    Grades in this process with :func:`course_admin.inprocess.grade_in_process` (what
    tests/test_assignments.py checks against nbgrader), so it takes seconds, not a kernel start per mutant.
    """
    import copy

    root = Path(root)
    mutants_dir = Path(mutants_dir or root / "mutants")
    mutants = find_mutants(mutants_dir, root) if mutants_dir.is_dir() else []
    rows = []
    for assignment in assignments or nc.find_assignments(root):
        source = nc.read_notebook(nc.source_path(assignment, root))
        solution, best = total(grade_in_process(source))
        stub = copy.deepcopy(source)
        for cell in stub.cells:
            if nc.is_solution_cell(cell):
                cell.source = nc.release_stub(cell.source)
        released, _ = total(grade_in_process(stub))
        mine = [m for m in mutants if m.assignment == assignment]
        survivors, categories = [], {}
        for mutant in mine:
            cell = nc.cell_by_id(source, mutant.grade_id)
            got, _ = total(grade_in_process(source, {mutant.grade_id: mutant.apply(cell.source)}))
            counts = categories.setdefault(mutant.category, [0, 0])
            counts[1] += 1
            if got >= best:
                survivors.append(f"{mutant.grade_id}__{mutant.name}")
            else:
                counts[0] += 1
        caught = len(mine) - len(survivors)
        guarded = sum("check_not_calling(" in c.source for c in source.cells if nc.is_test_cell(c))
        rows.append({"assignment": assignment, "max_score": best, "solution": solution, "release": released,
                     "mutants": len(mine), "caught": caught, "reference_checks": guarded,
                     "calls_reference_mutants": sum(m.name == "calls_reference" for m in mine),
                     "score": caught / len(mine) if mine else float("nan"), "survivors": survivors,
                     "categories": {c: tuple(categories[c]) for c in CATEGORIES if c in categories}})
    return rows


def print_mutants(mutants_dir: Path = MUTANTS_DIR, assignments: list[str] | None = None) -> int:
    """Print each mutant's lost points (all tests, visible tests only) and the failing cells."""
    for mutant in find_mutants(mutants_dir):
        if assignments and mutant.assignment not in assignments:
            continue
        nb = nc.read_notebook(nc.source_path(mutant.assignment, mutant.course))
        text = mutant.apply(nc.cell_by_id(nb, mutant.grade_id).source)
        full = grade_in_process(nb, {mutant.grade_id: text})
        visible = grade_in_process(nb, {mutant.grade_id: text}, hidden_tests=False)
        got, best = total(full)
        failing = ", ".join(r.grade_id for r in full.values() if not r.passed)
        seen = "caught by visible tests" if any(not r.passed for r in visible.values()) else "HIDDEN TESTS ONLY"
        print(f"{mutant.id}: loses {best - got:g} of {best:g} ({seen}); fails {failing}")
        print(f"    bug: {mutant.bug}")
    return 0
