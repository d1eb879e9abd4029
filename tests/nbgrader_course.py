"""The course helpers live in ``course_admin`` (``course``, ``inprocess``, ``mutants``); this module
re-exports them for the tests (``import nbgrader_course as nc``). ``python tests/nbgrader_course.py``
still prints the mutant table (as does ``python -m course_admin mutants --verbose``)."""
import sys

from course_admin.course import *  # noqa: F401,F403
from course_admin.inprocess import *  # noqa: F401,F403
from course_admin.inprocess import _grade_cells, _NotGradeable, _run_cell  # noqa: F401 - names that start with _
from course_admin.mutants import *  # noqa: F401,F403
from course_admin.mutants import print_mutants as main

if __name__ == "__main__":
    sys.exit(main())
