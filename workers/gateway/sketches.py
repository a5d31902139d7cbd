"""Per-slot counts of live inputs and scores over the reference profile's bins.

A model loaded with a reference profile (``LoadModelRequest.profile``) gets a
``Sketch``: for each profiled feature, rows per reference bin, plus rows per
prediction bin. Counting a small request is one ``bisect`` per feature on the
row's Python values (numpy's per-call overhead would cost more than the whole
count); a large batch is one ``searchsorted`` + ``bincount`` per feature. It
stays on: ``bench/drift.py`` measures what it adds to p50. Everything runs on the
event-loop thread, like ``SlotStats``, so no lock is needed.

``/admin/sketches`` reads the window; ``POST /admin/sketches/reset`` reads
and starts a new one atomically (what the drift monitor does). Cumulative
counts since load are exported to Prometheus as
``medpipe_gateway_feature_rows_total{slot,feature,bin}`` while the number of
series stays under ``MAX_PROMETHEUS_SERIES``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol
from weakref import WeakKeyDictionary

import numpy as np
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from medpipe.contracts.drift import GatewaySketches, SlotSketch
from medpipe.contracts.profile import (
    PROFILE_PREDICTION_BINS,
    FeatureKind,
    FeatureProfile,
    ReferenceProfile,
)
from medpipe.workers.gateway.loader import LoadedModel

#: Requests with at most this many rows are counted row by row in Python (cheaper than
#: numpy's per-call overhead); larger ones with ``searchsorted`` + ``bincount``.
SMALL_BATCH = 16
#: Request ids remembered per model for label feedback (the most recent ones).
REMEMBERED_REQUESTS = 20_000
#: Above this many (slot, feature, bin) series, features are not exported to Prometheus.
MAX_PROMETHEUS_SERIES = 2000


class _Counter:
    """One feature's bins and its window and cumulative counts (plain lists: a one-row
    request costs a ``bisect`` and two list increments, far less than numpy calls)."""

    __slots__ = ("feature", "tensor", "column", "kind", "edges", "index", "bins", "window",
                 "total")

    def __init__(self, f: FeatureProfile) -> None:
        self.feature, self.tensor, self.column, self.bins = f.name, f.tensor, f.column, f.bins
        self.kind: FeatureKind = f.kind
        self.edges = list(f.edges)
        self.index = {c: i for i, c in enumerate(f.categories)}
        self.window = [0] * self.bins
        self.total = [0] * self.bins

    def count_rows(self, rows: list[list[Any]]) -> None:
        """Count a few rows (already Python values): one bisect or dict lookup each."""
        col, window, total = self.column, self.window, self.total
        if self.kind is FeatureKind.NUMERIC:
            edges = self.edges
            for row in rows:
                i = bisect_right(edges, row[col])  # NaN sorts last, like searchsorted
                window[i] += 1
                total[i] += 1
        else:
            other, index = self.bins - 1, self.index
            for row in rows:
                i = index.get(str(row[col]), other)
                window[i] += 1
                total[i] += 1

    def count_array(self, arr: np.ndarray) -> None:
        """Count a large batch with one ``searchsorted`` + ``bincount``."""
        col = arr[:, self.column] if arr.ndim == 2 else arr
        if self.kind is FeatureKind.NUMERIC:
            idx = np.searchsorted(np.asarray(self.edges, dtype=np.float64),
                                  col.astype(np.float64, copy=False), side="right")
        else:
            other = self.bins - 1
            idx = np.fromiter((self.index.get(str(v), other) for v in col), dtype=np.int64,
                              count=len(col))
        counts = np.bincount(idx, minlength=self.bins).tolist()
        for i, n in enumerate(counts):
            if n:
                self.window[i] += n
                self.total[i] += n

    def reset(self) -> None:
        self.window = [0] * self.bins


class Sketch:
    """The counters of one loaded model."""

    def __init__(self, version: str, profile: ReferenceProfile) -> None:
        """Args:
        version: the model version these counts belong to.
        profile: its reference profile (the bins).
        """
        self.version = version
        self.counters = [_Counter(f) for f in profile.features]
        self._by_tensor: dict[str, list[_Counter]] = {}
        for c in self.counters:
            self._by_tensor.setdefault(c.tensor, []).append(c)
        self.predictions = [0] * PROFILE_PREDICTION_BINS
        self.rows = 0
        self.started = datetime.now(UTC)
        #: request id -> prediction bin of its (first) score, for label feedback
        self._recent: OrderedDict[str, int] = OrderedDict()
        self.positive = [0] * PROFILE_PREDICTION_BINS
        self.negative = [0] * PROFILE_PREDICTION_BINS

    def remember(self, request_id: str | None, scores: np.ndarray | None) -> None:
        """Keep a request's score bin until its outcome is reported (bounded)."""
        if request_id is None or scores is None or not scores.size:
            return
        s = float(scores.flat[0])
        if s != s:
            return
        self._recent[request_id] = min(max(int(s * PROFILE_PREDICTION_BINS), 0),
                                       PROFILE_PREDICTION_BINS - 1)
        if len(self._recent) > REMEMBERED_REQUESTS:
            self._recent.popitem(last=False)

    def feedback(self, request_id: str, outcome: bool) -> bool:
        """Count the observed outcome of a remembered request (once); False if unknown."""
        i = self._recent.pop(request_id, None)
        if i is None:
            return False
        (self.positive if outcome else self.negative)[i] += 1
        return True

    def observe(self, feeds: dict[str, np.ndarray], scores: np.ndarray | None) -> None:
        """Count one request's rows (feeds as decoded) and the scores it produced."""
        rows = 0
        for tensor, counters in self._by_tensor.items():
            arr = feeds.get(tensor)
            if arr is None or arr.ndim not in (1, 2) or not len(arr):
                continue
            rows = len(arr)
            width = arr.shape[1] if arr.ndim == 2 else 1
            usable = [c for c in counters if c.column < width]
            if rows <= SMALL_BATCH:
                values = arr.tolist() if arr.ndim == 2 else [[v] for v in arr.tolist()]
                for c in usable:
                    c.count_rows(values)
            else:
                for c in usable:
                    c.count_array(arr)
        self.rows += rows
        if scores is not None and scores.size:
            self._scores(scores)

    def _scores(self, scores: np.ndarray) -> None:
        bins, window = PROFILE_PREDICTION_BINS, self.predictions
        if scores.size <= SMALL_BATCH:
            for s in scores.tolist():
                if s == s and s not in (float("inf"), float("-inf")):
                    i = min(max(int(s * bins), 0), bins - 1)
                    window[i] += 1
            return
        s = scores[np.isfinite(scores)]
        idx = np.clip((s * bins).astype(np.int64), 0, bins - 1)
        for i, n in enumerate(np.bincount(idx, minlength=bins).tolist()):
            window[i] += n

    def read(self, reset: bool = False) -> SlotSketch:
        """The window's counts (and a new window when ``reset``)."""
        out = SlotSketch(version=self.version, rows=self.rows,
                         features={c.feature: list(c.window) for c in self.counters},
                         predictions=list(self.predictions), window_started_at=self.started,
                         labelled_positive=list(self.positive),
                         labelled_negative=list(self.negative))
        if reset:
            self.positive = [0] * PROFILE_PREDICTION_BINS
            self.negative = [0] * PROFILE_PREDICTION_BINS
            for c in self.counters:
                c.reset()
            self.predictions = [0] * PROFILE_PREDICTION_BINS
            self.rows = 0
            self.started = datetime.now(UTC)
        return out


