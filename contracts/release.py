"""Contracts of a release: the request, where each stage ran, and the status.

Each stage's activity input and result are in the stage's own module (``ingest``,
``pseudonymize``, ``validate``, ``evaluate``, ``sign``, ``ledger``).

Workflows carry references (URIs, digests, sizes) and figures, never patient
data: every model here is safe to appear (encrypted) in Temporal history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from medpipe.contracts.canary import CanaryPlan, CanaryStatus
from medpipe.contracts.deploy import FallbackSpec
from medpipe.contracts.drift import DriftPolicy
from medpipe.contracts.evaluate import EvaluateResult, EvaluationSpec, ModelGateVerdict
from medpipe.contracts.fanout import FanoutSettings
from medpipe.contracts.ingest import IngestResult
from medpipe.contracts.placement import Fleet, RanOn, ResidencyPolicy
from medpipe.contracts.pseudonymize import PseudonymizeReport

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class Stage(StrEnum):
    """Stages of a release, in order."""

    INGEST = "ingest"
    PSEUDONYMIZE = "pseudonymize"
    VALIDATE = "validate"
    EVALUATE = "evaluate"
    SIGN = "sign"
    DEPLOY = "deploy"


class ReleaseState(StrEnum):
    """Where a release stands (mirrored in the ``MedpipeState`` search attribute)."""

    RUNNING = "running"
    WAITING = "waiting-for-placement"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PlacementTimeouts(BaseModel):
    """How quickly a step is moved to another worker, and how a stuck release waits.

    Attributes:
        schedule_to_start_s: no worker picked the step up on a queue within this.
        heartbeat_s: the worker running the step stopped heartbeating for this long.
        start_to_close_s: upper bound on one attempt of a step.
        transient_attempts: attempts on the same worker for a retryable error.
        wait_initial_s / wait_max_s: backoff when no compliant worker answers.
    """

    model_config = ConfigDict(frozen=True)

    schedule_to_start_s: float = Field(default=5.0, gt=0)
    heartbeat_s: float = Field(default=5.0, gt=0)
    start_to_close_s: float = Field(default=1800.0, gt=0)
    transient_attempts: int = Field(default=3, ge=1)
    wait_initial_s: float = Field(default=5.0, gt=0)
    wait_max_s: float = Field(default=120.0, gt=0)


class ModelThresholds(BaseModel):
    """Quality gates for the evaluate stage, per task.

    Binary and multiclass use the AUROC (macro one-vs-rest for multiclass),
    accuracy and calibration limits; regression uses MAE, RMSE and R². Against
    the model in service, classifiers may lose at most ``max_auroc_drop`` AUROC
    and regressors may raise their RMSE by at most ``max_rmse_increase`` (relative).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_auroc: float = Field(default=0.0, ge=0, le=1)
    max_calibration_error: float = Field(default=1.0, ge=0, le=1)
    max_auroc_drop: float = Field(default=0.02, ge=0, le=1,
                                  description="tolerated AUROC regression vs the model in service")
    min_accuracy: float = Field(default=0.0, ge=0, le=1)
    max_mae: float | None = Field(default=None, ge=0)
    max_rmse: float | None = Field(default=None, ge=0)
    min_r2: float | None = Field(default=None, le=1)
    max_rmse_increase: float = Field(default=0.05, ge=0, description=(
        "tolerated relative RMSE increase vs the model in service (regression)"))


