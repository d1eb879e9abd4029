"""The course helpers now live in ``course_lib.instructor.course``; this module re-exports them
for the tests (``import nbgrader_course as nc``). ``python tests/nbgrader_course.py`` still prints
the mutant table (as does ``python -m course_lib instructor mutants --verbose``)."""
import sys

from course_lib.instructor.course import *  # noqa: F401,F403
from course_lib.instructor.course import (  # noqa: F401 - names that start with _
    _grade_cells, _NotGradeable, _run_cell, main)

if __name__ == "__main__":
    sys.exit(main())
