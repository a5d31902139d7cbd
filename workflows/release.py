"""ReleaseWorkflow: one durable workflow per model version.

Stages are calls to ``StageRunner.run``: adding a stage is adding a call and
a ``StageSpec``, not restructuring. The workflow carries references and
figures only; its state is exposed through the ``status`` query and through
search attributes (for the Web UI and ``medpipe list``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.canary import CanaryInput, CanaryState, CanaryStatus, canary_id
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.evaluate import EvaluateInput, EvaluateResult, ModelGateVerdict
from medpipe.contracts.ingest import IngestInput, IngestResult, SourceSpec
from medpipe.contracts.ledger import LedgerAppendInput, LedgerAppendResult
from medpipe.contracts.placement import Candidate, ComputeKind, GatewayTarget
from medpipe.contracts.provenance import StagePlacement
from medpipe.contracts.pseudonymize import PseudonymizeInput, PseudonymizeResult
from medpipe.contracts.registry import (
    InServiceModel,
    LookupInServiceInput,
    LookupInServiceResult,
    RecordInServiceInput,
    RecordInServiceResult,
)
from medpipe.contracts.release import (
    ActivityName,
    Failover,
    FailoverCause,
    ReleaseRequest,
    ReleaseState,
    ReleaseStatus,
    SignatureSummary,
    Stage,
    StageOutcome,
    StageResult,
    ValidationSummary,
    WaitingInfo,
)
from medpipe.contracts.sign import SignInput, SignResult
from medpipe.contracts.summary import Summary
from medpipe.contracts.validate import ValidateInput, ValidateResult
from medpipe.workflows import search_attributes as sa
from medpipe.workflows.gate import model_gate
from medpipe.workflows.placement import StageSpec, profile_of_store
from medpipe.workflows.policies import STAGE_SPECS
from medpipe.workflows.stage_runner import InputsUnavailable, StageFailed, StageRunner

R = TypeVar("R")

@dataclass(frozen=True)
class Prepared:
    """The release's stored inputs as later stages read them, and the cloud holding them."""

    model: ArtifactRef
    raw_dataset: ArtifactRef
    dataset: ArtifactRef
    cloud: str

    @classmethod
    def of(cls, ingest: IngestResult) -> Prepared:
        dataset = ingest.artifact("dataset")
        return cls(model=ingest.artifact("model"), raw_dataset=dataset, dataset=dataset,
                   cloud=ingest.ran_on.cloud)

    def with_dataset(self, dataset: ArtifactRef, cloud: str) -> Prepared:
        return Prepared(self.model, self.raw_dataset, dataset, cloud)


def _bind_inputs(make_input: Callable[[Candidate, Prepared], Any], inputs: Prepared,
                 candidate: Candidate) -> Any:
    return make_input(candidate, inputs)


#: Registry lookups are quick and idempotent: a few retries, then the release fails visibly.
REGISTRY_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))


