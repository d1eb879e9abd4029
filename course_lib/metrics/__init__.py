"""Metrics of the course, one module per topic; every name is importable from ``course_lib.metrics``.

* :mod:`.segmentation` -- pixel accuracy, IoU, accuracy by distance to a boundary (notebook 02);
* :mod:`.color` -- colorization AuC (raw and class-rebalanced), ab MSE, chroma, ab spread, colourfulness (notebook 03);
* :mod:`.judge` -- generated images judged by the course's recognizer: recognizer score and accuracy,
  Fréchet recognizer distance (notebooks 04-09);
* :mod:`.image` -- the one :func:`psnr` and :func:`ssim` (RGB, grey or BT.601 luma; border crop; mask),
  masked MSE, sharpness, pixel scores (notebooks 05-10).
"""
from .color import (ab_accuracy_auc, ab_accuracy_curve, ab_mse, ab_spread, class_rebalanced_weights, colourfulness,
                    mean_chroma)
from .image import masked_mse, pixel_scores, psnr, rgb_to_y, sharpness, ssim
from .judge import (feature_statistics, frechet_distance, frechet_recognizer_distance, recognizer_accuracy,
                    recognizer_score)
from .segmentation import (accuracy_by_boundary_distance, boundary_distance, confusion_matrix, mean_iou,
                           per_class_iou, pixel_accuracy)

__all__ = ["ab_accuracy_auc", "ab_accuracy_curve", "ab_mse", "ab_spread", "class_rebalanced_weights", "colourfulness",
           "mean_chroma", "masked_mse", "pixel_scores", "psnr",
           "rgb_to_y", "sharpness", "ssim", "feature_statistics", "frechet_distance", "frechet_recognizer_distance",
           "recognizer_accuracy", "recognizer_score", "accuracy_by_boundary_distance", "boundary_distance",
           "confusion_matrix", "mean_iou", "per_class_iou", "pixel_accuracy"]
