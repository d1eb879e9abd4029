"""Where the bundled datasets live."""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "COURSE_DATA_DIR"


class DatasetError(RuntimeError):
    """A dataset file is missing, corrupt or of the wrong kind. The message says how to fix it."""


def repo_root() -> Path:
    """The course repository's root (the folder holding ``course_lib/`` and ``datasets/``)."""
    return Path(__file__).resolve().parents[2]


def dataset_dir(name: str) -> Path:
    """Folder of one bundled dataset: ``$COURSE_DATA_DIR/<name>`` if that variable is set,
    else ``<repo>/datasets/<name>``.

    Raises:
        DatasetError: if the folder does not exist (e.g. ``course_lib`` was installed
            from a wheel without the repository); the message says what to do.
    """
    base = os.environ.get(DATA_ENV_VAR)
    folder = Path(base) / name if base else repo_root() / "datasets" / name
    if not folder.is_dir():
        raise DatasetError(
            f"dataset folder {folder} not found. course_lib reads its bundled data from the course "
            f"repository: clone it and install with `pip install -e .`, or set {DATA_ENV_VAR} to a "
            f"folder that holds {name}/."
        )
    return folder
