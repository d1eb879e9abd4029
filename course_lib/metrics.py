"""Metrics of the course. Segmentation metrics here (notebook 02); image-quality metrics
(PSNR/SSIM via scikit-image, colourfulness, recognizer scores) are added by later notebooks."""
from __future__ import annotations

import torch


def _labels(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.ndim == target.ndim + 1:  # logits N x K x H x W
        pred = pred.argmax(1)
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    return pred.long().flatten(), target.long().flatten()


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``num_classes x num_classes`` int64 counts; row = true class, column = predicted class.

    Args:
        pred: class indices ``N x H x W`` (int) or logits ``N x K x H x W``.
        target: class indices ``N x H x W`` in ``[0, num_classes)``.
    """
    p, t = _labels(pred, target)
    if t.numel() and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(f"target labels must lie in [0, {num_classes}), got [{int(t.min())}, {int(t.max())}]")
    return torch.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def pixel_accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Share of pixels whose predicted class equals the target, in [0, 1]."""
    p, t = _labels(pred, target)
    return (p == t).double().mean().item()


def per_class_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Intersection over union per class, float64 ``num_classes``; NaN for a class absent from
    both prediction and target."""
    cm = confusion_matrix(pred, target, num_classes).double()
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(union, float("nan")))


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Mean of :func:`per_class_iou` over the classes that occur (Long et al. 2015, "mean IU")."""
    return torch.nanmean(per_class_iou(pred, target, num_classes)).item()
