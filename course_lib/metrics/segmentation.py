"""Dense-prediction scores (notebook 02): pixel accuracy, confusion matrix, IoU, accuracy near boundaries.

Long et al. 2015 (FCN), Sec. 5, define pixel accuracy and mean IU as used here.
"""
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

    Notebook 02, section 4 ("Results on the held-out canvases").

    Args:
        pred: class indices ``N x H x W`` (int) or logits ``N x K x H x W``.
        target: class indices ``N x H x W`` in ``[0, num_classes)``.
    """
    p, t = _labels(pred, target)
    if t.numel() and (t.min() < 0 or t.max() >= num_classes):
        raise ValueError(f"target labels must lie in [0, {num_classes}), got [{int(t.min())}, {int(t.max())}]")
    return torch.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def pixel_accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Share of pixels whose predicted class equals the target, in [0, 1].

    Notebook 02, section 4.
    """
    p, t = _labels(pred, target)
    return (p == t).double().mean().item()


def per_class_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Intersection over union per class, float64 ``num_classes``; NaN for a class absent from
    both prediction and target.

    Notebook 02, section 4.
    """
    cm = confusion_matrix(pred, target, num_classes).double()
    inter = cm.diag()
    union = cm.sum(0) + cm.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(union, float("nan")))


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Mean of :func:`per_class_iou` over the classes that occur (Long et al. 2015, "mean IU").

    Notebook 02, section 4.
    """
    return torch.nanmean(per_class_iou(pred, target, num_classes)).item()


def boundary_distance(target: torch.Tensor, max_distance: int = 4) -> torch.Tensor:
    """Chessboard distance of each pixel to the nearest label boundary, capped at ``max_distance``.

    Notebook 02, section 5 ("Where the errors are").

    A *boundary pixel* (distance 0) has at least one of its 8 neighbours with a different label;
    both sides of an edge count. Distances grow by one per 3 x 3 dilation of the boundary; pixels
    farther than ``max_distance - 1`` (and pixels of images with a single label) get ``max_distance``.
    Used to ask where errors lie: near edges (fine detail) or inside regions.

    Args:
        target: class indices ``N x H x W`` (integer dtype).
        max_distance: cap (>= 1).

    Returns:
        ``int64`` tensor ``N x H x W`` in ``[0, max_distance]``.

    Raises:
        ValueError: for a target that is not ``N x H x W`` or ``max_distance < 1``.
    """
    import torch.nn.functional as F

    if target.ndim != 3:
        raise ValueError(f"target must be N x H x W class indices, got shape {tuple(target.shape)}")
    if max_distance < 1:
        raise ValueError(f"max_distance must be >= 1, got {max_distance}")
    t = target.double()[:, None]
    hi = F.max_pool2d(t, 3, stride=1, padding=1)
    lo = -F.max_pool2d(-t, 3, stride=1, padding=1)
    reached = (hi != lo).double()
    dist = torch.full(target.shape, max_distance, dtype=torch.int64, device=target.device)
    for d in range(max_distance):
        if d:
            reached = F.max_pool2d(reached, 3, stride=1, padding=1)
        dist[(reached[:, 0] > 0) & (dist == max_distance)] = d
    return dist


def accuracy_by_boundary_distance(pred: torch.Tensor, target: torch.Tensor, max_distance: int = 4) -> list[float]:
    """Pixel accuracy per distance band from the label boundaries of ``target``.

    Notebook 02, section 5.

    Returns a list of ``max_distance + 1`` floats in [0, 1] (NaN for an empty band): element ``d``
    is the accuracy over pixels at chessboard distance ``d`` from the nearest boundary
    (see :func:`boundary_distance`); the last element covers all pixels ``>= max_distance`` away.
    Element 0 is the *boundary accuracy*: how well the fine detail is labelled.
    """
    p, t = _labels(pred, target)
    dist = boundary_distance(target.long(), max_distance).flatten()
    correct = (p == t).double()
    out = []
    for d in range(max_distance + 1):
        band = dist == d
        out.append(correct[band].mean().item() if band.any() else float("nan"))
    return out
