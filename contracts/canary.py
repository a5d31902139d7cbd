"""Contracts of a canary rollout: plan, targets, per-step analysis, rollback requests.

The gateway-facing models (load, weight, metrics, status) live in
``contracts.deploy``; this module is the workflow's side.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medpipe.contracts.approval import ApprovalProgress, ApprovalRule, SignedStatement
from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.deploy import FallbackSpec, GatewayMetrics, GatewayStatus
from medpipe.contracts.drift import DriftPolicy, GatewaySketches
from medpipe.contracts.evaluate import Task
from medpipe.contracts.placement import GatewayTarget, RanOn
from medpipe.contracts.prediction import PredictionProfile
from medpipe.contracts.profile import ReferenceProfile

__all__ = ["GatewayTarget"]


class CanaryPlan(BaseModel):
    """How traffic is stepped and what counts as a bad step.

    Attributes:
        steps: canary weights in percent, in order (the last is usually 100).
        bake_s: how long each step serves traffic before it is analysed.
        min_requests: canary requests a step needs before it can be judged;
            fewer extends the bake (its window keeps counting) up to
            ``max_extensions`` times, then pauses. 0 asks for no traffic at all
            (nothing is required to pass a step, the shift included).
        max_error_rate: absolute canary error rate that triggers a rollback.
        max_error_rate_increase: tolerated error-rate excess over stable.
        max_latency_ratio: canary p99 over stable p99 that triggers a rollback
            (when also more than ``min_latency_delta_ms`` slower), judged only
            once both slots served ``min_latency_samples`` requests in the step
            (below that a p99 is the single slowest request: noise, not signal).
        max_psi: population stability index of canary vs stable predictions, per
            task: positive-class score histogram (binary), predicted-class counts
            (multiclass), predicted-value histogram (regression); a sampling
            allowance that shrinks with the sample sizes is added to it.
        min_shift_samples: predictions both slots must return, on every gateway,
            before a step below 100 % can pass: fewer extends the bake like too
            few requests (when ``min_requests`` > 0), since the sampling
            allowance then hides any shift. A multiclass or regression shift
            below it is not judged; a binary one rolls back below it only when
            it beats the (then large) allowance.
        guard_s: after promotion, how long a rollback may still restore the
            previous stable at once.
    """

    model_config = ConfigDict(frozen=True)

    steps: tuple[int, ...] = (5, 25, 50, 100)
    bake_s: float = Field(default=30.0, gt=0)
    min_requests: int = Field(default=30, ge=0)
    max_extensions: int = Field(default=3, ge=0)
    max_error_rate: float = Field(default=0.02, ge=0, le=1)
    max_error_rate_increase: float = Field(default=0.01, ge=0, le=1)
    max_latency_ratio: float = Field(default=2.0, gt=1)
    min_latency_delta_ms: float = Field(default=5.0, ge=0)
    min_latency_samples: int = Field(default=100, ge=1)
    max_psi: float = Field(default=0.25, gt=0)
    min_shift_samples: int = Field(default=30, ge=1)
    guard_s: float = Field(default=600.0, ge=0)

    @field_validator("steps")
    @classmethod
    def _steps_increase(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(not 0 < s <= 100 for s in v) or list(v) != sorted(set(v)):
            raise ValueError("steps must be increasing percentages in 1..100")
        return v


class Verdict(StrEnum):
    """What the analysis of one step decided."""

    CONTINUE = "continue"
    EXTEND = "extend"
    PAUSE = "pause"
    ROLLBACK = "rollback"


class GatewayFigures(BaseModel):
    """One gateway's figures for one step.

    ``psi`` is the prediction shift of ``task`` measured as ``shift_metric``,
    ``psi_noise`` its sampling allowance (None: no predictions to compare),
    ``tv_distance`` the total-variation distance of the same two distributions,
    ``problem`` why the predictions could not be compared (e.g. the gateway
    records another task's predictions than the release declares).
    """

    model_config = ConfigDict(frozen=True)

    gateway: str
    canary_requests: int
    stable_requests: int
    canary_error_rate: float
    stable_error_rate: float
    canary_p99_ms: float | None
    stable_p99_ms: float | None
    psi: float
    psi_noise: float | None = None
    task: Task = Task.BINARY
    shift_metric: str = "score-histogram PSI"
    canary_predictions: int = 0
    stable_predictions: int = 0
    tv_distance: float | None = None
    problem: str | None = None


class StepAnalysis(BaseModel):
    """The verdict of one step, with the figures it was made on."""

    model_config = ConfigDict(frozen=True)

    weight: int
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    figures: tuple[GatewayFigures, ...] = ()
    at: datetime | None = None


class RollbackRequest(BaseModel):
    """An incident responder's rollback: who, why, which incident."""

    model_config = ConfigDict(frozen=True)

    reason: str
    incident: str = ""
    requested_by: str = "unknown"
    statement: SignedStatement | None = Field(
        default=None, description="a responder's signed rollback statement; without one the "
        "rollback still happens at once and is flagged 'unsigned: needs review'")

    @field_validator("reason")
    @classmethod
    def _reason_required(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a rollback needs a reason")
        return v.strip()[:500]


class CanaryState(StrEnum):
    """Where a canary stands."""

    LOADING = "loading"
    BAKING = "baking"
    AWAITING_APPROVAL = "awaiting-approval"
    PAUSED = "paused"
    PROMOTING = "promoting"
    PROMOTED = "promoted"
    ROLLING_BACK = "rolling-back"
    ROLLED_BACK = "rolled-back"
    FAILED = "failed"


class CanaryInput(BaseModel):
    """Deploy one signed model version to every target gateway."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    model: str
    version: str
    artifact: ArtifactRef
    bundle: ArtifactRef | None = None
    targets: tuple[GatewayTarget, ...]
    plan: CanaryPlan = CanaryPlan()
    activity_queue: str
    parent_workflow_id: str | None = None
    prediction: PredictionProfile | None = Field(
        default=None, description="the release's task and prediction bins (classes, value "
        "edges from its evaluation), handed to every gateway with the model; the analysis "
        "compares canary and stable predictions for this task. None: binary")
    fallback: FallbackSpec | None = Field(
        default=None, description="the model's backup inference pathway, declared on every "
        "target gateway and re-applied by reconciliation (None: each gateway's own)")
    rollback_locally: bool = Field(
        default=True, description="roll back through a local activity on the canary's own "
        "worker (it registers the gateway call too): ~40 ms instead of ~100 ms. Set by the "
        "starter rather than read from the worker's queue name, so a replay takes the same "
        "branch as the original run")
    approval: ApprovalRule | None = Field(
        default=None, description="hold at approval.at_weight until enough signed approvals "
        "verify against the roster (None: no approval gate)")
    releaser: str | None = Field(default=None, description="who released: never an approver")
    profile: ReferenceProfile | None = Field(
        default=None, description="the release's reference profile: handed to the gateways "
        "with the model, so they count live inputs over its bins")
    drift: DriftPolicy = DriftPolicy()
    ledger_uri: str | None = None
    ledger_checkpoint_uri: str = ""
    keys: KeySettings = KeySettings()
    reference_auroc: float | None = Field(
        default=None, description="the candidate's evaluated AUROC: the drift monitor "
        "compares the rolling AUROC from label feedback with it")


class GatewayProblem(BaseModel):
    """A gateway that did not answer: reported and retried, never skipped."""

    model_config = ConfigDict(frozen=True)

    gateway: str
    operation: str
    message: str
    since: datetime
    attempts: int


class GatewaySbom(BaseModel):
    """The runtime SBOM a gateway reported, and where the deploy activity stored it."""

    model_config = ConfigDict(frozen=True)

    gateway: str
    sha256: str
    uri: str = ""


class CanaryStatus(BaseModel):
    """Answer of the canary's ``status`` query and its result."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    state: CanaryState
    weight: int = 0
    step_index: int = -1
    analyses: tuple[StepAnalysis, ...] = ()
    rollback: RollbackRequest | None = None
    rollback_cause: str | None = None
    problems: tuple[GatewayProblem, ...] = ()
    initial_deploy: bool = False
    pause_reason: str | None = None
    #: gateways found not serving what they should, and what was re-applied to them
    reconciled: tuple[str, ...] = ()
    model_sha256: str = Field(default="", description="what approvers sign")
    approval: ApprovalProgress | None = None
    gateway_sboms: tuple[GatewaySbom, ...] = ()
    rollback_review: str | None = Field(
        default=None, description="how a requested rollback was authorised: 'signed by NAME "
        "(responder)' or '... needs review'")


def canary_id(release_id: str) -> str:
    """Workflow id of the canary of a release (``release-m-v`` → ``canary-m-v``)."""
    return "canary-" + release_id.removeprefix("release-")


class CanaryRollbackResult(BaseModel):
    """What the rollback Update returns: confirmation from every gateway."""

    model_config = ConfigDict(frozen=True)

    state: CanaryState
    canary_weights: dict[str, int]
    restored_previous: bool = False


# -- activity contracts -------------------------------------------------------------
class GatewayCallInput(BaseModel):
    """One admin operation on one gateway."""

    model_config = ConfigDict(frozen=True)

    target: GatewayTarget
    operation: str
    body: dict[str, object] = Field(default_factory=dict)


class GatewayCallResult(BaseModel):
    """The gateway's answer: its status (and metrics when asked)."""

    model_config = ConfigDict(frozen=True)

    status: GatewayStatus | None = None
    metrics: GatewayMetrics | None = None
    action: str | None = None
    ran_on: RanOn | None = None
    sketches: GatewaySketches | None = None
