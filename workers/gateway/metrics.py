"""Per-slot request statistics, exposed to Prometheus and to the canary analysis.

One accumulator per slot feeds two views: cumulative counters and histograms for
``/metrics`` (monotonic, as Prometheus requires) and a resettable *window* (counts,
recent latencies, predictions) that a canary step reads and resets so it analyses
only its own bake. Predictions are recorded per task (``configure``): binary as a
histogram over fixed bins of [0, 1], multiclass as counts per predicted class,
regression as a histogram over edges fixed at load time (``predictions``); a new
profile restarts the per-task series, which Prometheus reads as a counter reset.
Everything is recorded on the event-loop thread, so no locks are needed; a custom
collector renders the cumulative view at scrape time, keeping the per-request cost
to a few microseconds.

Names follow the Prometheus naming guide: counters end in ``_total``, durations
are in seconds (``_seconds``), shares are ratios in [0, 1] (``_ratio``), a
dimensionless model score is ``_score``, a regression model's predicted value (in
the model's own unit, unknown here) is ``_value``, predicted classes are a counter
with a bounded ``class`` label, and the process and Python collectors
(``process_*``, ``python_*``) are exported beside ours.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import numpy as np
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from medpipe.contracts.deploy import PREDICTION_BINS, SlotMetrics
from medpipe.contracts.evaluate import Task
from medpipe.contracts.prediction import PredictionProfile
from medpipe.workers.gateway.predictions import ClassCounts, Predictions, ValueHistogram

#: Latency histogram buckets (seconds).
LATENCY_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Edges of the fixed prediction bins over [0, 1].
PREDICTION_EDGES: tuple[float, ...] = tuple(i / PREDICTION_BINS for i in range(PREDICTION_BINS + 1))
#: How many recent latencies the window keeps for its percentiles.
LATENCY_SAMPLES = 10_000


class SlotStats:
    """Counters, histograms and the analysis window of one slot."""

    def __init__(self, samples: int = LATENCY_SAMPLES) -> None:
        self.requests = 0
        self.errors: dict[str, int] = {"client": 0, "server": 0}
        self.latency_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        #: rows per prediction bin since start (plain ints: a one-row request adds to one
        #: of them, which costs a fraction of a numpy item update)
        self.prediction_totals = [0] * PREDICTION_BINS
        self.prediction_sum = 0.0
        self._samples = samples
        self.profile = PredictionProfile()
        self.classes: ClassCounts | None = None
        self.values: ValueHistogram | None = None
        self.reset_window()

    def configure(self, profile: PredictionProfile) -> None:
        """Record predictions for ``profile``'s task and bins from now on.

        A different profile restarts the multiclass and regression series and the
        window; the same profile again changes nothing.
        """
        if profile == self.profile:
            return
        self.profile = profile
        self.classes = ClassCounts(profile) if profile.task is Task.MULTICLASS else None
        self.values = ValueHistogram(profile) if profile.task is Task.REGRESSION else None
        self.reset_window()

    def reset_window(self) -> None:
        """Start a new analysis window (cumulative Prometheus figures are untouched)."""
        self.w_requests = 0
        self.w_errors = 0
        self.w_server_errors = 0
        self.w_latencies = [0.0] * self._samples
        self.w_pos = 0
        self.w_filled = 0
        self.w_prediction_counts = [0] * PREDICTION_BINS
        self.w_started = datetime.now(UTC)
        for sketch in (self.classes, self.values):
            if sketch is not None:
                sketch.reset_window()

    @property
    def prediction_counts(self) -> np.ndarray:
        """Rows per prediction bin since start."""
        return np.array(self.prediction_totals, dtype=np.int64)

    @property
    def w_predictions(self) -> np.ndarray:
        """Rows per prediction bin in the analysis window."""
        return np.array(self.w_prediction_counts, dtype=np.int64)

    def _latency(self, seconds: float) -> None:
        self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.w_latencies[self.w_pos] = seconds
        self.w_pos = (self.w_pos + 1) % self._samples
        if self.w_filled < self._samples:
            self.w_filled += 1

    def observe(self, seconds: float, predictions: Predictions | None,
                scores: np.ndarray | None = None) -> None:
        """Record a successful request and the predictions it returned.

        ``scores``: the binary scores when the caller already read them (the drift
        sketch did), so the hot path reads them once.
        """
        self.requests += 1
        self.w_requests += 1
        self._latency(seconds)
        if predictions is None:
            return
        if self.classes is not None:
            labels = predictions.labels()
            if labels:
                self.classes.add(labels)
            return
        if self.values is not None:
            values = predictions.values()
            if values is not None:
                self.values.add(values)
            return
        if scores is None:
            out = predictions.output
            if isinstance(out, np.ndarray) and out.size == 1 and out.dtype.kind in "fiub":
                # one row, one score (what first_scores reads from it): no array work
                self._score(float(out.item()))
                return
            scores = predictions.scores()
        self._scores(scores)

    def _score(self, value: float) -> None:
        """Binary, one prediction: bin it (NaN or infinite: not a prediction, as in
        ``_scores``)."""
        if not math.isfinite(value):
            return
        index = min(max(int(value * PREDICTION_BINS), 0), PREDICTION_BINS - 1)
        self.prediction_totals[index] += 1
        self.w_prediction_counts[index] += 1
        self.prediction_sum += value

    def _scores(self, scores: np.ndarray | None) -> None:
        """Binary: bin positive-class probabilities over [0, 1]."""
        if scores is None or scores.size == 0:
            return
        if scores.size == 1:
            self._score(float(scores[0]))
            return
        finite = scores[np.isfinite(scores)]
        index = np.clip((finite * PREDICTION_BINS).astype(np.int64), 0, PREDICTION_BINS - 1)
        counts = np.bincount(index, minlength=PREDICTION_BINS).tolist()
        for i, n in enumerate(counts):
            if n:
                self.prediction_totals[i] += n
                self.w_prediction_counts[i] += n
        self.prediction_sum += float(finite.sum())

    def error(self, kind: str, seconds: float) -> None:
        """Record a failed request (``kind``: ``client`` or ``server``)."""
        self.requests += 1
        self.w_requests += 1
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.w_errors += 1
        if kind == "server":
            self.w_server_errors += 1
        self._latency(seconds)

    def window(self) -> SlotMetrics:
        """The analysis window's figures."""
        p50 = p99 = None
        if self.w_filled:
            recent = np.asarray(self.w_latencies[: self.w_filled]) * 1000.0
            p50, p99 = (float(v) for v in np.percentile(recent, [50, 99]))
        return SlotMetrics(
            requests=self.w_requests, errors=self.w_errors, server_errors=self.w_server_errors,
            latency_p50_ms=p50, latency_p99_ms=p99, prediction_bins=list(PREDICTION_EDGES),
            prediction_counts=list(self.w_prediction_counts),
            window_started_at=self.w_started, task=self.profile.task,
            classes=list(self.classes.bins) if self.classes else [],
            class_counts=[int(c) for c in self.classes.window] if self.classes else [],
            value_edges=[float(e) for e in self.values.edges] if self.values else [],
            value_counts=[int(c) for c in self.values.window] if self.values else [])


