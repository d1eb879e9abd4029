"""Figures of the experiments: ``plots/<experiment>.py`` draws what ``experiments/<experiment>.py`` computes.

Kept apart so that an experiment module holds only its ``Config``, ``build``, ``train_step`` and ``evaluate``.
"""
