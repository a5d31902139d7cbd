"""The backup inference pathway: what answers when the stable model cannot.

A model's fallback is the previous stable kept warm (the default, when there is
one), a declared lighter model (signed and verified like any other), or a declared
rule returning a fixed safe default. It answers when the stable model fails a
request, misses its deadline, is behind an open circuit breaker
(``breaker.CircuitBreaker``) or was taken out of service (its signer revoked).
Every such answer says so (``parameters.medpipe_fallback = true``, with the kind,
the reason and what answered) and is counted per path, so on-call staff see both
in responses and in Prometheus.

State lives on the event-loop thread (like ``slots.Gateway``, which owns one
``FallbackPath`` and changes it under its lock).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from medpipe.contracts.deploy import (
    BreakerState,
    FallbackKind,
    FallbackRule,
    FallbackSpec,
    FallbackStatus,
    Slot,
)
from medpipe.contracts.errors import InvalidInput, MedpipeError
from medpipe.workers.gateway.breaker import CircuitBreaker
from medpipe.workers.gateway.loader import LoadedModel, ModelLoader
from medpipe.workers.gateway.metrics import LATENCY_BUCKETS, SlotStats, _cumulative
from medpipe.workers.gateway.tensors import OIP_TO_NUMPY, InputSpec

log = logging.getLogger(__name__)

#: Why a request was answered by the fallback (the ``reason`` label and parameter).
REASONS = ("primary_error", "primary_timeout", "breaker_open", "out_of_service")
#: A declared fallback model runs on the CPU: it must not share the accelerator whose loss
#: it covers.
FALLBACK_PROVIDERS = ["CPUExecutionProvider"]
#: Answer paths: the stable model, the fallback, or neither (a 5xx).
PATHS = ("primary", "fallback", "none")


@dataclass(frozen=True)
class Backup:
    """What would answer in the stable model's place: a model or a rule."""

    kind: FallbackKind
    model: LoadedModel | None = None
    rule: FallbackRule | None = None

    @property
    def version(self) -> str:
        """The ``model_version`` the answer reports (``rule:<name>`` for a rule)."""
        if self.model is not None:
            return self.model.version
        assert self.rule is not None
        return f"rule:{self.rule.name}"

    @property
    def label(self) -> str:
        """``kind:what`` for logs and the ``medpipe_fallback_source`` parameter."""
        if self.model is not None:
            return f"{self.kind.value}:{self.model.name}/{self.model.version}"
        return self.version

    def run(self, output_names: list[str] | None,
            feeds: dict[str, np.ndarray]) -> tuple[list[str], list[Any]]:
        """Answer one decoded request: ``(output names, arrays)``.

        A fallback model returns the requested outputs it has (all of them if it has
        none of those asked for); a rule returns its declared outputs for every row.
        """
        if self.model is not None:
            have = self.model.output_names
            names = [n for n in (output_names or have) if n in have] or have
            return names, self.model.run(names, feeds)
        assert self.rule is not None
        return rule_outputs(self.rule, feeds, output_names)


def rule_outputs(rule: FallbackRule, feeds: dict[str, np.ndarray],
                 output_names: list[str] | None) -> tuple[list[str], list[Any]]:
    """The rule's outputs, one row of ``value`` per request row (rows: the first
    input's first dimension; 1 for a scalar input)."""
    first = next(iter(feeds.values()), None)
    rows = int(first.shape[0]) if first is not None and first.ndim else 1
    wanted = [o for o in rule.outputs if output_names is None or o.name in output_names] \
        or list(rule.outputs)
    arrays: list[Any] = []
    for out in wanted:
        dtype = np.dtype(object) if out.datatype == "BYTES" else OIP_TO_NUMPY[out.datatype]
        values = [str(v).encode() for v in out.value] if out.datatype == "BYTES" else out.value
        arrays.append(np.tile(np.asarray(values, dtype=dtype), (rows, 1)))
    return [o.name for o in wanted], arrays


