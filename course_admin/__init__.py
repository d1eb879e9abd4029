"""The instructor's tools on top of nbgrader: ``python -m course_admin <command>`` (or ``course-admin``).

Not part of what students read or import: ``course_lib`` never imports this package (a test
checks it). The pieces:

* :mod:`.cli`: the command line (release, collect, autograde, feedback, export, grade,
  check-leaks, mutants, new-mutant, sandbox-info); :mod:`.term` and :mod:`.leaks` do the work;
* :mod:`.course`: the course in ``assignments/`` (notebooks, nbgrader cells, nbgrader's API);
* :mod:`.inprocess`: a grader that runs a notebook in this process, for the mutants;
* :mod:`.mutants`: the mutants, small patches of the solution cells, and the mutation score;
* :mod:`.sandbox`, :mod:`.limits`, :mod:`.submission` and :mod:`.jail`: each submission graded
  in its own sandbox (resource limits, no network, a throwaway copy of the course, per-cell and
  per-notebook wall clocks); :mod:`.execute`: nbgrader's ``Execute`` made safe;
* :mod:`.guard`: the check of the test helpers run before each test cell, in the student's kernel;
* :mod:`.redact`: hidden-test lines removed from the feedback's outputs.

See docs/instructors.md.
"""
