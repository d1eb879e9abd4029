"""The quick test: ``python -m pytest -m "not slow"`` (under two minutes on 2 CPU cores; the full
suite is ``python -m pytest``).

Tests that take more than a few seconds are marked ``slow`` (the marker is registered in
pyproject.toml): here, by file or by test function for the files listed below, and in any test file
by ``@pytest.mark.slow``. The notebooks run by nbval are always slow. What the quick test leaves out
is still run by the full suite, which CI runs.
"""
from __future__ import annotations

from pathlib import Path

import pytest

SLOW_FILES = {
    "test_assignments.py",  # nbgrader round trips of every assignment and its mutants
    "test_instructor.py",  # sandboxed grading, a term end to end
    "test_lab.py",  # starts JupyterLab
    "test_release_setup.py",  # a released notebook in a fresh virtual environment
    "test_build.py",  # builds executed notebooks with a kernel
    "test_browser.py",  # JupyterLab in a real browser
    "test_boundary.py",  # grades notebooks through the boundary (a sandboxed process per notebook)
}
"""Test files whose every test is slow."""

SLOW_TESTS = {
    # each of these took about 1.5 s or more on 2 CPU cores at a load average of 10 (pytest --durations)
    "test_judges.py": ("test_shipped_recognizer_weights_recognize_held_out_images",
                       "test_recognizer_experiment_trains_with_the_stored_recipe_and_a_seed_fixes_it",
                       "test_frechet_recognizer_distance_orders_real_shuffled_and_noise",
                       "test_recognizer_training_reduces_the_loss"),
    "test_generative.py": ("test_generative_scores_rank_real_images_first",
                           "test_shipped_generative_weights_load_and_record_their_command",
                           "test_a_seed_fixes_the_training_exactly", "test_vae_shapes_and_training_steps_lower_the_loss",
                           "test_dcgan_training_steps_lower_the_discriminator_loss", "test_toy_gan_generator_moves_to_the_data"),
    "test_diffusion.py": ("test_ddpm_row_of_the_generative_score_table_samples_images",
                          "test_retraining_a_few_steps_lowers_the_loss", "test_notebook_09_ddpm_step_is_the_library_step",
                          "test_a_seed_fixes_the_training_exactly_and_the_average_is_stored",
                          "test_samplers_recover_gaussian_data_with_exact_denoiser"),
    "test_colorization.py": ("test_notebook_train_step_is_the_library_train_step",
                             "test_a_few_training_steps_lower_the_loss", "test_data_is_disjoint_and_well_formed",
                             "test_evaluate_table", "test_notebook_forward_is_the_library_forward",
                             "test_stored_bins_are_the_in_gamut_bins_of_srgb"),
    "test_dense_prediction.py": ("test_dense_training_reduces_loss", "test_sliding_window_training_reduces_loss",
                                 "test_train_then_load_returns_plain_data"),
    "test_repository.py": ("test_run_command_executes_notebooks_and_reports_a_table",),
    "test_restoration.py": ("test_srcnn_retrains_and_loss_falls", "test_caltech_restoration_sets_are_the_shipped_splits",
                            "test_denoiser_and_context_encoder_retrain_and_loss_falls"),
    "test_metrics.py": ("test_plain_psnr_by_hand_in_every_value_range",),
    "test_translation.py": ("test_pix2pix_few_steps_reduce_the_l1_loss", "test_cyclegan_few_steps_reduce_the_cycle_loss",
                            "test_notebook_08_training_step_is_the_librarys",
                            "test_training_repeats_exactly_with_the_same_seed",
                            "test_stored_pix2pix_generators_load_and_beat_chance",
                            "test_notebook_06_training_step_is_the_librarys"),
    "test_pix2pix.py": ("test_full_width_official_layout_keys_and_shapes",),
    "test_layout.py": ("test_importing_course_admin_reads_no_assignment",  # fresh interpreters importing torch
                       "test_importing_course_lib_loads_no_course_admin_and_reads_no_assignment",
                       "test_the_command_line_lists_every_command"),
    "test_experiments.py": ("test_cli_train_then_reproduce_several_seeds",),
    "test_colab.py": ("test_colab_cell_installs_course_lib_in_a_simulated_colab",),  # clones and installs
    "test_data_pix2pix.py": ("test_unpaired_domains_break_the_pairs_and_keep_a_paired_test_set",),
}
"""Slow test functions (all their parametrizations) of files that are otherwise quick."""


def is_slow(item: pytest.Item) -> bool:
    """Whether the quick test leaves ``item`` out: a notebook cell, a test of a slow file, a listed slow test."""
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        return True
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    return path.name in SLOW_FILES or name in SLOW_TESTS.get(path.name, ())


def pytest_collection_modifyitems(config, items):
    """Mark the slow tests (see :func:`is_slow`)."""
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


def pytest_ignore_collect(collection_path: Path, config):
    """With exactly ``-m "not slow"`` (the quick test), do not even import the slow files or read the
    notebooks: every test in them would be deselected anyway, and collecting them costs seconds."""
    if (config.getoption("markexpr", "") or "").strip() != "not slow":
        return None
    if collection_path.suffix == ".ipynb" or collection_path.name in SLOW_FILES:
        return True
    return None
