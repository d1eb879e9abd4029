"""The layout of the code: the students' package does not reach the instructor's, no import cycles,
nothing read from the course at import time.

* ``course_lib`` (what students read and import) never imports ``course_admin`` (the instructor's
  tools); ``course_admin`` may import ``course_lib``;
* the graph of imports between the modules of both packages (function-level imports included)
  has no cycle; a failure names each cycle as ``a -> b -> a``;
* importing ``course_lib`` in a fresh interpreter loads no ``course_admin`` module, and importing
  either package lists no folder of ``assignments/``.

Static checks read the source with :mod:`ast` (a fraction of a second); the import checks start
one Python process each.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("course_lib", "course_admin")


def module_files(package: str) -> dict[str, Path]:
    """``{dotted module name: file}`` of every module of ``package`` (a package is its ``__init__``)."""
    root = REPO / package
    found = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = {name: path for package in PACKAGES for name, path in module_files(package).items()}


def imported_names(module: str, path: Path) -> list[tuple[str, int]]:
    """``(absolute dotted name, line)`` of everything ``module`` imports, at any depth of its code:
    ``from a import b`` gives ``a.b`` where that is a module of ours, else ``a``;
    ``importlib.import_module("a")`` with a constant gives ``a``."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                names.append((full if full in MODULES else source, node.lineno))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            names += [(node.args[0].value, node.lineno)]
    return names


def resolve(name: str) -> str | None:
    """The module of the project that importing ``name`` runs last: ``name`` itself if it is one of
    our modules, else the longest dotted prefix that is (``pkg.mod.func`` -> ``pkg.mod``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def import_graph() -> dict[str, set[str]]:
    graph = {module: set() for module in MODULES}
    for module, path in MODULES.items():
        for name, _ in imported_names(module, path):
            target = resolve(name)
            if target is not None and target != module:
                graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component of more than one module."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    counter = [0]

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(set(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:  # a shortest way back to the first module, inside the component
        start = min(component)
        paths, queue = {start: [start]}, [start]
        while queue:
            v = queue.pop(0)
            for w in sorted(graph[v] & component):
                if w == start:
                    queue = []
                    found.append(paths[v] + [start])
                    break
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
    return sorted(found)


# --- course_lib does not import course_admin ----------------------------------------------------

def test_course_lib_never_imports_course_admin():
    assert "course_lib" in MODULES and "course_admin.cli" in MODULES
    offending = [f"{MODULES[module].relative_to(REPO)}:{line} imports {name}"
                 for module in MODULES if module.split(".")[0] == "course_lib"
                 for name, line in imported_names(module, MODULES[module])
                 if name == "course_admin" or name.startswith("course_admin.")]
    assert not offending, "course_lib (the students' package) must not import course_admin:\n" + "\n".join(offending)


# --- no import cycles ---------------------------------------------------------------------------

def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert resolve("course_admin.mutants.Mutant") == "course_admin.mutants"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    """Imports between modules, at any level of their code: no module may, through other modules,
    import itself (a package's ``__init__`` counts as the package's module)."""
    found = [c for c in cycles(import_graph()) if c[0].split(".")[0] == package]
    assert not found, f"import cycles in {package}:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_sandbox_server_needs_only_python_and_torch():
    """The student's side of the boundary (boundary/server.py, run by its path inside the sandbox,
    where only course_lib's package folder is bound) imports no course_admin module, and at its top
    only the standard library and torch."""
    def top_imports(module):
        top = ast.parse(MODULES[module].read_text()).body
        imported = {a.name.split(".")[0] for node in top if isinstance(node, ast.Import) for a in node.names}
        return imported | {node.module.split(".")[0] for node in top if isinstance(node, ast.ImportFrom) and node.module}

    # walk.py lies beside server.py, which imports it by its folder
    assert top_imports("course_admin.boundary.server") <= set(sys.stdlib_module_names) | {"__future__", "torch", "walk"}
    assert top_imports("course_admin.boundary.walk") <= set(sys.stdlib_module_names) | {"__future__"}
    assert not [m for m in import_graph()["course_admin.boundary.server"] if m.startswith("course_admin")]


# --- importing reads nothing of the course ------------------------------------------------------

PROBE = r"""
import builtins, json, os, pathlib, sys
listed = []
def spy(name, fn):
    def wrapper(path=".", *args, **kwargs):
        if "assignments" in str(path):
            listed.append(f"{name}({path})")
        return fn(path, *args, **kwargs)
    return wrapper
os.listdir = spy("os.listdir", os.listdir)
os.scandir = spy("os.scandir", os.scandir)
os.walk = spy("os.walk", os.walk)
iterdir = pathlib.Path.iterdir
def spy_iterdir(self):
    if "assignments" in str(self):
        listed.append(f"Path.iterdir({self})")
    return iterdir(self)
pathlib.Path.iterdir = spy_iterdir
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({"modules": sorted(sys.modules), "listed": listed}))
"""


def import_in_fresh_python(*modules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *modules], capture_output=True, text=True, cwd=REPO,
                         timeout=300, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_course_lib_loads_no_course_admin_and_reads_no_assignment():
    found = import_in_fresh_python("course_lib", "course_lib.grading")
    admin = [m for m in found["modules"] if m == "course_admin" or m.startswith("course_admin.")]
    assert not admin, f"importing course_lib loaded {admin}"
    assert not found["listed"], f"importing course_lib listed {found['listed']}"


def test_importing_course_admin_reads_no_assignment():
    """Assignments are found when a command asks (``course.find_assignments``), not on import."""
    modules = [m for m in MODULES if m.split(".")[0] == "course_admin" and not m.endswith("__main__")]
    found = import_in_fresh_python(*modules)
    assert not found["listed"], f"importing course_admin listed {found['listed']}"


def test_the_command_line_lists_every_command():
    import argparse

    from course_admin.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) >= {"release", "collect", "autograde", "feedback", "export", "grade", "check-leaks",
                                "mutants", "new-mutant", "sandbox-info"}, sorted(sub.choices)
    out = subprocess.run([sys.executable, "-m", "course_admin", "--help"], capture_output=True, text=True,
                         cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    usage = out.stdout[out.stdout.index("{"):out.stdout.index("}")]  # the sub-commands argparse offers
    assert set(usage.strip("{").split(",")) == set(sub.choices)
