"""The two cells every course notebook starts with, and a check that they are there.

Used by ``tests/test_notebooks.py`` and by maintainers who add a notebook::

    python tools/notebook_header.py notebooks/11_new_topic.ipynb "11 · New topic"

creates the notebook with its title, the Open-in-Colab badge and the Colab
install cell (or refreshes them in an existing notebook).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPO = "img2img-course/img2img-course"  # GitHub owner/name the Colab badges point to
BRANCH = "main"

COLAB_CELL = f'''# Colab only: fetch the course and install course_lib. Elsewhere this cell does nothing.
import sys
if "google.colab" in sys.modules:
    import os, subprocess
    if not os.path.isdir("/content/course"):
        subprocess.run(["git", "clone", "--depth", "1", "https://github.com/{REPO}", "/content/course"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/course"], check=True)
    sys.path.insert(0, "/content/course")
    os.chdir("/content/course/notebooks")'''


def badge(notebook_path: str) -> str:
    """Markdown of the Open-in-Colab badge for a notebook path relative to the repository root."""
    url = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{notebook_path}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def header_cells(notebook_path: str, title: str) -> list:
    return [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n{badge(notebook_path)}"),
        nbformat.v4.new_code_cell(COLAB_CELL),
    ]


def check_header(nb, notebook_path: str) -> list[str]:
    """Problems with a notebook's header: missing badge, wrong Colab cell (empty list if fine)."""
    problems = []
    cells = nb.cells
    if len(cells) < 2:
        return ["fewer than two cells"]
    if cells[0].cell_type != "markdown" or badge(notebook_path) not in cells[0].source:
        problems.append(f"first cell lacks the Colab badge {badge(notebook_path)}")
    if cells[1].cell_type != "code" or cells[1].source.strip() != COLAB_CELL.strip():
        problems.append("second cell is not the Colab install cell of tools/notebook_header.py")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    path, title = Path(argv[0]), argv[1]
    rel = path.resolve().relative_to(Path(__file__).resolve().parents[1]).as_posix()
    if path.exists():
        nb = nbformat.read(path, as_version=4)
        if len(nb.cells) >= 2 and nb.cells[1].source.startswith("# Colab only"):
            nb.cells = nb.cells[2:]
    else:
        nb = nbformat.v4.new_notebook()
    nb.cells = header_cells(rel, title) + nb.cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
