"""Deployment contracts: what the inference gateway's admin API accepts and reports.

The canary workflow and the deploy activities speak to the gateway only through
these frozen models (JSON over the mTLS admin port), so the gateway can be
restarted, replaced or run elsewhere without either side importing the other.
Pure helpers here (``population_stability_index``) are deterministic and safe to
call from workflow code.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medpipe.contracts.evaluate import Task
from medpipe.contracts.prediction import PredictionProfile
from medpipe.contracts.profile import ReferenceProfile

#: Number of fixed-width prediction bins over [0, 1] in ``SlotMetrics``.
PREDICTION_BINS = 20


class Slot(StrEnum):
    """Where a model sits in the gateway."""

    STABLE = "stable"
    CANARY = "canary"
    #: The stable model replaced by the last promotion, kept for a fast rollback.
    PREVIOUS = "previous"
    #: A declared lighter model answering when the stable one cannot (backup pathway).
    FALLBACK = "fallback"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LoadModelRequest(_Frozen):
    """Load a model file into a slot (``POST /admin/models``).

    Attributes:
        slot: ``stable`` or ``canary`` (loading into ``canary`` resets its weight to 0,
            so a new canary never receives traffic before the workflow asks for it), or
            ``fallback`` for a declared lighter backup model (see ``FallbackSpec``).
        name: model name; must be the name the gateway serves (a fallback model may
            carry its own name: it is verified against the identity it was signed for).
        version: the release's model version (reported on every prediction).
        model_uri: local path, ``file://`` URI or any object-store URI medpipe knows.
        sha256: expected hex digest of the model file; a mismatch refuses the load.
        bundle_uri: OMS signature bundle, handed to the configured verifier (a gateway
            refuses a model without one unless it runs with ``--allow-unsigned``).
        release_id: the release this model comes from; when given, the bundle must have
            been signed for this release (model and version are always checked).
        prediction: how to record this model's predictions (task, classes, value
            edges); none: a binary positive-class score, as before tasks existed.
        profile: the release's reference profile; with one, the gateway counts this
            model's inputs and scores over its bins (``/admin/sketches``).
    """

    slot: Literal[Slot.STABLE, Slot.CANARY, Slot.FALLBACK]
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=200)
    model_uri: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bundle_uri: str | None = None
    release_id: str | None = Field(default=None, max_length=200)
    prediction: PredictionProfile | None = None
    profile: ReferenceProfile | None = None


class SetWeightRequest(_Frozen):
    """Share of requests (percent, 0–100) routed to the canary (``PUT /admin/weight``)."""

    weight: int = Field(ge=0, le=100)


class PromoteRequest(_Frozen):
    """Make the canary the stable model (``POST /admin/promote``).

    Attributes:
        version: if given, the canary must hold this version; promoting a version
            that is already stable is a no-op, so a retried call is harmless.
    """

    version: str | None = None


class GatewayRollbackRequest(_Frozen):
    """Take a canary (or a promotion) back (``POST /admin/rollback``).

    Attributes:
        version: if given, roll back only that version: unload it if it is the
            canary, or restore ``previous`` if it was promoted to stable; if no slot
            holds it the call is a no-op (already rolled back), so retries are harmless.
        reason: free text for the log (no patient data).
    """

    version: str | None = None
    reason: str = Field(default="", max_length=500)


class TensorInfo(_Frozen):
    """One model input or output as the OIP metadata endpoint describes it."""

    name: str
    datatype: str
    shape: list[int]


class SlotMetrics(_Frozen):
    """Aggregate figures for one slot over the current analysis window.

    Attributes:
        requests: inference requests routed to the slot.
        errors: requests that failed (client and server errors).
        server_errors: requests the model failed to run (5xx).
        latency_p50_ms: median server-side latency over the recent samples.
        latency_p99_ms: 99th percentile of the same samples.
        prediction_bins: ``PREDICTION_BINS + 1`` bin edges over [0, 1].
        prediction_counts: rows whose first output score fell in each bin.
        window_started_at: when the window was last reset.
        task: the task whose predictions the window records (binary: the score bins
            above; multiclass: ``classes``/``class_counts``; regression:
            ``value_edges``/``value_counts``). Both slots record on the same bins.
        classes: predicted-class buckets (the model's classes, then ``(other)``).
        class_counts: rows predicted as each of ``classes``.
        value_edges: regression bin edges (``le`` bounds; one more, open, bucket above).
        value_counts: rows whose predicted value fell in each bucket.
    """

    requests: int = 0
    errors: int = 0
    server_errors: int = 0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    prediction_bins: list[float] = Field(default_factory=list)
    prediction_counts: list[int] = Field(default_factory=list)
    window_started_at: datetime | None = None
    task: Task = Task.BINARY
    classes: list[str] = Field(default_factory=list)
    class_counts: list[int] = Field(default_factory=list)
    value_edges: list[float] = Field(default_factory=list)
    value_counts: list[int] = Field(default_factory=list)

    @property
    def error_rate(self) -> float:
        """Errors over requests (0 when there were none)."""
        return self.errors / self.requests if self.requests else 0.0


class GatewayMetrics(_Frozen):
    """Per-slot window figures, as read by the canary analysis."""

    stable: SlotMetrics
    canary: SlotMetrics


class SlotStatus(_Frozen):
    """The model held by one slot."""

    slot: Slot
    name: str
    version: str
    sha256: str
    provider: str
    loaded_at: datetime
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    signature_verified: bool = False
    #: the request the model was loaded with (lets a reconciler re-apply it elsewhere)
    source: LoadModelRequest | None = None


class FallbackKind(StrEnum):
    """What answers when the stable model cannot (the backup inference pathway)."""

    #: the stable model replaced by the last promotion, kept warm (default when one exists)
    PREVIOUS = "previous"
    #: a declared lighter model, signed and verified like any other
    MODEL = "model"
    #: a declared rule answering a fixed safe default (flagged as such)
    RULE = "rule"
    #: no backup: a failing stable answers 5xx, an out-of-service one 503
    NONE = "none"


class RuleOutput(_Frozen):
    """One output of a fallback rule: the same ``value`` for every row of a request.

    Attributes:
        name: output name (usually one of the model's, e.g. ``probability``).
        datatype: OIP datatype of the output.
        value: one row's values; a request of n rows gets shape ``[n, len(value)]``.
    """

    name: str = Field(min_length=1, max_length=200)
    datatype: Literal["FP32", "FP64", "INT32", "INT64", "BOOL", "BYTES"]
    value: list[bool | int | float | str] = Field(min_length=1, max_length=1024)


class FallbackRule(_Frozen):
    """A declared safe default, e.g. "high risk: refer to a clinician".

    Attributes:
        name: the rule's name, reported on every answer it gives.
        outputs: what it answers.
    """

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    outputs: list[RuleOutput] = Field(min_length=1, max_length=32)


class BreakerSettings(_Frozen):
    """When the circuit breaker in front of the stable model opens and how it recovers.

    Closed, it opens once the last ``window_s`` seconds hold at least
    ``min_failures`` failures making at least ``failure_ratio`` of the requests.
    Open, every request goes to the fallback for ``open_s`` seconds; then it is
    half-open: requests probe the stable model again one at a time, ``probes``
    successes in a row close it, one failure opens it again.

    Attributes:
        window_s: length of the sliding failure window.
        min_failures: failures in the window needed to open.
        failure_ratio: share of the window's requests that must have failed (0-1).
        open_s: how long it stays open before probing.
        probes: consecutive successful probes that close it.
        primary_timeout_s: per-request deadline of the stable model (None: the
            gateway's request timeout); a slower answer counts as a failure.
    """

    window_s: float = Field(default=10.0, gt=0, le=3600)
    min_failures: int = Field(default=5, ge=1)
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    open_s: float = Field(default=5.0, gt=0, le=3600)
    probes: int = Field(default=3, ge=1, le=1000)
    primary_timeout_s: float | None = Field(default=None, gt=0, le=600)


class FallbackSpec(_Frozen):
    """A model's backup inference pathway (``PUT /admin/fallback``), recorded in the
    serving state and restored (verified again) after a restart.

    Attributes:
        kind: what answers when the stable model cannot.
        model: the declared lighter model (``kind=model``; its ``slot`` is ``fallback``).
        rule: the declared safe default (``kind=rule``).
        breaker: the circuit breaker in front of the stable model.
    """

    kind: FallbackKind = FallbackKind.PREVIOUS
    model: LoadModelRequest | None = None
    rule: FallbackRule | None = None
    breaker: BreakerSettings = BreakerSettings()

    @model_validator(mode="after")
    def _declared(self) -> FallbackSpec:
        if (self.kind is FallbackKind.MODEL) != (self.model is not None):
            raise ValueError("a 'model' fallback needs a model, and only it takes one")
        if self.model is not None and self.model.slot != Slot.FALLBACK:
            raise ValueError("a fallback model is loaded into slot 'fallback'")
        if (self.kind is FallbackKind.RULE) != (self.rule is not None):
            raise ValueError("a 'rule' fallback needs a rule, and only it takes one")
        return self


class BreakerState(StrEnum):
    """Circuit breaker states."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class FallbackStatus(_Frozen):
    """The backup pathway as ``GET /admin/status`` reports it.

    Attributes:
        kind: the configured kind (``previous`` unless declared otherwise).
        available: something can answer in the stable model's place now.
        unavailable_reason: why not, when it cannot.
        model: the model that would answer (previous or declared).
        rule: the rule that would answer.
        breaker: the circuit breaker's state.
        settings: the breaker's settings.
        answered: requests the fallback answered since the gateway started.
        spec: the declaration in force (None: the default, ``previous``).
    """

    kind: FallbackKind
    available: bool
    unavailable_reason: str | None = None
    model: SlotStatus | None = None
    rule: FallbackRule | None = None
    breaker: BreakerState = BreakerState.CLOSED
    settings: BreakerSettings = BreakerSettings()
    answered: int = 0
    spec: FallbackSpec | None = None


class GatewayStatus(_Frozen):
    """Everything ``GET /admin/status`` reports."""

    model_name: str
    ready: bool
    canary_weight: int
    providers: list[str]
    stable: SlotStatus | None = None
    canary: SlotStatus | None = None
    previous: SlotStatus | None = None
    metrics: GatewayMetrics | None = None
    allow_unsigned: bool = False
    out_of_service: dict[str, str] = Field(default_factory=dict)
    fallback: FallbackStatus | None = None
    sbom_sha256: str = Field(default="", description="digest of the gateway runtime's "
                             "CycloneDX SBOM (GET /admin/sbom)")
    sbom_uri: str = Field(default="", description="where the deploy activity stored it "
                          "(set by the activity, not the gateway)")


class ServingState(_Frozen):
    """What a gateway was last told to serve, recorded durably by the gateway itself.

    Written after every change the admin API makes (load, weight, promote, rollback,
    unload) and after a revocation takes a model out; read at start, when each
    model is fetched and verified again before the gateway reports ready.

    Attributes:
        model_name: the model the gateway serves.
        stable / canary / previous: the load request of each slot's model.
        canary_weight: percent of requests routed to the canary.
        updated_at: when this state was written.
    """

    model_name: str
    stable: LoadModelRequest | None = None
    canary: LoadModelRequest | None = None
    previous: LoadModelRequest | None = None
    canary_weight: int = Field(default=0, ge=0, le=100)
    updated_at: datetime | None = None
    fallback: FallbackSpec | None = None


class TrustReloadResult(_Frozen):
    """What ``POST /admin/trust/reload`` (or SIGHUP) left in force.

    Attributes:
        trusted: fingerprints of the keys now trusted.
        revoked: fingerprints now revoked.
        taken_out: slots whose model lost its signer's trust and was unloaded, with why.
    """

    trusted: list[str]
    revoked: list[str]
    taken_out: dict[str, str] = Field(default_factory=dict)


class RollbackResult(_Frozen):
    """What a rollback did, and the state it left."""

    action: Literal["unloaded_canary", "restored_previous", "none"]
    status: GatewayStatus


def population_stability_index(expected: list[int], actual: list[int],
                               epsilon: float = 1e-4) -> float:
    """PSI between two histograms over the same bins (e.g. stable vs canary predictions).

    Empty bins get ``epsilon`` probability so the log stays finite; the usual reading
    is < 0.1 no shift, 0.1–0.25 moderate, > 0.25 major.

    Raises:
        ValueError: the histograms have different numbers of bins.
    """
    if len(expected) != len(actual):
        raise ValueError(f"histograms differ in bins ({len(expected)} vs {len(actual)})")
    total_e, total_a = sum(expected), sum(actual)
    if total_e == 0 or total_a == 0:
        return 0.0
    psi = 0.0
    for e, a in zip(expected, actual, strict=True):
        pe = max(e / total_e, epsilon)
        pa = max(a / total_a, epsilon)
        psi += (pa - pe) * math.log(pa / pe)
    return psi
