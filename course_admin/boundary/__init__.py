"""The grading boundary: the student's code in a sandbox, the tests and the scores outside it.

* :mod:`.server`: the student's side (runs the student's cells, answers calls; in the sandbox);
* :mod:`.client`: the trusted side's proxies for what the student defined;
* :mod:`.trusted`: grades one notebook (``python -m course_admin.boundary.trusted SPEC``).

See docs/instructors.md, "The trust boundary".
"""
