"""Per-task scorers: turn a model output and the label column into figures, batch by batch.

Classification keeps one compact label and score per held-out row (AUROC
needs the ranks of all scores: 5 bytes a row for binary); regression keeps
running sums only. Labels are matched to the classes the model names, as
text, so a model trained on 0/1 and a dataset holding 0/1 agree, and a label
the model never saw is refused rather than scored as wrong.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medpipe.activities.metrics import (
    accuracy,
    auroc,
    expected_calibration_error,
    one_vs_rest_auroc,
    top_label_calibration_error,
)
from medpipe.contracts.errors import DatasetMismatch, InvalidModel
from medpipe.contracts.evaluate import ModelMetrics, OutputChoice, OutputKind, Task
from medpipe.contracts.prediction import VALUE_BINS

MAX_SHOWN = 5
#: Regression predictions kept (a uniform sample) to place the gateways' bin edges.
EDGE_SAMPLE = 20_000


def _nan_none(v: float) -> float | None:
    return None if v is None or np.isnan(v) else float(v)


def label_text(col: pa.Array, label: str) -> pa.Array:
    """Label values as text ("1" for 1 and 1.0), the form model classes are compared in."""
    if col.null_count:
        raise DatasetMismatch(f"label column '{label}' has empty values in held-out rows")
    if pa.types.is_floating(col.type):
        ints = pc.cast(col, pa.int64(), safe=False)
        if pc.all(pc.equal(pc.cast(ints, col.type), col)).as_py():
            col = ints
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pc.utf8_trim_whitespace(col)
    return pc.cast(col, pa.string())


def _shown(values: list[str]) -> str:
    out = ", ".join(repr(v[:24]) for v in values[:MAX_SHOWN])
    return out + (f" (+{len(values) - MAX_SHOWN} more)" if len(values) > MAX_SHOWN else "")


def probabilities(out: Any, choice: OutputChoice, model: str) -> np.ndarray:
    """A [rows, classes] (or [rows] for scores) float array from the chosen output."""
    if choice.kind is OutputKind.ZIPMAP:
        if not out:
            return np.empty((0, len(choice.classes)), dtype=np.float32)
        keys = [str(k) for k in out[0]]
        if choice.classes and keys != list(choice.classes):
            order = [keys.index(c) for c in choice.classes]
        else:
            order = list(range(len(keys)))
        rows = np.array([list(d.values()) for d in out], dtype=np.float32)
        return rows[:, order]
    arr = np.asarray(out)
    if choice.kind is OutputKind.SCORE:
        if arr.ndim == 2 and arr.shape[1] != 1:
            raise InvalidModel(f"{model} output '{choice.output}' gave {arr.shape[1]} columns "
                               "where one score per row was expected")
        return arr.reshape(-1)
    if arr.ndim != 2:
        raise InvalidModel(f"{model} output '{choice.output}' gave shape {arr.shape}; "
                           "expected [rows, classes]")
    return arr


class Scorer(Protocol):
    """Accumulates one model's figures over batches."""

    def add(self, labels: pa.Array, out: Any) -> None: ...

    def metrics(self, seconds: float) -> ModelMetrics: ...


class _Classes:
    """Maps label text to class indices, refusing classes the model does not know."""

    def __init__(self, classes: tuple[str, ...], label: str, model: str) -> None:
        self.classes = classes
        self.label = label
        self.model = model
        self._set = pa.array(list(classes), pa.string())

    def indices(self, labels: pa.Array) -> np.ndarray:
        text = label_text(labels, self.label)
        idx = pc.index_in(text, value_set=self._set)
        if idx.null_count:
            unknown = pc.unique(pc.filter(text, pc.is_null(idx))).to_pylist()
            raise DatasetMismatch(
                f"label column '{self.label}' has classes {self.model} does not know: "
                f"{_shown([str(u) for u in unknown])}; the model's classes: "
                f"{_shown(list(self.classes))}")
        return idx.to_numpy(zero_copy_only=False).astype(np.int32)


class BinaryScorer:
    """AUROC, accuracy at 0.5 and calibration error of P(positive class)."""

    def __init__(self, choice: OutputChoice, positive: str | None, label: str,
                 model: str) -> None:
        classes = choice.classes
        if positive is not None and positive not in classes:
            raise DatasetMismatch(f"positive class {positive!r} is not one of {model}'s "
                                  f"classes: {_shown(list(classes))}")
        self.choice, self.model = choice, model
        self.pos = classes.index(positive) if positive is not None else len(classes) - 1
        self.map = _Classes(classes, label, model)
        self.labels: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []

    def add(self, labels: pa.Array, out: Any) -> None:
        idx = self.map.indices(labels)
        p = probabilities(out, self.choice, self.model)
        score = p[:, self.pos] if p.ndim == 2 else (p if self.pos == 1 else 1.0 - p)
        self.labels.append((idx == self.pos).astype(np.int8))
        self.scores.append(np.asarray(score, dtype=np.float32))

    def metrics(self, seconds: float) -> ModelMetrics:
        y = np.concatenate(self.labels) if self.labels else np.empty(0, np.int8)
        s = np.concatenate(self.scores) if self.scores else np.empty(0, np.float32)
        return ModelMetrics(
            rows=int(y.size), task=Task.BINARY, auroc=_nan_none(auroc(y, s)),
            accuracy=_nan_none(accuracy(y, s)),
            calibration_error=_nan_none(expected_calibration_error(y, s)),
            latency_ms_per_1k_rows=_latency(seconds, y.size))