def register_process_collectors(registry: CollectorRegistry) -> None:
    """Add the default process, platform and GC collectors to ``registry``."""
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)


class GatewayCollector(Collector):
    """Renders every slot's cumulative figures in the Prometheus exposition format."""

    def __init__(self, stats: dict[str, SlotStats], weight: Callable[[], int],
                 models: Callable[[], list[tuple[str, str, str, str]]],
                 out_of_service: Callable[[], list[str]] = list,
                 allow_unsigned: bool = False) -> None:
        """Args:
        stats: slot name -> its accumulator (``none`` for requests refused before routing).
        weight: current canary weight (percent; exported as a ratio).
        models: ``(slot, name, version, provider)`` for every loaded slot.
        out_of_service: slots whose model was taken out of service (revoked signer).
        allow_unsigned: the gateway loads unsigned models (exported so it can alert).
        """
        self._stats = stats
        self._weight = weight
        self._models = models
        self._out_of_service = out_of_service
        self._allow_unsigned = allow_unsigned

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the accumulators (called at scrape time)."""
        requests = CounterMetricFamily("medpipe_gateway_requests", "Inference requests by slot",
                                       labels=["slot"])
        errors = CounterMetricFamily("medpipe_gateway_errors", "Failed inference requests",
                                     labels=["slot", "kind"])
        latency = HistogramMetricFamily("medpipe_gateway_request_latency_seconds",
                                        "Server-side inference latency", labels=["slot"])
        predictions = HistogramMetricFamily("medpipe_gateway_prediction_score",
                                            "Binary: positive-class probability per row",
                                            labels=["slot"])
        classes = CounterMetricFamily("medpipe_gateway_predicted_class",
                                      "Multiclass: rows predicted as each class",
                                      labels=["slot", "class"])
        values = HistogramMetricFamily("medpipe_gateway_prediction_value",
                                       "Regression: predicted value per row (model's unit)",
                                       labels=["slot"])
        for slot, s in self._stats.items():
            requests.add_metric([slot], s.requests)
            for kind, n in s.errors.items():
                errors.add_metric([slot, kind], n)
            if slot == "none":
                continue
            latency.add_metric([slot], _cumulative(LATENCY_BUCKETS, s.latency_counts),
                               s.latency_sum)
            if s.classes is not None:
                for label, count in zip(s.classes.bins, s.classes.total, strict=True):
                    classes.add_metric([slot, label], int(count))
            elif s.values is not None:
                values.add_metric([slot], _cumulative(tuple(s.values.edges.tolist()),
                                                      [int(c) for c in s.values.total]),
                                  s.values.sum)
            else:
                predictions.add_metric([slot], _cumulative(
                    PREDICTION_EDGES[1:], [*s.prediction_totals, 0]),
                    s.prediction_sum)
        weight = GaugeMetricFamily("medpipe_gateway_canary_weight_ratio",
                                   "Share of requests routed to the canary (0-1)")
        weight.add_metric([], self._weight() / 100.0)
        out = GaugeMetricFamily("medpipe_gateway_slot_out_of_service",
                                "1 for a slot whose model was taken out of service",
                                labels=["slot"])
        for slot in self._out_of_service():
            out.add_metric([slot], 1)
        unsigned = GaugeMetricFamily("medpipe_gateway_unsigned_models_allowed",
                                     "1 when the gateway runs with --allow-unsigned")
        unsigned.add_metric([], 1 if self._allow_unsigned else 0)
        info = GaugeMetricFamily("medpipe_gateway_model_info", "Model loaded in each slot",
                                 labels=["slot", "name", "version", "provider"])
        for model in self._models():
            info.add_metric(list(model), 1)
        yield from (requests, errors, latency, predictions, classes, values, weight, info, out,
                    unsigned)


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    """Per-bucket counts (last one: overflow) -> cumulative ``le`` buckets ending at +Inf."""
    out: list[tuple[str, float]] = []
    total = 0
    for bound, count in zip(bounds, counts, strict=False):
        total += count
        out.append((repr(float(bound)), total))
    total += counts[len(bounds)] if len(counts) > len(bounds) else 0
    out.append(("+Inf", total))
    return out
