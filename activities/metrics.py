"""Model quality figures on held-out rows (pure numpy, no side effects)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def auroc(labels: NDArray[Any], scores: NDArray[np.floating]) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties averaged).

    Returns NaN when only one class is present (AUROC is undefined there).
    """
    labels = np.asarray(labels).astype(bool)
    pos = int(labels.sum())
    neg = labels.size - pos
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(labels.size, dtype=np.float64)
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    u = ranks[labels].sum() - pos * (pos + 1) / 2.0
    return float(u / (pos * neg))


def accuracy(labels: NDArray[Any], scores: NDArray[np.floating],
             threshold: float = 0.5) -> float:
    """Share of rows whose thresholded score equals the label."""
    if labels.size == 0:
        return float("nan")
    return float(np.mean((np.asarray(scores) >= threshold) == np.asarray(labels).astype(bool)))


def expected_calibration_error(labels: NDArray[Any], scores: NDArray[np.floating],
                               bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    scores = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    labels = np.asarray(labels, dtype=np.float64)
    if scores.size == 0:
        return float("nan")
    idx = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if n:
            total += n * abs(float(scores[mask].mean()) - float(labels[mask].mean()))
    return total / scores.size


def top_label_calibration_error(labels: NDArray[Any], probs: NDArray[np.floating],
                                bins: int = 10) -> float:
    """Multiclass (top-label) ECE: confidence of the predicted class vs its accuracy."""
    if labels.size == 0:
        return float("nan")
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.int64)
    return expected_calibration_error(correct, conf, bins)


def one_vs_rest_auroc(labels: NDArray[Any], probs: NDArray[np.floating]
                      ) -> tuple[float, float]:
    """(macro, prevalence-weighted) AUROC one-vs-rest over classes present in ``labels``.

    A class absent from the rows has no AUROC and is left out of both means;
    both are NaN when fewer than two classes are present.
    """
    per, weights = [], []
    for k in range(probs.shape[1]):
        a = auroc(labels == k, probs[:, k])
        if not np.isnan(a):
            per.append(a)
            weights.append(int(np.count_nonzero(labels == k)))
    if not per:
        return float("nan"), float("nan")
    return float(np.mean(per)), float(np.average(per, weights=weights))
