"""Run one tagged cell of a course notebook, so a test can compare it with the library's function.

The notebooks show the mechanism they teach (a forward pass, one training step) in their own cells; the
library keeps its copy for scripts and tests. A cell that a test compares carries the tag
``mechanism`` in its metadata (``"tags": ["mechanism"]``), and :func:`cell_namespace` executes it
(and only it, after an optional preamble) to get at what it defines::

    ns = cell_namespace("06_pix2pix.ipynb", defines="pix2pix_train_step")
    logs_nb = ns["pix2pix_train_step"](run_a, batch)
    logs_lib = pix2pix.train_step(run_b, batch)
"""
from __future__ import annotations

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TAG = "mechanism"


def mechanism_cells(notebook: str) -> list[str]:
    """Sources of the cells tagged ``mechanism`` in ``notebooks/<notebook>``, in order."""
    nb = json.loads((NOTEBOOKS / notebook).read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and TAG in c.get("metadata", {}).get("tags", [])]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def cell_namespace(notebook: str, defines: str, preamble: str = "", namespace: dict | None = None) -> dict:
    """Execute the ``mechanism`` cell of ``notebook`` that defines ``defines`` (a function or class name)
    in a fresh namespace (``preamble`` run first, e.g. the notebook's imports) and return the namespace.

    Raises:
        LookupError: no tagged cell defines ``defines`` (the test must fail, not pass vacuously).
    """
    for source in mechanism_cells(notebook):
        if f"def {defines}(" in source or f"class {defines}(" in source or f"class {defines}:" in source:
            ns = dict(namespace or {})
            exec(compile(preamble, f"<{notebook} preamble>", "exec"), ns)
            exec(compile(source, f"<{notebook} cell defining {defines}>", "exec"), ns)
            return ns
    raise LookupError(f"no cell tagged {TAG!r} in {notebook} defines {defines!r}")