@workflow.defn(name="ReleaseWorkflow")
class ReleaseWorkflow:
    """Ingest → evaluate (→ pseudonymize, validate, sign, canary as they land)."""

    def __init__(self) -> None:
        self._request: ReleaseRequest | None = None
        self._state = ReleaseState.RUNNING
        self._stage: Stage | None = None
        self._waiting: WaitingInfo | None = None
        self._runner: StageRunner | None = None
        self._ingest: IngestResult | None = None
        self._prepared: Prepared | None = None
        self._pseudonymization: PseudonymizeResult | None = None
        self._validation: ValidationSummary | None = None
        self._reports: list[ArtifactRef] = []
        self._signature: SignatureSummary | None = None
        self._evaluation: EvaluateResult | None = None
        self._gate: ModelGateVerdict | None = None
        self._canary_status: CanaryStatus | None = None
        self._error: str | None = None
        self._error_type: str | None = None

    # -- StageObserver -------------------------------------------------------
    def on_attempt(self, stage: Stage, candidate: Candidate) -> None:
        self._stage = stage
        workflow.upsert_search_attributes([
            sa.STAGE.value_set(stage.value),
            sa.CLOUD.value_set(candidate.profile.cloud.value),
        ])

    def on_waiting(self, info: WaitingInfo | None) -> None:
        self._waiting = info
        self._state = ReleaseState.WAITING if info else ReleaseState.RUNNING
        workflow.upsert_search_attributes([
            sa.WAITING.value_set(info is not None),
            sa.STATE.value_set(self._state.value),
        ])
        if info:
            workflow.logger.warning("release waiting for placement: %s", info.reason)

    def on_failover(self, failover: Failover) -> None:
        workflow.logger.warning(
            "failover of %s from %s to %s: %s (%.2fs)", failover.stage.value,
            failover.from_queue, failover.to_queue or "(none left)", failover.cause.value,
            failover.seconds)

    # -- run -----------------------------------------------------------------
    @workflow.run
    async def run(self, request: ReleaseRequest) -> ReleaseStatus:
        """Run the release; return its final status (raise if a stage failed)."""
        self._request = request
        runner = StageRunner(fleet=request.fleet, residency=request.residency,
                             timeouts=request.timeouts, observer=self)
        self._runner = runner
        workflow.upsert_search_attributes([
            sa.MODEL.value_set(request.model),
            sa.VERSION.value_set(request.version),
            sa.STATE.value_set(ReleaseState.RUNNING.value),
            sa.WAITING.value_set(False),
        ])
        try:
            await self._run_stages(request, runner)
        except StageFailed as e:
            self._fail(e.error_type, f"{e.stage.value} failed: {e.message}")
            raise ApplicationError(self._error or "", type=e.error_type,
                                   non_retryable=True) from None
        self._state = ReleaseState.SUCCEEDED
        workflow.upsert_search_attributes([sa.STATE.value_set(self._state.value)])
        return self.status()

    async def _ingest_inputs(self, request: ReleaseRequest, runner: StageRunner,
                             exclude: frozenset[str] = frozenset(),
                             detail: str = "") -> IngestResult:
        rid = request.release_id
        ingest, _ = await runner.run(
            STAGE_SPECS[Stage.INGEST], ActivityName.INGEST,
            lambda c: IngestInput(release_id=rid, keys=request.fleet.keys, sources=(
                SourceSpec(name="model", uri=request.model_uri),
                SourceSpec(name="dataset", uri=request.data_uri))),
            IngestResult, exclude=exclude, detail=detail)
        self._ingest = ingest
        self._prepared = Prepared.of(ingest)
        return ingest

    async def _run_on_inputs(self, request: ReleaseRequest, runner: StageRunner,
                             spec: StageSpec, activity: str,
                             make_input: Callable[[Candidate, Prepared], Any],
                             result_type: type[R], *, pseudonymized: bool = True) -> R:
        """Run a stage that reads the release's stored inputs; if their store goes
        down, re-ingest (and re-pseudonymize) them on another compliant cloud and
        run the stage again."""
        dead: set[str] = set()
        carried: tuple[Failover, ...] = ()
        while True:
            prepared = self._prepared
            assert prepared is not None
            bound = functools.partial(_bind_inputs, make_input, prepared)
            try:
                result, _ = await runner.run(
                    spec, activity, bound, result_type,
                    prefer_cloud=prepared.cloud, carried=carried)
                return result
            except InputsUnavailable as e:
                profile = profile_of_store(request.fleet, e.bucket_uri)
                if profile:
                    dead.add(profile)
                fo = Failover(stage=e.stage, from_queue=e.queue, to_queue=None,
                              cause=FailoverCause.PROVIDER_UNAVAILABLE,
                              detail=f"input store down, re-ingesting: {e.message}"[:300],
                              seconds=e.seconds, at=workflow.now())
                self.on_failover(fo)
                carried = (*e.failovers, fo)
                await self._ingest_inputs(
                    request, runner, exclude=frozenset(dead),
                    detail=f"re-ingested: {profile or e.bucket_uri} storage did not answer")
                if pseudonymized:
                    await self._pseudonymize(request, runner)

    async def _pseudonymize(self, request: ReleaseRequest, runner: StageRunner) -> None:
        """Replace identifiers before any later stage reads the dataset."""
        fleet = request.fleet
        if not fleet.vault_uri:
            self._block(ErrorType.INVALID_INPUT, "pseudonymize: no token vault configured "
                        "(fleet.vault_uri): identifiable data cannot go further")
        result = await self._run_on_inputs(
            request, runner, STAGE_SPECS[Stage.PSEUDONYMIZE], ActivityName.PSEUDONYMIZE,
            lambda c, p: PseudonymizeInput(
                release_id=request.release_id, dataset=p.raw_dataset,
                policy_uri=request.policy_uri, keys=fleet.keys, vault_uri=fleet.vault_uri),
            PseudonymizeResult, pseudonymized=False)
        assert self._prepared is not None
        self._prepared = self._prepared.with_dataset(result.dataset, result.ran_on.cloud)
        self._pseudonymization = result

    async def _validate(self, request: ReleaseRequest, runner: StageRunner) -> None:
        """Data expectations and residual identifiers; either failing blocks the release."""
        assert self._pseudonymization is not None
        digests = self._pseudonymization.identifier_digests
        result = await self._run_on_inputs(
            request, runner, STAGE_SPECS[Stage.VALIDATE], ActivityName.VALIDATE,
            lambda c, p: ValidateInput(release_id=request.release_id, dataset=p.dataset,
                                       identifier_digests=digests),
            ValidateResult)
        self._validation = ValidationSummary(
            rows=result.rows, checks=result.checks, failed=result.failed,
            residual_failed=result.residual_failed, summary=result.summary,
            report_uri=result.report.uri)
        self._reports.append(result.report)
        if result.residual_failed:
            self._block(ErrorType.IDENTIFIERS_FOUND, "validate: residual identifiers in the "
                        f"pseudonymized data, release blocked: {result.summary}")
        if result.failed:
            self._block(ErrorType.VALIDATION_FAILED,
                        f"validate: data expectations failed: {result.summary}")

    async def _sign(self, request: ReleaseRequest, runner: StageRunner,
                    evaluation: EvaluateResult) -> SignResult:
        """Sign the model and the release's provenance with the customer's key."""
        m = evaluation.metrics

        def sign_input(c: Candidate, p: Prepared) -> SignInput:
            assert self._pseudonymization is not None
            pseudo = self._pseudonymization
            stages = tuple(sp for r in runner.records
                           if (sp := StagePlacement.from_stage_result(r)) is not None)
            return SignInput(
                release_id=request.release_id, model_name=request.model,
                version=request.version, model=p.model, keys=request.fleet.keys,
                request=request.model_dump(mode="json", exclude={"fleet"}),
                datasets=(p.raw_dataset, p.dataset), policy_sha256=pseudo.policy_sha256,
                reports=tuple(self._reports),
                metrics=m.figures(),
                stages=stages, ledger_uri=request.fleet.ledger_uri,
                ledger_checkpoint_uri=request.fleet.ledger_checkpoint_uri)

        result = await self._run_on_inputs(request, runner, STAGE_SPECS[Stage.SIGN],
                                           ActivityName.SIGN, sign_input, SignResult)
        self._signature = SignatureSummary(
            model_uri=result.model.uri, model_sha256=result.model.sha256,
            bundle_uri=result.bundle.uri, provenance_uri=result.provenance.uri,
            key_fingerprint=result.key_fingerprint)
        return result

    async def _ledger(self, request: ReleaseRequest, kind: str, payload: dict[str, Any],
                      key: str) -> None:
        """Append to the provenance ledger (a short, idempotent local activity)."""
        fleet = request.fleet
        if not fleet.ledger_uri or not fleet.keys.enabled:
            return
        await workflow.execute_local_activity(
            ActivityName.LEDGER_APPEND,
            LedgerAppendInput(ledger_uri=fleet.ledger_uri, keys=fleet.keys, kind=kind,
                              release_id=request.release_id, payload=payload,
                              idempotency_key=f"{request.release_id}/{key}",
                              checkpoint_uri=fleet.ledger_checkpoint_uri),
            result_type=LedgerAppendResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=REGISTRY_RETRY, summary=Summary(f"ledger: {kind}"))

    async def _run_stages(self, request: ReleaseRequest, runner: StageRunner) -> None:
        rid = request.release_id
        await self._ledger(request, "release-started", {
            "model": request.model, "version": request.version,
            "requested_by": request.requested_by,
            "allowed_jurisdictions": list(request.residency.allowed_jurisdictions)},
            "release-started")
        ingest = await self._ingest_inputs(request, runner)
        self._prepared = Prepared.of(ingest)
        await self._pseudonymize(request, runner)
        assert self._pseudonymization is not None
        self._reports.append(self._pseudonymization.report_ref)
        await self._ledger(request, "stage-completed", {
            "stage": "pseudonymize", "dataset_sha256": self._pseudonymization.dataset.sha256,
            "policy_sha256": self._pseudonymization.policy_sha256,
            "report_sha256": self._pseudonymization.report_ref.sha256}, "pseudonymize")
        await self._validate(request, runner)

        evaluate_spec = STAGE_SPECS[Stage.EVALUATE]
        if not request.prefer_gpu:
            evaluate_spec = evaluate_spec.model_copy(update={"wants_gpu": False})
        in_service = await self._in_service(request)
        model_sha = ingest.artifact("model").plain_sha256
        baseline = in_service.artifact if in_service and in_service.artifact.plain_sha256 != \
            model_sha else None
        evaluation = await self._run_on_inputs(
            request, runner, evaluate_spec, ActivityName.EVALUATE,
            lambda c, p: EvaluateInput(
                release_id=rid, model=p.model, dataset=p.dataset,
                label_column=request.label_column, spec=request.evaluation,
                baseline=baseline, require_accelerator=c.kind is ComputeKind.GPU),
            EvaluateResult)
        assert self._prepared is not None
        model = self._prepared.model
        self._evaluation = evaluation
        self._gate = model_gate(request.thresholds, evaluation.metrics,
                                evaluation.baseline_metrics,
                                in_service.version if in_service and baseline else None)
        if not self._gate.passed:
            self._block(ErrorType.MODEL_GATE_FAILED, "model gate: " + "; ".join(self._gate.reasons))
        bundle: ArtifactRef | None = None
        if request.fleet.keys.enabled:
            signed = await self._sign(request, runner, evaluation)
            model, bundle = signed.model, signed.bundle
        if request.deploy and self._targets(request):
            await self._canary(request, model, bundle)
        await self._put_in_service(request, model, evaluation)

    @staticmethod
    def _targets(request: ReleaseRequest) -> tuple[GatewayTarget, ...]:
        """The fleet's gateways that serve this model (or any model)."""
        return tuple(g for g in request.fleet.gateways if g.model in ("", request.model))

    async def _canary(self, request: ReleaseRequest, model: ArtifactRef,
                      bundle: ArtifactRef | None) -> None:
        """Run the canary as a child; return when it promoted, fail if it rolled back."""
        self._stage = Stage.DEPLOY
        workflow.upsert_search_attributes([sa.STAGE.value_set(Stage.DEPLOY.value)])
        started = workflow.now()
        child = await workflow.start_child_workflow(
            "CanaryWorkflow",
            CanaryInput(release_id=request.release_id, model=request.model,
                        version=request.version, artifact=model, bundle=bundle,
                        targets=self._targets(request), plan=request.canary,
                        activity_queue=request.fleet.control_queue,
                        parent_workflow_id=workflow.info().workflow_id),
            id=canary_id(request.release_id), task_queue=request.fleet.control_queue,
            result_type=CanaryStatus, parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=Summary(f"Canary {request.model} {request.version}"))
        await workflow.wait_condition(lambda: self._canary_status is not None or child.done())
        if self._canary_status is None:
            self._canary_status = await child
        settled = self._canary_status
        promoted = settled.state is CanaryState.PROMOTED
        record = StageResult(
            stage=Stage.DEPLOY, outcome=StageOutcome.SUCCEEDED if promoted
            else StageOutcome.FAILED, started_at=started,
            seconds=(workflow.now() - started).total_seconds(), attempts=1,
            detail=("initial deployment" if settled.initial_deploy else
                    f"promoted on {len(self._targets(request))} gateway(s)") if promoted
            else f"{settled.state.value}: {settled.rollback_cause or ''}"[:500])
        assert self._runner is not None
        self._runner.records.append(record)
        await self._ledger(request, "deployed" if promoted else "rolled-back", {
            "state": settled.state.value, "model_sha256": model.plain_sha256,
            "gateways": [g.name for g in self._targets(request)],
            "cause": (settled.rollback_cause or "")[:300],
            "requested_by": settled.rollback.requested_by if settled.rollback else "",
            "incident": settled.rollback.incident if settled.rollback else ""},
            "deploy")
        if not promoted:
            self._fail(ErrorType.ROLLED_BACK,
                       f"canary {settled.state.value}: {settled.rollback_cause or 'no cause'}")
            raise ApplicationError(self._error or "", type=ErrorType.ROLLED_BACK,
                                   non_retryable=True)

    @workflow.signal(name="canary-settled")
    def canary_settled(self, status: CanaryStatus) -> None:
        """The canary child promoted or rolled back (it may stay open to guard)."""
        self._canary_status = status

    async def _in_service(self, request: ReleaseRequest) -> InServiceModel | None:
        """The model now in service under this name (a short local activity)."""
        result = await workflow.execute_local_activity(
            ActivityName.REGISTRY_LOOKUP,
            LookupInServiceInput(registry_uri=request.fleet.registry_uri, model=request.model),
            result_type=LookupInServiceResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=REGISTRY_RETRY, summary=Summary(f"in-service lookup for {request.model}"))
        return result.current

    async def _put_in_service(self, request: ReleaseRequest, model: ArtifactRef,
                              evaluation: EvaluateResult) -> None:
        """Record this version as the model in service (the canary will take this over)."""
        if not request.fleet.registry_uri:
            return
        entry = InServiceModel(model=request.model, version=request.version,
                               release_id=request.release_id, artifact=model,
                               metrics=evaluation.metrics, since=workflow.now())
        await workflow.execute_local_activity(
            ActivityName.REGISTRY_RECORD,
            RecordInServiceInput(registry_uri=request.fleet.registry_uri, entry=entry),
            result_type=RecordInServiceResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=REGISTRY_RETRY,
            summary=Summary(f"{request.model} {request.version} in service"))

    def _block(self, error_type: str, message: str) -> NoReturn:
        """Fail the release on a verdict (not a broken step): non-retryable, visible."""
        self._fail(error_type, message)
        raise ApplicationError(message, type=error_type, non_retryable=True)

    def _fail(self, error_type: str, message: str) -> None:
        self._state = ReleaseState.FAILED
        self._error, self._error_type = message, error_type
        workflow.upsert_search_attributes([sa.STATE.value_set(self._state.value)])

    # -- queries ---------------------------------------------------------------
    @workflow.query
    def status(self) -> ReleaseStatus:
        """Stages, placements, failovers and waiting state, for CLI and UI."""
        req = self._request
        return ReleaseStatus(
            release_id=workflow.info().workflow_id,
            model=req.model if req else "", version=req.version if req else "",
            state=self._state, current_stage=self._stage,
            stages=tuple(self._runner.records) if self._runner else (),
            waiting=self._waiting, ingest=self._ingest,
            pseudonymization=self._pseudonymization.report if self._pseudonymization else None,
            validation=self._validation, evaluation=self._evaluation,
            signature=self._signature,
            gate=self._gate, canary=self._canary_status,
            error=self._error, error_type=self._error_type)
