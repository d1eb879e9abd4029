"""Progress bars of the course's loops (training, sampling).

In JupyterLab a bar is a widget that disappears when its loop ends; in a terminal it is a line of
text. A notebook run headless (``python -m course_lib run``, which sets ``COURSE_PROGRESS=text``
for its kernels) has no widget frontend: a widget bar would be saved as its first state,
"0%| | 0/N". There the bar is plain text on standard output, kept when the loop ends, so that the
saved notebook shows its last line (``100%|##########| N/N [00:03<00:00, ...]``) once the
carriage returns are resolved (nbconvert's ``CoalesceStreamsPreprocessor``, which ``run`` applies).
"""
from __future__ import annotations

import os
import sys
from typing import Iterable

PROGRESS_ENV = "COURSE_PROGRESS"
MODES = ("auto", "text")


def progress_mode() -> str:
    """The kind of bar to draw: ``COURSE_PROGRESS`` (``auto``: widgets in Jupyter, text elsewhere;
    ``text``: always text, kept at the end), default ``auto``.

    Raises:
        ValueError: for any other value of ``COURSE_PROGRESS``.
    """
    mode = os.environ.get(PROGRESS_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ValueError(f"{PROGRESS_ENV}={os.environ[PROGRESS_ENV]!r} is not a progress mode: "
                         f"use one of {', '.join(MODES)} (or leave it unset)")
    return mode


def progress_bar(iterable: Iterable, *, desc: str, total: int | None = None, disable: bool = False,
                 mininterval: float = 1.0):
    """A ``tqdm`` bar over ``iterable`` (see the module's docstring for which kind).

    Args:
        iterable: what to loop over.
        desc: the bar's label.
        total: number of items, if ``len(iterable)`` does not tell.
        disable: no bar at all (the iterable is still wrapped, so ``set_postfix`` works).
        mininterval: seconds between two redraws (1 s: headless runners time out waiting for
            output when a bar sends dozens of widget updates per second).
    """
    if progress_mode() == "text":
        from tqdm.std import tqdm

        return tqdm(iterable, desc=desc, total=total, disable=disable, mininterval=mininterval, leave=True,
                    file=sys.stdout, ascii=True)
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, disable=disable, mininterval=mininterval, leave=False)
