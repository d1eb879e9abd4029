"""Build the course's real-photo sets from Caltech-101 and copy Kodak24 (the script the datasets' READMEs name).

The code is :mod:`course_lib.data.build_photo_sets`, so that the full profile can build the uncapped photo set from
a downloaded Caltech-101 (:func:`course_lib.data.caltech.caltech_photos_full`); ``python tools/build_photo_sets.py
--help`` lists the options.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from course_lib.data.build_photo_sets import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
