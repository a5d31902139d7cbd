"""Reading a response's predictions per task, and counting them on fixed bins.

The gateway does not know in advance which task a request's slot will be
analysed for (both slots record on the canary's profile during a canary), so
a response is kept as a ``Predictions`` view over the output that holds
probabilities or values, and each task reads it its own way on demand:
binary a positive-class score, multiclass the predicted class label (arg-max
of the probabilities, by the model's own class labels), regression the value.
Counting is on bins fixed when the profile is set, so a scrape and the canary
analysis never see bins move under them; cardinality is bounded by the
profile (classes beyond it count as ``(other)``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from medpipe.activities.scores import first_scores
from medpipe.contracts.prediction import MAX_CLASS_LABEL, OTHER_CLASS, PredictionProfile


@dataclass(slots=True)
class Predictions:
    """One response's score output (and label output), read per task on demand (not to
    be changed: not frozen only because a frozen dataclass costs more to build, once per
    request).

    Attributes:
        output: the probabilities / ZipMap / score output as onnxruntime returned it,
            or None when the request did not ask for it.
        labels_output: the predicted-label output, when the request returned one.
        classes: the model's class labels in output order (None: not named).
    """

    output: Any
    labels_output: Any = None
    classes: tuple[str, ...] | None = None

    def _matrix(self) -> np.ndarray | None:
        out = self.output
        if isinstance(out, list):  # ZipMap: one {class: probability} per row
            if not out or not isinstance(out[0], dict):
                return None
            return np.array([list(d.values()) for d in out], dtype=np.float64)
        if out is None:
            return None
        a = np.asarray(out)
        return a if a.dtype.kind in "fiub" and a.size else None

    def scores(self) -> np.ndarray | None:
        """Binary: P(positive class) per row (column 1 of two, else the score)."""
        m = self._matrix()
        return first_scores(m) if m is not None else None

    def values(self) -> np.ndarray | None:
        """Regression: the predicted value per row (first column of the score output)."""
        m = self._matrix()
        if m is None:
            return None
        return (m.reshape(m.shape[0], -1)[:, 0] if m.ndim >= 2 else m.ravel()).astype(
            np.float64, copy=False)

    def labels(self) -> list[str] | None:
        """Multiclass: the predicted class label per row."""
        out = self.output
        if isinstance(out, list) and out and isinstance(out[0], dict):
            keys = [str(k) for k in out[0]]
            return [keys[int(np.argmax(list(d.values())))] for d in out]
        m = self._matrix()
        if m is not None and m.ndim == 2 and m.shape[1] > 1:
            index = m.argmax(axis=1)
            if self.classes and len(self.classes) == m.shape[1]:
                return [self.classes[i] for i in index]
            return [str(i) for i in index]
        if self.labels_output is not None:
            raw = np.asarray(self.labels_output).ravel()
            return [v.decode() if isinstance(v, bytes) else str(v) for v in raw.tolist()]
        return None


class ClassCounts:
    """Rows per predicted class, over the profile's classes plus ``(other)``."""

    def __init__(self, profile: PredictionProfile) -> None:
        self.bins = profile.bins()
        self._index = {c: i for i, c in enumerate(profile.classes)}
        self._other = len(profile.classes)
        self.total = np.zeros(len(self.bins), dtype=np.int64)
        self.window = np.zeros(len(self.bins), dtype=np.int64)

    def add(self, labels: list[str]) -> None:
        """Count each row's predicted class (unknown labels count as ``(other)``)."""
        for label in labels:
            i = self._index.get(label[:MAX_CLASS_LABEL], self._other)
            self.total[i] += 1
            self.window[i] += 1

    def reset_window(self) -> None:
        """Start a new analysis window."""
        self.window[:] = 0


class ValueHistogram:
    """Rows per value bucket: ``le`` each edge, then an open bucket above the last."""

    def __init__(self, profile: PredictionProfile) -> None:
        self.edges = np.asarray(profile.value_edges(), dtype=np.float64)
        self._bounds = list(profile.value_edges())
        self.total = np.zeros(self.edges.size + 1, dtype=np.int64)
        self.window = np.zeros(self.edges.size + 1, dtype=np.int64)
        self.sum = 0.0

    def add(self, values: np.ndarray) -> None:
        """Count the finite values (NaN and ±inf are not predictions we can bin)."""
        if values.size == 1:  # the usual single-row request: no numpy round trips
            v = float(values.flat[0])
            if math.isfinite(v):
                i = bisect.bisect_left(self._bounds, v)
                self.total[i] += 1
                self.window[i] += 1
                self.sum += v
            return
        finite = values[np.isfinite(values)]
        if not finite.size:
            return
        counts = np.bincount(np.searchsorted(self.edges, finite, side="left"),
                             minlength=self.total.size)
        self.total += counts
        self.window += counts
        self.sum += float(finite.sum())

    def reset_window(self) -> None:
        """Start a new analysis window."""
        self.window[:] = 0


__all__ = ["OTHER_CLASS", "ClassCounts", "Predictions", "ValueHistogram"]
