"""ReleaseWorkflow: one durable workflow per model version.

Stages are calls to ``StageRunner.run``: adding a stage is adding a call and
a ``StageSpec``, not restructuring. The workflow carries references and
figures only; its state is exposed through the ``status`` query and through
search attributes (for the Web UI and ``medpipe list``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from contracts.canary import CanaryInput, CanaryState, CanaryStatus, canary_id
from contracts.errors import ErrorType
from contracts.placement import Candidate, ComputeKind
from contracts.registry import (
    InServiceModel,
    LookupInServiceInput,
    LookupInServiceResult,
    RecordInServiceInput,
    RecordInServiceResult,
)
from contracts.release import (
    ActivityName,
    ArtifactRef,
    EvaluateInput,
    EvaluateResult,
    Failover,
    FailoverCause,
    IngestInput,
    IngestResult,
    ModelGateVerdict,
    ReleaseRequest,
    ReleaseState,
    ReleaseStatus,
    SourceSpec,
    Stage,
    StageOutcome,
    StageResult,
    WaitingInfo,
)
from workflows import search_attributes as sa
from workflows.gate import model_gate
from workflows.placement import StageSpec, profile_of_store
from workflows.policies import STAGE_SPECS
from workflows.stage_runner import InputsUnavailable, StageFailed, StageRunner

R = TypeVar("R")

def _bind_inputs(make_input: Callable[[Candidate, IngestResult], Any], inputs: IngestResult,
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
            lambda c: IngestInput(release_id=rid, sources=(
                SourceSpec(name="model", uri=request.model_uri),
                SourceSpec(name="dataset", uri=request.data_uri))),
            IngestResult, exclude=exclude, detail=detail)
        self._ingest = ingest
        return ingest

    async def _run_on_inputs(self, request: ReleaseRequest, runner: StageRunner,
                             spec: StageSpec, activity: str,
                             make_input: Callable[[Candidate, IngestResult], Any],
                             result_type: type[R]) -> R:
        """Run a stage that reads the ingested inputs; if their store goes down,
        re-ingest them on another compliant cloud and run the stage again."""
        dead: set[str] = set()
        carried: tuple[Failover, ...] = ()
        while True:
            ingest = self._ingest
            assert ingest is not None
            bound = functools.partial(_bind_inputs, make_input, ingest)
            try:
                result, _ = await runner.run(
                    spec, activity, bound, result_type,
                    prefer_cloud=ingest.ran_on.cloud, carried=carried)
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

    async def _run_stages(self, request: ReleaseRequest, runner: StageRunner) -> None:
        rid = request.release_id
        ingest = await self._ingest_inputs(request, runner)

        evaluate_spec = STAGE_SPECS[Stage.EVALUATE]
        if not request.prefer_gpu:
            evaluate_spec = evaluate_spec.model_copy(update={"wants_gpu": False})
        in_service = await self._in_service(request)
        model_sha = ingest.artifact("model").sha256
        baseline = in_service.artifact if in_service and in_service.artifact.sha256 != \
            model_sha else None
        evaluation = await self._run_on_inputs(
            request, runner, evaluate_spec, ActivityName.EVALUATE,
            lambda c, inputs: EvaluateInput(
                release_id=rid, model=inputs.artifact("model"),
                dataset=inputs.artifact("dataset"), label_column=request.label_column,
                baseline=baseline, require_accelerator=c.kind is ComputeKind.GPU),
            EvaluateResult)
        model = (self._ingest or ingest).artifact("model")
        self._evaluation = evaluation
        self._gate = model_gate(request.thresholds, evaluation.metrics,
                                evaluation.baseline_metrics,
                                in_service.version if in_service and baseline else None)
        if not self._gate.passed:
            self._fail(ErrorType.MODEL_GATE_FAILED, "model gate: " + "; ".join(self._gate.reasons))
            raise ApplicationError(self._error or "", type=ErrorType.MODEL_GATE_FAILED,
                                   non_retryable=True)
        if request.deploy and request.fleet.gateways:
            await self._canary(request, model)
        await self._put_in_service(request, model, evaluation)

    async def _canary(self, request: ReleaseRequest, model: ArtifactRef) -> None:
        """Run the canary as a child; return when it promoted, fail if it rolled back."""
        self._stage = Stage.DEPLOY
        workflow.upsert_search_attributes([sa.STAGE.value_set(Stage.DEPLOY.value)])
        started = workflow.now()
        child = await workflow.start_child_workflow(
            "CanaryWorkflow",
            CanaryInput(release_id=request.release_id, model=request.model,
                        version=request.version, artifact=model,
                        targets=request.fleet.gateways, plan=request.canary,
                        activity_queue=request.fleet.control_queue,
                        parent_workflow_id=workflow.info().workflow_id),
            id=canary_id(request.release_id), task_queue=request.fleet.control_queue,
            result_type=CanaryStatus, parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"Canary {request.model} {request.version}")
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
                    f"promoted on {len(request.fleet.gateways)} gateway(s)") if promoted
            else f"{settled.state.value}: {settled.rollback_cause or ''}"[:500])
        assert self._runner is not None
        self._runner.records.append(record)
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
            retry_policy=REGISTRY_RETRY, summary=f"in-service lookup for {request.model}")
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
            retry_policy=REGISTRY_RETRY, summary=f"{request.model} {request.version} in service")

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
            waiting=self._waiting, ingest=self._ingest, evaluation=self._evaluation,
            gate=self._gate, canary=self._canary_status,
            error=self._error, error_type=self._error_type)
