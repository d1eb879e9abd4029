"""The instructor's tools on top of nbgrader: ``python -m course_admin <command>`` (or ``course-admin``).

Not part of what students read or import: ``course_lib`` never imports this package (a test
checks it). The pieces:

* :mod:`.cli`: the command line (release, collect, autograde, feedback, export, grade,
  check-leaks, mutants, new-mutant, sandbox-info); :mod:`.term` and :mod:`.leaks` do the work;
* :mod:`.course`: the course in ``assignments/`` (notebooks, nbgrader cells, nbgrader's API);
* :mod:`.inprocess`: a grader that runs a notebook in this process, for the mutants;
* :mod:`.mutants`: the mutants, small patches of the solution cells, and the mutation score;
* :mod:`.sandbox`, :mod:`.limits` and :mod:`.submission`: each submission graded in a throwaway
  copy of the course, with per-cell and per-notebook wall clocks;
* :mod:`.boundary`: the tests and the scores in a trusted process, the student's cells in a
  sandbox that never holds the tests, only plain data crossing back; :mod:`.bwrap`: that sandbox
  (bubblewrap: no network, read-only files, its own processes, resource limits);
* :mod:`.hygiene`: submitted notebooks checked against the source, feedback HTML sanitised,
  terminal escapes stripped; :mod:`.redact` and :mod:`.leaks`: hidden-test lines kept out of the
  feedback, and the check that finds them, plain or encoded.

See docs/instructors.md.
"""
