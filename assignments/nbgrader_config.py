"""nbgrader configuration of the course's assignments (nbgrader 0.9.6).

Run nbgrader from this folder (see README.md): it reads this file from the current directory.
"""
import os

c = get_config()  # noqa: F821 - defined by traitlets when it loads this file

# The course is this folder, wherever it is checked out or copied (the tests grade a copy in a
# temporary directory): source/, release/, submitted/, autograded/, feedback/ and gradebook.db.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "img2img-course"

# What students find in place of each solution region: an error that says what to do, rather than
# nbgrader's bare `raise NotImplementedError()`.
c.ClearSolutions.code_stub = {
    "python": 'raise NotImplementedError("Replace this line with your solution.")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell timeout (seconds) when autograding; nbgrader's default is 30. The slowest cell,
# the setup cell that imports torch, takes a few seconds on a cold machine and every test
# cell well under one second on a laptop CPU, so 60 s leaves room for a busy grading server
# (several kernels at once), while a submission that loops forever costs one minute per cell,
# not the whole grading run. (nbgrader 0.9 reads Execute.timeout; the old
# ExecutePreprocessor.timeout is ignored.)
c.Execute.timeout = 60

# Feedback shows the student's notebook with the grades; without ClearHiddenTests it would also
# show the source of the hidden tests. Outputs can still quote them (a traceback shows the failing
# line; a submission can print the kernel's input history): RedactHiddenTests replaces every output
# line that contains a hidden-test line (course_admin/redact.py). The assertion message of
# a failing check (expected, got, hint) stays: that is the feedback.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
    "course_admin.redact.RedactHiddenTests",
]

# A release may carry the course_lib wheel beside the notebook (python -m course_admin wheel; the
# release's setup cell installs it): nbgrader's submit and collect leave it out of submissions.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.whl"]