class MulticlassScorer:
    """Macro/weighted one-vs-rest AUROC, accuracy, per-class recall, top-label calibration."""

    def __init__(self, choice: OutputChoice, label: str, model: str) -> None:
        self.choice, self.model = choice, model
        self.map = _Classes(choice.classes, label, model)
        self.labels: list[np.ndarray] = []
        self.probs: list[np.ndarray] = []

    def add(self, labels: pa.Array, out: Any) -> None:
        idx = self.map.indices(labels)
        p = probabilities(out, self.choice, self.model)
        if p.ndim != 2 or p.shape[1] != len(self.choice.classes):
            raise InvalidModel(f"{self.model} output '{self.choice.output}' gave "
                               f"{p.shape[1] if p.ndim == 2 else 1} columns for "
                               f"{len(self.choice.classes)} classes")
        self.labels.append(idx)
        self.probs.append(np.asarray(p, dtype=np.float32))

    def metrics(self, seconds: float) -> ModelMetrics:
        k = len(self.choice.classes)
        y = np.concatenate(self.labels) if self.labels else np.empty(0, np.int32)
        p = np.concatenate(self.probs) if self.probs else np.empty((0, k), np.float32)
        macro, weighted = one_vs_rest_auroc(y, p)
        pred = p.argmax(axis=1) if y.size else y
        recall = {c: float(np.mean(pred[y == i] == i)) for i, c in enumerate(self.choice.classes)
                  if np.any(y == i)}
        return ModelMetrics(
            rows=int(y.size), task=Task.MULTICLASS, auroc=_nan_none(macro),
            weighted_auroc=_nan_none(weighted),
            accuracy=float(np.mean(pred == y)) if y.size else None,
            calibration_error=_nan_none(top_label_calibration_error(y, p)),
            per_class_recall=recall, latency_ms_per_1k_rows=_latency(seconds, y.size))


class Reservoir:
    """A uniform sample of at most ``size`` values of a stream (constant memory).

    Each value draws a random priority from a seeded generator and the ``size``
    highest priorities are kept, so the sample (and the edges placed on it) is
    the same for the same rows in the same order.
    """

    def __init__(self, size: int = EDGE_SAMPLE, seed: int = 0) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self.values = np.empty(0, np.float64)
        self._keys = np.empty(0, np.float64)

    def add(self, values: np.ndarray) -> None:
        """Offer a batch of values to the sample."""
        values = np.concatenate([self.values, np.asarray(values, np.float64).ravel()])
        keys = np.concatenate([self._keys, self._rng.random(values.size - self.values.size)])
        if values.size > self.size:
            keep = np.argpartition(keys, values.size - self.size)[values.size - self.size:]
            values, keys = values[keep], keys[keep]
        self.values, self._keys = values, keys


def quantile_edges(values: np.ndarray, bins: int = VALUE_BINS) -> tuple[float, ...]:
    """Interior quantile edges splitting ``values`` into ``bins`` bins of equal share.

    The edges are observed values (``inverted_cdf``, so a model predicting a few
    distinct values keeps each of them inside one bin), de-duplicated, so such a
    model gets fewer edges; empty when fewer than two finite values are given.
    """
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return ()
    quantiles = np.quantile(finite, np.arange(1, bins) / bins, method="inverted_cdf")
    return tuple(sorted({float(q) for q in quantiles}))


class RegressionScorer:
    """MAE, RMSE and R² from running sums (constant memory), plus a sample of the
    predictions for the quantile edges the gateways bin served predictions over."""

    def __init__(self, choice: OutputChoice, label: str, model: str) -> None:
        self.choice, self.label, self.model = choice, label, model
        self.n = 0
        self.abs = self.sq = self.y_sum = self.y_sq = 0.0
        self.sample = Reservoir()

    def add(self, labels: pa.Array, out: Any) -> None:
        if not (pa.types.is_integer(labels.type) or pa.types.is_floating(labels.type)):
            raise DatasetMismatch(f"regression label column '{self.label}' is not numeric "
                                  f"({labels.type}); a regression task needs numbers")
        if labels.null_count:
            raise DatasetMismatch(f"label column '{self.label}' has empty values in "
                                  "held-out rows")
        y = labels.to_numpy(zero_copy_only=False).astype(np.float64)
        predicted = probabilities(out, self.choice, self.model).astype(np.float64)
        self.sample.add(predicted)
        e = predicted - y
        self.n += y.size
        self.abs += float(np.abs(e).sum())
        self.sq += float((e * e).sum())
        self.y_sum += float(y.sum())
        self.y_sq += float((y * y).sum())

    def metrics(self, seconds: float) -> ModelMetrics:
        n = self.n
        if not n:
            return ModelMetrics(rows=0, task=Task.REGRESSION, latency_ms_per_1k_rows=0.0)
        sst = self.y_sq - self.y_sum * self.y_sum / n
        return ModelMetrics(
            rows=n, task=Task.REGRESSION, mae=self.abs / n, rmse=float(np.sqrt(self.sq / n)),
            r2=1.0 - self.sq / sst if sst > 0 else None,
            latency_ms_per_1k_rows=_latency(seconds, n))

    def edges(self) -> tuple[float, ...]:
        """Quantile edges of the predictions seen (``VALUE_BINS`` bins)."""
        return quantile_edges(self.sample.values)


def _latency(seconds: float, rows: int) -> float:
    return (seconds * 1000.0 / max(rows, 1)) * 1000.0


def scorer_for(task: Task, choice: OutputChoice, positive: str | None, label: str,
               model: str) -> Scorer:
    """The scorer of ``task`` reading ``choice``."""
    if task is Task.BINARY:
        return BinaryScorer(choice, positive, label, model)
    if task is Task.MULTICLASS:
        return MulticlassScorer(choice, label, model)
    return RegressionScorer(choice, label, model)
