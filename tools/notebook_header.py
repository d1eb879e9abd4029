"""The two cells every course notebook starts with: where they come from, how to refresh and check them.

Every notebook in ``notebooks/`` starts with a title cell that carries an *Open in Colab* badge, then a
code cell that, in Colab only, clones the course and installs ``course_lib``. Both point to the published
repository, which is set in one place: the ``[tool.course]`` table of ``pyproject.toml``::

    [tool.course]
    repository = "owner/name"   # GitHub owner/name the badges and the Colab cell point to
    branch = "main"             # the branch they open and clone

Commands (run from anywhere; docs/publishing.md walks through publishing under another name)::

    python tools/notebook_header.py --refresh                 # rewrite the header of every notebook
    python tools/notebook_header.py --check                   # list stale headers, change nothing (exit 1)
    python tools/notebook_header.py --refresh --from-git-remote [REMOTE]
        # first copy the owner/name of a GitHub remote (default: origin) into [tool.course], then refresh
    python tools/notebook_header.py notebooks/11_new_topic.ipynb "11 · New topic"
        # create a notebook with its header (or give an existing one this title and the current header)

The Colab cell reads three environment variables, so that it can be tried away from Colab (the tests do):
``COURSE_CLONE_URL`` (default ``https://github.com/<repository>``), ``COURSE_BRANCH`` (default the branch
above) and ``COURSE_DIR`` (default ``/content/course``).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
COLAB_MARK = "# Colab only"
_NAME = r"[A-Za-z0-9_.-]+"
_BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(https://colab\.research\.google\.com/github/[^)]*\)")


@dataclass(frozen=True)
class Publication:
    """Where the course is published: a GitHub ``owner/name`` and a branch."""

    repository: str
    branch: str = "main"

    def __post_init__(self):
        if not re.fullmatch(f"{_NAME}/{_NAME}", self.repository or ""):
            raise ValueError(f"repository {self.repository!r} is not a GitHub owner/name such as "
                             f"'my-org/img2img-course': fix [tool.course] repository in pyproject.toml")
        if not re.fullmatch(r"[A-Za-z0-9_./-]+", self.branch or "") or ".." in self.branch:
            raise ValueError(f"branch {self.branch!r} is not a git branch name: fix [tool.course] branch "
                             f"in pyproject.toml")

    @property
    def clone_url(self) -> str:
        return f"https://github.com/{self.repository}"


def publication(root: Path = ROOT) -> Publication:
    """The ``[tool.course]`` settings of ``root/pyproject.toml``.

    ``repository`` is a GitHub ``owner/name`` or a GitHub URL (Colab's badges open GitHub repositories only).

    Raises:
        ValueError: the table or its ``repository`` is missing, or a value is malformed; the message
            says what to write.
    """
    path = Path(root) / "pyproject.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("course")
    if not table or "repository" not in table:
        raise ValueError(f"{path} has no [tool.course] repository: add\n[tool.course]\n"
                         f'repository = "owner/name"\nbranch = "main"')
    repository = str(table["repository"]).strip()
    if "://" in repository or repository.startswith("git@"):  # a URL: Colab opens GitHub repositories only
        repository = repository_from_remote(repository)
    return Publication(repository, str(table.get("branch", "main")))


def repository_from_remote(url: str) -> str:
    """``owner/name`` of a GitHub remote URL (https, ssh or ``git@github.com:`` form).

    Raises:
        ValueError: the URL is not a GitHub repository's.
    """
    m = re.fullmatch(rf"(?:https?://|ssh://git@|git@)github\.com[/:]({_NAME})/({_NAME}?)(?:\.git)?/?", url.strip())
    if not m:
        raise ValueError(f"{url!r} is not a GitHub repository's URL, and Colab badges open GitHub repositories "
                         f"only: set [tool.course] repository in pyproject.toml to a GitHub owner/name")
    return f"{m.group(1)}/{m.group(2)}"


def set_repository(repository: str, root: Path = ROOT) -> None:
    """Write ``repository`` into the ``[tool.course]`` table of ``root/pyproject.toml`` (the table must exist)."""
    Publication(repository)  # validates
    path = Path(root) / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    table = re.search(r"^\[tool\.course\]\n(?:(?!\[).*\n?)*", text, re.M)
    line = re.compile(r'^(repository\s*=\s*)"[^"]*"', re.M)
    if not table or not line.search(table.group(0)):
        raise ValueError(f'{path} has no [tool.course] table with a repository = "..." line: add it first')
    new_table = line.sub(lambda m: f'{m.group(1)}"{repository}"', table.group(0), count=1)
    path.write_text(text[:table.start()] + new_table + text[table.end():], encoding="utf-8")


def colab_cell(pub: Publication) -> str:
    """Source of the Colab install cell for ``pub``."""
    return f'''{COLAB_MARK}: fetch the course and install course_lib. Elsewhere this cell does nothing.
# COURSE_CLONE_URL, COURSE_BRANCH and COURSE_DIR override where it clones from and to.
import sys
if "google.colab" in sys.modules:
    import os, subprocess
    course_dir = os.environ.get("COURSE_DIR", "/content/course")
    if not os.path.isdir(course_dir):
        url = os.environ.get("COURSE_CLONE_URL", "{pub.clone_url}")
        branch = os.environ.get("COURSE_BRANCH", "{pub.branch}")
        subprocess.run(["git", "clone", "--depth", "1", "--branch", branch, url, course_dir], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", course_dir], check=True)
    sys.path.insert(0, course_dir)
    os.chdir(os.path.join(course_dir, "notebooks"))
    print(f"course_lib installed from {{course_dir}}; the profile is fast unless COURSE_PROFILE=full is set")'''


def badge(notebook_path: str, pub: Publication | None = None) -> str:
    """Markdown of the Open-in-Colab badge for a notebook path relative to the repository root."""
    pub = pub or publication()
    url = f"https://colab.research.google.com/github/{pub.repository}/blob/{pub.branch}/{notebook_path}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def header_cells(notebook_path: str, title: str, pub: Publication | None = None) -> list:
    """The two header cells (title with badge, Colab install cell) of a new notebook."""
    pub = pub or publication()
    return [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n{badge(notebook_path, pub)}"),
        nbformat.v4.new_code_cell(colab_cell(pub)),
    ]


def check_header(nb, notebook_path: str, pub: Publication | None = None) -> list[str]:
    """Problems with a notebook's header: missing or stale badge, wrong Colab cell (empty list if fine)."""
    pub = pub or publication()
    problems = []
    cells = nb.cells
    if len(cells) < 2:
        return ["fewer than two cells"]
    if cells[0].cell_type != "markdown" or badge(notebook_path, pub) not in cells[0].source:
        problems.append(f"first cell lacks the Colab badge {badge(notebook_path, pub)} "
                        f"(run python tools/notebook_header.py --refresh)")
    if cells[1].cell_type != "code" or cells[1].source.strip() != colab_cell(pub).strip():
        problems.append("second cell is not the Colab install cell of tools/notebook_header.py "
                        "(run python tools/notebook_header.py --refresh)")
    return problems


def refresh_header(nb, notebook_path: str, pub: Publication) -> bool:
    """Bring a notebook's badge and Colab cell up to date in place (ids, metadata and other cells kept).

    Returns:
        Whether anything changed.

    Raises:
        ValueError: the first cell is not a markdown title cell.
    """
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ValueError(f"{notebook_path}: the first cell is not the markdown title cell; create the header "
                         f"with `python tools/notebook_header.py {notebook_path} \"NN · Title\"`")
    before = [c.source for c in nb.cells[:2]]
    title_cell = nb.cells[0]
    new_badge = badge(notebook_path, pub)
    if _BADGE_RE.search(title_cell.source):
        title_cell.source = _BADGE_RE.sub(lambda _: new_badge, title_cell.source, count=1)
    else:
        title_cell.source = title_cell.source.rstrip("\n") + "\n\n" + new_badge
    if len(nb.cells) >= 2 and nb.cells[1].cell_type == "code" and nb.cells[1].source.startswith(COLAB_MARK):
        nb.cells[1].source = colab_cell(pub)
    else:
        nb.cells.insert(1, nbformat.v4.new_code_cell(colab_cell(pub)))
    return [c.source for c in nb.cells[:2]] != before


def notebooks(root: Path = ROOT) -> list[Path]:
    """The course notebooks, ``notebooks/NN_*.ipynb``, in order."""
    return sorted((Path(root) / "notebooks").glob(NOTEBOOK_GLOB))


def refresh_all(root: Path = ROOT, *, write: bool = True) -> list[Path]:
    """Refresh (or with ``write=False`` only check) every notebook's header; returns the stale ones."""
    pub = publication(root)
    stale = []
    for path in notebooks(root):
        nb = nbformat.read(path, as_version=4)
        if refresh_header(nb, path.relative_to(root).as_posix(), pub):
            stale.append(path)
            if write:
                nbformat.write(nb, path)
    return stale


def _new_notebook(path: Path, title: str) -> int:
    rel = path.resolve().relative_to(ROOT).as_posix()
    pub = publication()
    if path.exists():
        nb = nbformat.read(path, as_version=4)
        if len(nb.cells) >= 2 and nb.cells[1].source.startswith(COLAB_MARK):
            nb.cells = nb.cells[2:]
    else:
        nb = nbformat.v4.new_notebook()
    nb.cells = header_cells(rel, title, pub) + nb.cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    print(f"wrote {path}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python tools/notebook_header.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", nargs="?", help="a notebook to create or retitle (with TITLE)")
    parser.add_argument("title", nargs="?", help='its title, e.g. "11 · New topic"')
    parser.add_argument("--refresh", action="store_true", help="rewrite every notebook's badge and Colab cell")
    parser.add_argument("--check", action="store_true", help="list notebooks whose header is stale; write nothing")
    parser.add_argument("--from-git-remote", nargs="?", const="origin", metavar="REMOTE",
                        help="copy this GitHub remote's owner/name into [tool.course] first (default: origin)")
    args = parser.parse_args(argv)
    try:
        if args.notebook:
            if not args.title or args.refresh or args.check:
                parser.error("give a notebook and its title, or use --refresh / --check alone")
            return _new_notebook(Path(args.notebook), args.title)
        if not (args.refresh or args.check):
            parser.error("nothing to do: use --refresh, --check, or NOTEBOOK TITLE")
        if args.from_git_remote and args.check:
            parser.error("--from-git-remote changes pyproject.toml: use it with --refresh, not --check")
        if args.from_git_remote:
            url = subprocess.run(["git", "-C", str(ROOT), "remote", "get-url", args.from_git_remote],
                                 capture_output=True, text=True)
            if url.returncode:
                raise ValueError(f"git has no remote {args.from_git_remote!r}: {url.stderr.strip()}")
            set_repository(repository_from_remote(url.stdout))
            print(f"[tool.course] repository = {repository_from_remote(url.stdout)!r} (from {args.from_git_remote})")
        pub = publication()
        stale = refresh_all(write=not args.check)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    verb = "stale" if args.check else "refreshed"
    for path in stale:
        print(f"{verb}: {path.relative_to(ROOT)}")
    print(f"{len(stale)} of {len(notebooks())} notebook headers {verb}; they point to "
          f"https://github.com/{pub.repository} (branch {pub.branch})")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
