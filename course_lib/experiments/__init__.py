"""Experiments of the course's notebooks as plain functions, each with a ``run(profile=None, seed=0, progress=True) -> dict``."""