def check_compatible(stable: LoadedModel | None, fallback: LoadedModel) -> None:
    """A fallback model must read the requests the stable model reads.

    Raises:
        InvalidInput: an input of the stable model is missing from the fallback or
            has another datatype (named).
    """
    if stable is None:
        return
    for name, spec in stable.inputs.items():
        other = fallback.inputs.get(name)
        if other is None or other.datatype != spec.datatype:
            raise InvalidInput(
                f"fallback model {fallback.name} {fallback.version} cannot stand in for "
                f"{stable.name} {stable.version}: input '{name}' ({spec.datatype}) is "
                + ("missing" if other is None else f"{other.datatype} there"))


class FallbackPath:
    """One model's fallback: its declaration, declared model, breaker and counters."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec: FallbackSpec | None = None
        #: the declared model (``kind=model``), verified and open
        self.model: LoadedModel | None = None
        #: why the declared model is not serving (revoked, not restored)
        self.out_of_service: str | None = None
        self.breaker = CircuitBreaker(clock=clock)
        #: inputs and outputs of the last stable model, so a rule can still read
        #: requests after the stable model was taken out
        self.io: tuple[dict[str, InputSpec], list[str]] | None = None
        self.answers = {path: 0 for path in PATHS}
        self.by_reason: dict[tuple[str, str], int] = {}
        self.latency = SlotStats(samples=1)
        self._cached: tuple[Any, ...] | None = None

    @property
    def kind(self) -> FallbackKind:
        """The configured kind (``previous`` unless declared otherwise)."""
        return self.spec.kind if self.spec is not None else FallbackKind.PREVIOUS

    def declare(self, spec: FallbackSpec, model: LoadedModel | None) -> None:
        """Replace the declaration (``model``: the verified declared model, if any)."""
        self.spec, self.model, self.out_of_service = spec, model, None
        self.breaker.configure(spec.breaker)

    def new_stable(self, stable: LoadedModel | None) -> None:
        """Another model is stable: keep its signature (a rule reads requests with it
        once the model is gone) and close the breaker (its failures were the old one's)."""
        if stable is not None:
            self.io = (stable.inputs, stable.output_names)
        self.breaker.reset()

    def backup(self, previous: LoadedModel | None) -> Backup | None:
        """What can answer now, or ``None`` (asked on every request: cached)."""
        c = self._cached
        if c is not None and c[0] is previous and c[1] is self.model and c[2] is self.spec \
                and c[3] is self.io:
            return c[4]
        found = self._backup(previous)
        self._cached = (previous, self.model, self.spec, self.io, found)
        return found

    def _backup(self, previous: LoadedModel | None) -> Backup | None:
        kind = self.kind
        if kind is FallbackKind.PREVIOUS and previous is not None \
                and self._reads_requests(previous):
            return Backup(kind, model=previous)
        if kind is FallbackKind.MODEL and self.model is not None:
            return Backup(kind, model=self.model)
        if kind is FallbackKind.RULE and self.spec is not None and self.spec.rule is not None \
                and self.io is not None:
            return Backup(kind, rule=self.spec.rule)
        return None

    def unavailable(self, previous: LoadedModel | None) -> str:
        """Why ``backup()`` is ``None`` (appended to the 503 message)."""
        kind = self.kind
        if kind is FallbackKind.NONE:
            return "no fallback is configured for it"
        if kind is FallbackKind.PREVIOUS and previous is not None:
            return (f"its fallback, the previous version {previous.version}, reads other "
                    "inputs")
        if kind is FallbackKind.PREVIOUS:
            return "no fallback is configured for it (no previous version is kept warm)"
        if kind is FallbackKind.MODEL:
            return f"its fallback model is unavailable: {self.out_of_service or 'not loaded'}"
        return "its fallback rule cannot read requests (no model's inputs are known)"

    def _reads_requests(self, model: LoadedModel) -> bool:
        """``model`` reads what the stable model reads (same input names and datatypes)."""
        if self.io is None:
            return True
        return all(name in model.inputs and model.inputs[name].datatype == spec.datatype
                   for name, spec in self.io[0].items())

    def inputs(self, stable: LoadedModel | None, backup: Backup) -> tuple[dict[str, InputSpec],
                                                                         list[str]] | None:
        """The signature requests are decoded against when the stable model is gone."""
        if stable is not None:
            return stable.inputs, stable.output_names
        if backup.model is not None:
            return backup.model.inputs, backup.model.output_names
        return self.io

    def answered(self, path: str, seconds: float, kind: str = "", reason: str = "") -> None:
        """Count one answer (``path``: primary, fallback or none)."""
        self.answers[path] += 1
        if path == "fallback":
            self.by_reason[(kind, reason)] = self.by_reason.get((kind, reason), 0) + 1
            self.latency.observe(seconds, None)

    def status(self, previous: LoadedModel | None) -> FallbackStatus:
        """The admin view."""
        backup = self.backup(previous)
        model = backup.model if backup is not None else None
        return FallbackStatus(
            kind=self.kind, available=backup is not None,
            unavailable_reason=None if backup is not None else self.unavailable(previous),
            model=model.status(Slot.FALLBACK) if model is not None else None,
            rule=self.spec.rule if self.spec is not None else None,
            breaker=self.breaker.state, settings=self.breaker.settings,
            answered=self.answers["fallback"], spec=self.spec)

    async def restore(self, spec: FallbackSpec, loader: ModelLoader) -> str | None:
        """Declare a recorded fallback again after a restart, its model verified again.

        Returns:
            why the declared model could not be restored (it then stays out), or None.
        """
        model = problem = None
        if spec.model is not None:
            try:
                model = await run_in_threadpool(loader.load, spec.model, FALLBACK_PROVIDERS)
            except MedpipeError as e:
                problem = (f"fallback model '{spec.model.name}' version {spec.model.version} "
                           f"could not be restored after a restart: {e.message}")
                log.error("%s", problem)
        self.declare(spec, model)
        self.out_of_service = problem
        return problem

    def collector(self, previous: Callable[[], LoadedModel | None]) -> FallbackCollector:
        """A Prometheus collector over this pathway."""
        return FallbackCollector(self, previous)


class FallbackCollector(Collector):
    """Per-path answers, fallback reasons and latency, breaker state, availability."""

    def __init__(self, path: FallbackPath, previous: Callable[[], LoadedModel | None]) -> None:
        self._path = path
        self._previous = previous

    def collect(self) -> Iterator[Metric]:
        """Build the families at scrape time."""
        p = self._path
        paths = CounterMetricFamily(
            "medpipe_gateway_path_requests",
            "Inference requests for the stable model by the path that answered "
            "(primary, fallback, none: neither could)", labels=["path"])
        for name, n in p.answers.items():
            paths.add_metric([name], n)
        reasons = CounterMetricFamily(
            "medpipe_gateway_fallback_requests",
            "Requests answered by the fallback, by its kind and why", labels=["kind", "reason"])
        for (kind, reason), n in sorted(p.by_reason.items()):
            reasons.add_metric([kind, reason], n)
        latency = HistogramMetricFamily(
            "medpipe_gateway_fallback_request_latency_seconds",
            "Server-side latency of answers given by the fallback")
        latency.add_metric([], _cumulative(LATENCY_BUCKETS, p.latency.latency_counts),
                           p.latency.latency_sum)
        current = p.breaker.state
        state = GaugeMetricFamily(
            "medpipe_gateway_circuit_breaker_state",
            "1 for the circuit breaker's current state in front of the stable model",
            labels=["state"])
        for s in BreakerState:
            state.add_metric([s.value], 1 if s is current else 0)
        transitions = CounterMetricFamily(
            "medpipe_gateway_circuit_breaker_transitions",
            "Circuit breaker state changes, by the state entered", labels=["state"])
        for s, n in p.breaker.transitions.items():
            transitions.add_metric([s.value], n)
        backup = p.backup(self._previous())
        available = GaugeMetricFamily(
            "medpipe_gateway_fallback_available",
            "1 when a fallback can answer in the stable model's place", labels=["kind"])
        available.add_metric([p.kind.value], 1 if backup is not None else 0)
        info = GaugeMetricFamily(
            "medpipe_gateway_fallback_model_info", "What would answer in the stable model's "
            "place", labels=["kind", "name", "version", "provider"])
        if backup is not None:
            model = backup.model
            info.add_metric([backup.kind.value, model.name if model else backup.version,
                             model.version if model else "", model.provider if model else ""],
                            1)
        yield from (paths, reasons, latency, state, transitions, available, info)