class SketchBook:
    """Sketches by model identity (version, digest): they follow a model from canary
    to stable (promotion) and back (rollback) without being rebuilt or lost."""

    def __init__(self, enabled: bool = True) -> None:
        """Args:
        enabled: False turns counting off (the benchmark's baseline).
        """
        self.enabled = enabled
        self._sketches: dict[tuple[str, str], Sketch] = {}

    def get(self, version: str, sha256: str, profile: ReferenceProfile | None) -> Sketch | None:
        """The sketch of a model (created at first use); None without a profile."""
        if not self.enabled or profile is None or not profile.features and \
                not profile.prediction_counts:
            return None
        key = (version, sha256)
        sketch = self._sketches.get(key)
        if sketch is None:
            sketch = self._sketches[key] = Sketch(version, profile)
        return sketch

    def keep(self, keys: set[tuple[str, str]]) -> None:
        """Forget sketches of models no slot holds any more."""
        for key in list(self._sketches):
            if key not in keys:
                del self._sketches[key]

    def read(self, slots: dict[str, Sketch | None], reset: bool = False) -> GatewaySketches:
        """The windows of the serving slots' sketches."""
        return GatewaySketches(**{slot: s.read(reset) if s is not None else None
                                  for slot, s in slots.items()})

    def of(self, model: LoadedModel) -> Sketch | None:
        """The sketch of a loaded model (None when it came without a profile)."""
        source = model.source
        return self.get(model.version, model.sha256,
                        source.profile if source is not None else None)

    def serving(self, slots: Slots) -> dict[str, Sketch | None]:
        """Serving slot -> its model's sketch."""
        return {slot: self.of(m) if m is not None else None
                for slot, m in (("stable", slots.stable), ("canary", slots.canary))}

    def window(self, slots: Slots, reset: bool = False) -> GatewaySketches:
        """The serving slots' windows (``reset``: new windows, atomically on the loop)."""
        self.keep({(m.version, m.sha256) for m in (slots.stable, slots.canary,
                                                   slots.previous) if m})
        return self.read(self.serving(slots), reset)

    def feedback(self, slots: Slots, request_id: str, outcome: bool) -> bool:
        """Count a request's observed outcome on the serving sketch that answered it."""
        return any(s.feedback(request_id, outcome) for s in self.serving(slots).values() if s)


class Slots(Protocol):
    """What the sketches need of the gateway: the models in its slots."""

    stable: LoadedModel | None
    canary: LoadedModel | None
    previous: LoadedModel | None


_BOOKS: WeakKeyDictionary[Any, SketchBook] = WeakKeyDictionary()


def book_of(gateway: Slots) -> SketchBook:
    """The sketch book of one gateway (made at first use, gone with the gateway)."""
    book = _BOOKS.get(gateway)
    if book is None:
        book = _BOOKS[gateway] = SketchBook()
    return book



class SketchCollector(Collector):
    """``medpipe_gateway_feature_rows_total{slot,feature,bin}``: cumulative rows per
    reference bin since the model was loaded (bins are profile indices: the edges
    are in the profile, not in label values, so the series stay bounded)."""

    def __init__(self, slots: Callable[[], dict[str, Sketch | None]]) -> None:
        """Args:
        slots: serving slot -> its model's sketch, read at scrape time.
        """
        self._slots = slots

    def collect(self) -> Iterator[Metric]:
        """One counter family (left out when it would exceed ``MAX_PROMETHEUS_SERIES``)."""
        family = CounterMetricFamily("medpipe_gateway_feature_rows",
                                     "Input rows per reference-profile bin",
                                     labels=["slot", "feature", "bin"])
        slots = self._slots()
        series = sum(c.bins for s in slots.values() if s for c in s.counters)
        if series <= MAX_PROMETHEUS_SERIES:
            for slot, s in slots.items():
                for c in s.counters if s else ():
                    for i, n in enumerate(c.total):
                        family.add_metric([slot, c.feature, str(i)], n)
        yield family
