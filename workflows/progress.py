"""What a release has done so far: one object, read by the ``status`` query.

The workflow mutates this and nothing else; the status contract is a pure
function of it, so what on-call staff see is exactly what the workflow knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.canary import CanaryStatus
from medpipe.contracts.evaluate import EvaluateResult, ModelGateVerdict
from medpipe.contracts.ingest import IngestResult
from medpipe.contracts.pseudonymize import PseudonymizeResult
from medpipe.contracts.release import (
    ReleaseRequest,
    ReleaseState,
    ReleaseStatus,
    SignatureSummary,
    Stage,
    StageResult,
    ValidationSummary,
    WaitingInfo,
)


@dataclass(frozen=True)
class Prepared:
    """The release's stored inputs as later stages read them, and the cloud holding them."""

    model: ArtifactRef
    raw_dataset: ArtifactRef
    dataset: ArtifactRef
    cloud: str

    @classmethod
    def of(cls, ingest: IngestResult) -> Prepared:
        """Freshly ingested: the dataset is still the raw one."""
        dataset = ingest.artifact("dataset")
        return cls(model=ingest.artifact("model"), raw_dataset=dataset, dataset=dataset,
                   cloud=ingest.ran_on.cloud)

    def with_dataset(self, dataset: ArtifactRef, cloud: str) -> Prepared:
        """Later stages read ``dataset`` (the pseudonymized one) on ``cloud``."""
        return Prepared(self.model, self.raw_dataset, dataset, cloud)


@dataclass
class ReleaseProgress:
    """The release's mutable state, in one place.

    Attributes:
        stages: every stage record, in order (a stage may appear twice when it
            ran again, e.g. a re-ingest after its store went down).
        prepared: where the current inputs are (None before ingest).
        reports: report artifacts the provenance statement lists.
        baseline: the in-service model the candidate is compared with, if any.
    """

    state: ReleaseState = ReleaseState.RUNNING
    stage: Stage | None = None
    waiting: WaitingInfo | None = None
    stages: list[StageResult] = field(default_factory=list)
    ingest: IngestResult | None = None
    prepared: Prepared | None = None
    pseudonymization: PseudonymizeResult | None = None
    validation: ValidationSummary | None = None
    reports: list[ArtifactRef] = field(default_factory=list)
    baseline: ArtifactRef | None = None
    evaluation: EvaluateResult | None = None
    gate: ModelGateVerdict | None = None
    signature: SignatureSummary | None = None
    canary: CanaryStatus | None = None
    ledger_head: str = ""
    error: str | None = None
    error_type: str | None = None

    @property
    def inputs(self) -> Prepared:
        """The stored inputs (only asked for after ingest)."""
        if self.prepared is None:
            raise RuntimeError("inputs asked for before ingest")
        return self.prepared

    @property
    def pseudonymized(self) -> PseudonymizeResult:
        """The pseudonymization result (only asked for after that stage)."""
        if self.pseudonymization is None:
            raise RuntimeError("pseudonymization asked for before that stage")
        return self.pseudonymization

    def ingested(self, ingest: IngestResult) -> None:
        """Inputs (re-)ingested: later stages read these until pseudonymized."""
        self.ingest = ingest
        self.prepared = Prepared.of(ingest)

    def fail(self, error_type: str, message: str) -> None:
        """The release failed (a verdict or a broken stage)."""
        self.state = ReleaseState.FAILED
        self.error, self.error_type = message, error_type

    def status(self, release_id: str, request: ReleaseRequest | None) -> ReleaseStatus:
        """The ``status`` query's answer."""
        return ReleaseStatus(
            release_id=release_id,
            model=request.model if request else "", version=request.version if request else "",
            state=self.state, current_stage=self.stage, stages=tuple(self.stages),
            waiting=self.waiting, ingest=self.ingest,
            pseudonymization=self.pseudonymization.report if self.pseudonymization else None,
            validation=self.validation, evaluation=self.evaluation, signature=self.signature,
            gate=self.gate, canary=self.canary, error=self.error, error_type=self.error_type,
            ledger_head=self.ledger_head)
