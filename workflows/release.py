"""ReleaseWorkflow: one durable workflow per model version.

``_run_stages`` reads like the pipeline: ingest, pseudonymize, validate,
evaluate (and gate), sign, canary, put in service. Each placed stage is a
``StageCall`` (its input built as data by ``workflows.stage_inputs``) run by
``StageRunner``; the release's state is one ``ReleaseProgress``, exposed
through the ``status`` query and search attributes (for the Web UI and
``medpipe list``). The workflow carries references and figures only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from medpipe.contracts.artifacts import ArtifactRef
from medpipe.contracts.canary import CanaryInput, CanaryState, CanaryStatus, canary_id
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.evaluate import EvaluateResult
from medpipe.contracts.ingest import IngestResult
from medpipe.contracts.ledger import LedgerAppendInput, LedgerAppendResult
from medpipe.contracts.names import ActivityName, QueryName, SearchAttr, SignalName, WorkflowName
from medpipe.contracts.placement import Candidate, GatewayTarget
from medpipe.contracts.prediction import profile_for
from medpipe.contracts.pseudonymize import PseudonymizeResult
from medpipe.contracts.registry import (
    InServiceModel,
    LookupInServiceInput,
    LookupInServiceResult,
    RecordInServiceInput,
    RecordInServiceResult,
)
from medpipe.contracts.release import (
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
from medpipe.contracts.sign import SignResult
from medpipe.contracts.summary import Summary
from medpipe.contracts.validate import ValidateResult
from medpipe.workflows import fanout, spread, stage_inputs
from medpipe.workflows.approval_gate import approval_record
from medpipe.workflows.gate import model_gate
from medpipe.workflows.placement import StageSpec, profile_of_store
from medpipe.workflows.policies import STAGE_SPECS
from medpipe.workflows.progress import ReleaseProgress
from medpipe.workflows.stage_inputs import InputBuilder
from medpipe.workflows.stage_runner import InputsUnavailable, StageCall, StageFailed, StageRunner

R = TypeVar("R", bound=BaseModel)

#: Registry lookups are quick and idempotent: a few retries, then the release fails visibly.
REGISTRY_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))


@workflow.defn(name=WorkflowName.RELEASE)
class ReleaseWorkflow:
    """Ingest → pseudonymize → validate → evaluate → sign → canary → in service."""

    @workflow.init
    def __init__(self, request: ReleaseRequest) -> None:
        self._request = request
        self._progress = ReleaseProgress()
        self._runner = StageRunner(fleet=request.fleet, residency=request.residency,
                                   timeouts=request.timeouts, observer=self)

    # -- StageObserver -------------------------------------------------------
    def on_attempt(self, stage: Stage, candidate: Candidate) -> None:
        """A stage is tried on ``candidate``: show where in the UI."""
        self._progress.stage = stage
        workflow.upsert_search_attributes([
            SearchAttr.STAGE.value_set(stage.value),
            SearchAttr.CLOUD.value_set(candidate.profile.cloud.value),
        ])

    def on_waiting(self, info: WaitingInfo | None) -> None:
        """No compliant worker answers (``info``), or one answered again (None)."""
        p = self._progress
        p.waiting = info
        p.state = ReleaseState.WAITING if info else ReleaseState.RUNNING
        workflow.upsert_search_attributes([
            SearchAttr.WAITING.value_set(info is not None),
            SearchAttr.STATE.value_set(p.state.value),
        ])
        if info:
            workflow.logger.warning("release waiting for placement: %s", info.reason)

    def on_failover(self, failover: Failover) -> None:
        """A step moved to another worker (or found none left)."""
        workflow.logger.warning(
            "failover of %s from %s to %s: %s (%.2fs)", failover.stage.value,
            failover.from_queue, failover.to_queue or "(none left)", failover.cause.value,
            failover.seconds)

    def on_stage_done(self, record: StageResult) -> None:
        """A stage succeeded or failed: keep its record for status and provenance."""
        self._progress.stages.append(record)

    # -- run -----------------------------------------------------------------
    @workflow.run
    async def run(self, request: ReleaseRequest) -> ReleaseStatus:
        """Run the release; return its final status (raise if a stage failed)."""
        workflow.upsert_search_attributes([
            SearchAttr.MODEL.value_set(request.model),
            SearchAttr.VERSION.value_set(request.version),
            SearchAttr.STATE.value_set(ReleaseState.RUNNING.value),
            SearchAttr.WAITING.value_set(False),
        ])
        failed: StageFailed | None = None
        try:
            await self._run_stages()
        except StageFailed as e:
            failed = e  # blocked below, outside the handler: no chained cause in history
        if failed is not None:
            self._block(failed.error_type, f"{failed.stage.value} failed: {failed.message}")
        self._progress.state = ReleaseState.SUCCEEDED
        workflow.upsert_search_attributes(
            [SearchAttr.STATE.value_set(ReleaseState.SUCCEEDED.value)])
        return self.status()

    async def _run_stages(self) -> None:
        request, p = self._request, self._progress
        await self._ledger("release-started", {
            "model": request.model, "version": request.version,
            "requested_by": request.requested_by,
            "allowed_jurisdictions": list(request.residency.allowed_jurisdictions)},
            "release-started")
        await self._ingest()
        await self._pseudonymize()
        p.reports.append(p.pseudonymized.report_ref)
        await self._ledger("stage-completed", {
            "stage": "pseudonymize", "dataset_sha256": p.pseudonymized.dataset.sha256,
            "policy_sha256": p.pseudonymized.policy_sha256,
            "report_sha256": p.pseudonymized.report_ref.sha256}, "pseudonymize")
        await self._validate()
        evaluation = await self._evaluate()
        model, bundle = p.inputs.model, None
        if request.fleet.keys.enabled:
            signed = await self._sign()
            model, bundle = signed.model, signed.bundle
        if request.deploy and self._targets():
            await self._canary(model, bundle)
        await self._put_in_service(model, evaluation)

    # -- placed stages --------------------------------------------------------
    async def _ingest(self, exclude: frozenset[str] = frozenset(), detail: str = "") -> None:
        """Fetch the inputs into a compliant store (again, elsewhere, when it died).

        The first time, the release's home (where its data will live, and its later
        stages run) is the least loaded compliant worker (``workflows.spread``)."""
        rotate = 0
        if not exclude:
            rotate, note = await spread.home_rotation(self._request)
            detail = detail or note
        ingest = await self._runner.run(
            StageCall(STAGE_SPECS[Stage.INGEST], ActivityName.INGEST,
                      stage_inputs.ingest_input(self._request), IngestResult),
            exclude=exclude, detail=detail, rotate=rotate)
        self._progress.ingested(ingest)

    async def _on_inputs(self, spec: StageSpec, activity: ActivityName, build: InputBuilder,
                         result_type: type[R], *, pseudonymized: bool = True) -> R:
        """Run a stage that reads the release's stored inputs; if their store goes
        down, re-ingest (and re-pseudonymize) them on another compliant cloud and
        run the stage again, keeping the failovers met so far on its record."""
        dead: set[str] = set()
        carried: tuple[Failover, ...] = ()
        while True:
            call = StageCall(spec, activity, build(self._request, self._progress), result_type)
            try:
                return await self._runner.run(call, prefer_cloud=self._progress.inputs.cloud,
                                              carried=carried)
            except InputsUnavailable as e:
                profile = profile_of_store(self._request.fleet, e.bucket_uri)
                if profile:
                    dead.add(profile)
                fo = Failover(stage=e.stage, from_queue=e.queue, to_queue=None,
                              cause=FailoverCause.PROVIDER_UNAVAILABLE,
                              detail=f"input store down, re-ingesting: {e.message}"[:300],
                              seconds=e.seconds, at=workflow.now())
                self.on_failover(fo)
                carried = (*e.failovers, fo)
                await self._ingest(
                    exclude=frozenset(dead),
                    detail=f"re-ingested: {profile or e.bucket_uri} storage did not answer")
                if pseudonymized:
                    await self._pseudonymize()

    async def _pseudonymize(self) -> None:
        """Replace identifiers before any later stage reads the dataset."""
        if not self._request.fleet.vault_uri:
            self._block(ErrorType.INVALID_INPUT, "pseudonymize: no token vault configured "
                        "(fleet.vault_uri): identifiable data cannot go further")
        p = self._progress
        result: PseudonymizeResult | None = None
        if fanout.fans_out(self._request, p) and workflow.patched(fanout.FANOUT_PATCH):
            result = await fanout.pseudonymize(self._runner, self._request, p)
        if result is None:
            result = await self._on_inputs(
                STAGE_SPECS[Stage.PSEUDONYMIZE], ActivityName.PSEUDONYMIZE,
                stage_inputs.pseudonymize_input, PseudonymizeResult, pseudonymized=False)
        p.prepared = p.inputs.with_dataset(result.dataset, result.ran_on.cloud)
        p.pseudonymization = result

    async def _validate(self) -> None:
        """Data expectations and residual identifiers; either failing blocks the release."""
        result: ValidateResult | None = None
        if fanout.validate_fans_out(self._request, self._progress) and \
                workflow.patched(fanout.VALIDATE_FANOUT_PATCH):
            result = await fanout.validate(self._runner, self._request, self._progress)
        if result is None:
            result = await self._on_inputs(STAGE_SPECS[Stage.VALIDATE], ActivityName.VALIDATE,
                                           stage_inputs.validate_input, ValidateResult)
        self._progress.validation = ValidationSummary(
            rows=result.rows, checks=result.checks, failed=result.failed,
            residual_failed=result.residual_failed, summary=result.summary,
            report_uri=result.report.uri)
        self._progress.reports.append(result.report)
        if result.residual_failed:
            self._block(ErrorType.IDENTIFIERS_FOUND, "validate: residual identifiers in the "
                        f"pseudonymized data, release blocked: {result.summary}")
        if result.failed:
            self._block(ErrorType.VALIDATION_FAILED,
                        f"validate: data expectations failed: {result.summary}")

    async def _evaluate(self) -> EvaluateResult:
        """Score the candidate against the model in service; the gate may block."""
        request, p = self._request, self._progress
        spec = STAGE_SPECS[Stage.EVALUATE]
        if not request.prefer_gpu:
            spec = spec.model_copy(update={"wants_gpu": False})
        in_service = await self._in_service()
        assert p.ingest is not None
        model_sha = p.ingest.artifact("model").plain_sha256
        p.baseline = in_service.artifact if in_service and \
            in_service.artifact.plain_sha256 != model_sha else None
        evaluation = await self._on_inputs(spec, ActivityName.EVALUATE,
                                           stage_inputs.evaluate_input, EvaluateResult)
        p.evaluation = evaluation
        if evaluation.profile_ref is not None:
            p.reports.append(evaluation.profile_ref)  # its digest goes into the provenance
        p.gate = model_gate(request.thresholds, evaluation.metrics, evaluation.baseline_metrics,
                            in_service.version if in_service and p.baseline else None)
        if not p.gate.passed:
            self._block(ErrorType.MODEL_GATE_FAILED, "model gate: " + "; ".join(p.gate.reasons))
        return evaluation

    async def _sign(self) -> SignResult:
        """Sign the model and the release's provenance with the customer's key."""
        result = await self._on_inputs(STAGE_SPECS[Stage.SIGN], ActivityName.SIGN,
                                       stage_inputs.sign_input, SignResult)
        self._progress.signature = SignatureSummary(
            model_uri=result.model.uri, model_sha256=result.model.sha256,
            bundle_uri=result.bundle.uri, provenance_uri=result.provenance.uri,
            key_fingerprint=result.key_fingerprint)
        return result

    # -- deploy ------------------------------------------------------------------
    def _targets(self) -> tuple[GatewayTarget, ...]:
        """The fleet's gateways that serve this model (or any model)."""
        model = self._request.model
        return tuple(g for g in self._request.fleet.gateways if g.model in ("", model))

    async def _canary(self, model: ArtifactRef, bundle: ArtifactRef | None) -> None:
        """Run the canary as a child; return when it promoted, fail if it rolled back."""
        request, p = self._request, self._progress
        p.stage = Stage.DEPLOY
        workflow.upsert_search_attributes([SearchAttr.STAGE.value_set(Stage.DEPLOY.value)])
        started = workflow.now()
        child = await workflow.start_child_workflow(
            WorkflowName.CANARY,
            CanaryInput(release_id=request.release_id, model=request.model,
                        version=request.version, artifact=model, bundle=bundle,
                        targets=self._targets(), plan=request.canary,
                        activity_queue=request.fleet.control_queue, rollback_locally=True,
                        parent_workflow_id=workflow.info().workflow_id,
                        prediction=profile_for(request.evaluation.task, p.evaluation),
                        fallback=request.fallback,
                        approval=request.fleet.approval, releaser=request.requested_by,
                        profile=p.evaluation.profile if p.evaluation else None,
                        drift=request.drift, ledger_uri=request.fleet.ledger_uri,
                        ledger_checkpoint_uri=request.fleet.ledger_checkpoint_uri or "",
                        keys=request.fleet.keys,
                        reference_auroc=p.evaluation.metrics.auroc if p.evaluation else None),
            id=canary_id(request.release_id), task_queue=request.fleet.control_queue,
            result_type=CanaryStatus, parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=Summary(f"Canary {request.model} {request.version}"))
        await workflow.wait_condition(lambda: p.canary is not None or child.done())
        if p.canary is None:
            p.canary = await child
        settled = p.canary
        promoted = settled.state is CanaryState.PROMOTED
        p.stages.append(StageResult(
            stage=Stage.DEPLOY, outcome=StageOutcome.SUCCEEDED if promoted
            else StageOutcome.FAILED, started_at=started,
            seconds=(workflow.now() - started).total_seconds(), attempts=1,
            detail=("initial deployment" if settled.initial_deploy else
                    f"promoted on {len(self._targets())} gateway(s)") if promoted
            else f"{settled.state.value}: {settled.rollback_cause or ''}"[:500]))
        await self._ledger("deployed" if promoted else "rolled-back", {
            "state": settled.state.value, "model_sha256": model.plain_sha256,
            "gateways": [g.name for g in self._targets()],
            "cause": (settled.rollback_cause or "")[:300],
            "requested_by": settled.rollback.requested_by if settled.rollback else "",
            "incident": settled.rollback.incident if settled.rollback else "",
            **approval_record(settled)},
            "deploy")
        if not promoted:
            self._block(ErrorType.ROLLED_BACK,
                        f"canary {settled.state.value}: {settled.rollback_cause or 'no cause'}")

    @workflow.signal(name=SignalName.CANARY_SETTLED)
    def canary_settled(self, status: CanaryStatus) -> None:
        """The canary child promoted or rolled back (it may stay open to guard)."""
        self._progress.canary = status

    # -- short local activities --------------------------------------------------
    async def _ledger(self, kind: str, payload: dict[str, Any], key: str) -> None:
        """Append to the provenance ledger (a short, idempotent local activity)."""
        request = self._request
        fleet = request.fleet
        if not fleet.ledger_uri or not fleet.keys.enabled:
            return
        appended: LedgerAppendResult = await workflow.execute_local_activity(
            ActivityName.LEDGER_APPEND,
            LedgerAppendInput(ledger_uri=fleet.ledger_uri, keys=fleet.keys, kind=kind,
                              release_id=request.release_id, payload=payload,
                              idempotency_key=f"{request.release_id}/{key}",
                              checkpoint_uri=fleet.ledger_checkpoint_uri),
            result_type=LedgerAppendResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=REGISTRY_RETRY, summary=Summary(f"ledger: {kind}"))
        self._progress.ledger_head = appended.anchor

    async def _in_service(self) -> InServiceModel | None:
        """The model now in service under this name (a short local activity)."""
        request = self._request
        result: LookupInServiceResult = await workflow.execute_local_activity(
            ActivityName.REGISTRY_LOOKUP,
            LookupInServiceInput(registry_uri=request.fleet.registry_uri, model=request.model),
            result_type=LookupInServiceResult, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=REGISTRY_RETRY,
            summary=Summary(f"in-service lookup for {request.model}"))
        return result.current

    async def _put_in_service(self, model: ArtifactRef, evaluation: EvaluateResult) -> None:
        """Record this version as the model in service (the canary will take this over)."""
        request = self._request
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
        """Fail the release (a verdict or a broken stage): non-retryable, visible."""
        self._progress.fail(error_type, message)
        workflow.upsert_search_attributes([SearchAttr.STATE.value_set(ReleaseState.FAILED.value)])
        raise ApplicationError(message, type=error_type, non_retryable=True)

    # -- queries ---------------------------------------------------------------
    @workflow.query(name=QueryName.STATUS)
    def status(self) -> ReleaseStatus:
        """Stages, placements, failovers and waiting state, for CLI and UI."""
        return self._progress.status(workflow.info().workflow_id, self._request)
