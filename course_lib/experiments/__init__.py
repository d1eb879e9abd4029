"""The course's experiments, one module per notebook topic, all of one shape (see :mod:`.common`).

``python -m course_lib train NAME [--seed ...]`` trains an experiment and stores its weights;
``python -m course_lib reproduce NAME [--seed ...] [--retrain]`` scores the stored weights and prints the
table (with several seeds, also their mean and sample standard deviation). Figures are in
:mod:`course_lib.experiments.plots`.
"""
