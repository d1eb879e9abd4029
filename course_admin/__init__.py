"""Instructor tooling on top of nbgrader: ``python -m course_lib instructor <command>``.

* :mod:`.course`: the course in ``assignments/`` (notebooks, nbgrader cells, mutants, an in-process grader);
* :mod:`.cli`: release, collect, autograde, feedback, export, grade, check-leaks, mutants, sandbox-info;
* :mod:`.sandbox` and :mod:`.jail`: each submission graded in its own sandbox (resource limits, no
  network, a throwaway copy of the course, per-cell and per-notebook wall clocks);
* :mod:`.guard`: the check of the test helpers run before each test cell;
* :mod:`.redact`: hidden-test lines removed from the feedback's outputs.

See docs/instructors.md.
"""
