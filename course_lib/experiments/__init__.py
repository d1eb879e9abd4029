"""Experiments of the course's notebooks as plain functions, each with a ``run(profile=None, seed=0, progress=True) -> dict``.

:func:`summarize_seeds` turns the tables of several seeds into one table of means and standard deviations
(``python -m course_lib reproduce NAME --seed 0 1 2`` prints it).
"""
from __future__ import annotations

import math
import statistics


def _mean_sd(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    if not all(math.isfinite(v) for v in values):  # e.g. the PSNR of real images, inf at every seed
        return (values[0], 0.0 if len(values) > 1 else float("nan")) if len(set(values)) == 1 else (float("nan"),) * 2
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else float("nan")


def summarize_seeds(tables: list[list[dict]]) -> list[dict]:
    """Mean and sample standard deviation over seeds of every numeric column, row by row.

    Args:
        tables: one experiment table per seed (a list of row dicts, as ``run()["table"]`` returns); rows
            are matched by the value of their first column (e.g. ``"objective"``), which must name the same
            rows in the same order in every table.

    Returns:
        One dict per row: the first column's value, ``"n_seeds"``, and for every numeric column ``c``
        (int or float, not bool) ``c`` = the mean and ``c_sd`` = the sample standard deviation (``nan``
        with one seed; ``nan`` values are left out of both, and a column that is ``nan`` for every seed
        stays ``nan``; a column that is the same infinity at every seed, such as the PSNR of real images,
        keeps it with sd 0, and mixed infinite values give ``nan``).

    Raises:
        ValueError: no tables, or tables whose rows differ (names or order).
    """
    if not tables:
        raise ValueError("summarize_seeds needs at least one table (one per seed)")
    key = next(iter(tables[0][0]))
    names = [row[key] for row in tables[0]]
    for t in tables[1:]:
        if [row.get(key) for row in t] != names:
            raise ValueError(f"the seeds' tables name different rows: {names} vs {[row.get(key) for row in t]}; "
                             "summarize only runs of the same experiment and profile")
    out = []
    for i, name in enumerate(names):
        row = {key: name, "n_seeds": len(tables)}
        for col, value in tables[0][i].items():
            if col == key or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            values = [float(t[i][col]) for t in tables if not math.isnan(float(t[i][col]))]
            row[col], row[col + "_sd"] = _mean_sd(values)
        out.append(row)
    return out
