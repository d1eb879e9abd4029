"""``python -m course_admin <command>``: the instructor's command line (see :mod:`course_admin.cli`)."""
from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