class ReleaseRequest(BaseModel):
    """What an MLOps engineer asks for with ``medpipe release``.

    The CLI fills ``fleet`` from the deployment's configuration so the
    workflow's placement stays a pure function of its input.
    """

    model_config = ConfigDict(frozen=True)

    model: str = Field(pattern=NAME_PATTERN)
    version: str = Field(pattern=NAME_PATTERN)
    model_uri: str = Field(min_length=1)
    data_uri: str = Field(min_length=1)
    policy_uri: str | None = None
    label_column: str = "label"
    residency: ResidencyPolicy = ResidencyPolicy()
    thresholds: ModelThresholds = ModelThresholds()
    requested_by: str = "unknown"
    fleet: Fleet
    timeouts: PlacementTimeouts = PlacementTimeouts()
    prefer_gpu: bool = True
    deploy: bool = True
    canary: CanaryPlan = CanaryPlan()
    evaluation: EvaluationSpec = EvaluationSpec()
    #: the backup inference pathway declared on every gateway (None: each gateway's own)
    fallback: FallbackSpec | None = None
    purpose: str = Field(default="", max_length=2000, description="why the data is processed "
                         "(the DPIA record quotes it)")
    retention: str = Field(default="", max_length=1000, description="how long the release's "
                           "artifacts are kept (the DPIA record quotes it)")
    drift: DriftPolicy = DriftPolicy()
    #: above a dataset size, data stages fan out over shards across compliant workers
    fanout: FanoutSettings = FanoutSettings()

    @property
    def release_id(self) -> str:
        """Workflow id: one workflow per model version."""
        return release_id(self.model, self.version)


def release_id(model: str, version: str) -> str:
    """The workflow id of the release of ``model`` at ``version``."""
    return f"release-{model}-{version}"


class FailoverCause(StrEnum):
    """Why a step moved to another worker."""

    NO_WORKER = "no-worker"
    WORKER_LOST = "worker-lost"
    PROVIDER_UNAVAILABLE = "provider-unavailable"
    ACCELERATOR_UNAVAILABLE = "accelerator-unavailable"


class Failover(BaseModel):
    """One move of a step from a queue to the next candidate."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    from_queue: str
    to_queue: str | None
    cause: FailoverCause
    detail: str = ""
    seconds: float
    at: datetime


class StageOutcome(StrEnum):
    """How a stage ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RUNNING = "running"
    WAITING = "waiting"


class StageResult(BaseModel):
    """One stage's record: where it ran, how long, what moved it."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    outcome: StageOutcome
    ran_on: RanOn | None = None
    started_at: datetime | None = None
    seconds: float = 0.0
    attempts: int = 0
    failovers: tuple[Failover, ...] = ()
    degraded: str | None = None
    detail: str = ""


class WaitingInfo(BaseModel):
    """Why a release is waiting for placement, and until when."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    reason: str
    since: datetime
    next_try_at: datetime
    rounds: int


class ValidationSummary(BaseModel):
    """The validate stage's figures for history and ``medpipe watch`` (counts only)."""

    model_config = ConfigDict(frozen=True)

    rows: int
    checks: int
    failed: int
    residual_failed: int = 0
    summary: str = ""
    report_uri: str = ""


class SignatureSummary(BaseModel):
    """What was signed, where the bundle and provenance are, and by which key."""

    model_config = ConfigDict(frozen=True)

    model_uri: str
    model_sha256: str
    bundle_uri: str
    provenance_uri: str
    key_fingerprint: str


class ReleaseStatus(BaseModel):
    """Answer of the ``status`` query and result of ``ReleaseWorkflow``."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    model: str
    version: str
    state: ReleaseState
    current_stage: Stage | None = None
    stages: tuple[StageResult, ...] = ()
    waiting: WaitingInfo | None = None
    ingest: IngestResult | None = None
    pseudonymization: PseudonymizeReport | None = None
    validation: ValidationSummary | None = None
    evaluation: EvaluateResult | None = None
    signature: SignatureSummary | None = None
    gate: ModelGateVerdict | None = None
    canary: CanaryStatus | None = None
    error: str | None = None
    error_type: str | None = None
    ledger_head: str = Field(default="", description="SEQ:HASH of the release's last ledger "
                             "entry, from the append activity's result in this workflow's "
                             "history: an anchor outside storage (ledger verify --expect-head, "
                             "medpipe evidence --anchor)")

    @property
    def failovers(self) -> list[Failover]:
        """Every failover of every stage, in order."""
        return [f for s in self.stages for f in s.failovers]

