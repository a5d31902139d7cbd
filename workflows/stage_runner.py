"""Run one stage on the best available worker, failing over in order.

This is the heart of "survives provider or chip outages" (DESIGN.md §3).
Temporal cannot retry an activity on another task queue, so the workflow
does it, in three small steps:

* ``_on_candidate``: attempt the stage on one candidate; a retryable error is
  retried there a bounded number of times; a placement failure (``classify``)
  moves on to the next candidate; any other error fails the stage.
* ``classify``: a schedule-to-start timeout (no worker), a heartbeat or
  start-to-close timeout (worker lost) or a non-retryable
  ``ProviderUnavailable`` / ``AcceleratorUnavailable`` is a placement failure.
* ``_wait_round``: no compliant candidate completed the stage: wait visibly,
  on a backoff, then try them all again. Placement is never widened beyond
  the residency policy.

The stage's input is data (a ``StageCall``): the one thing that depends on
the candidate, whether a GPU queue must insist on its accelerator, is set
here (``for_candidate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, NoReturn, Protocol, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    TimeoutError,
    TimeoutType,
)

from medpipe.contracts.errors import FAILOVER_ERROR_TYPES, ErrorType
from medpipe.contracts.names import ActivityName
from medpipe.contracts.placement import Candidate, ComputeKind, Fleet, RanOn, ResidencyPolicy
from medpipe.contracts.release import (
    Failover,
    FailoverCause,
    PlacementTimeouts,
    Stage,
    StageOutcome,
    StageResult,
    WaitingInfo,
)
from medpipe.contracts.summary import Summary
from medpipe.workflows.placement import StageSpec, candidates, forbidden_profiles, next_wait_seconds
from medpipe.workflows.policies import SINGLE_ATTEMPT, activity_timeouts

R = TypeVar("R", bound=BaseModel)

#: The input field that tells an activity it must run on its accelerator.
ACCELERATOR_FIELD = "require_accelerator"


class StageObserver(Protocol):
    """What the runner tells its workflow as a stage progresses."""

    def on_attempt(self, stage: Stage, candidate: Candidate) -> None: ...

    def on_waiting(self, info: WaitingInfo | None) -> None: ...

    def on_failover(self, failover: Failover) -> None: ...

    def on_stage_done(self, record: StageResult) -> None: ...


@dataclass(frozen=True)
class StageCall(Generic[R]):
    """One stage to run: its needs, the activity, its input (data) and result type."""

    spec: StageSpec
    activity: ActivityName
    input: BaseModel
    result_type: type[R]


@dataclass
class StageFailed(Exception):
    """A stage failed for a reason no other worker can fix."""

    stage: Stage
    error_type: str
    message: str
    record: StageResult


@dataclass
class InputsUnavailable(Exception):
    """A stage's inputs sit in a store that does not answer (re-ingest, then retry)."""

    stage: Stage
    queue: str
    message: str
    bucket_uri: str
    seconds: float
    failovers: tuple[Failover, ...]


@dataclass
class _Tally:
    """What one run of a stage has gone through so far (for its record)."""

    started: datetime
    failovers: list[Failover]
    attempts: int = 0
    rounds: int = 0
    waiting_since: datetime | None = None


def classify(error: ActivityError) -> tuple[FailoverCause | None, str]:
    """Whether an activity failure should move the step elsewhere, and why.

    Returns:
        (cause, why): cause is None when the error is not a placement
        problem (the stage then retries or fails).
    """
    cause = error.cause
    if isinstance(cause, TimeoutError):
        if cause.type == TimeoutType.SCHEDULE_TO_START:
            return FailoverCause.NO_WORKER, "no worker picked the step up"
        if cause.type == TimeoutType.HEARTBEAT:
            return FailoverCause.WORKER_LOST, "worker stopped heartbeating"
        if cause.type == TimeoutType.START_TO_CLOSE:
            return FailoverCause.WORKER_LOST, "step did not finish on that worker in time"
        return FailoverCause.WORKER_LOST, f"timeout {cause.type}"
    if isinstance(cause, ApplicationError) and cause.type in FAILOVER_ERROR_TYPES:
        kind = (FailoverCause.PROVIDER_UNAVAILABLE
                if cause.type == ErrorType.PROVIDER_UNAVAILABLE
                else FailoverCause.ACCELERATOR_UNAVAILABLE)
        return kind, cause.message
    return None, ""


def for_candidate(inp: BaseModel, candidate: Candidate) -> BaseModel:
    """The input as sent to ``candidate``.

    On a GPU queue an input that has ``require_accelerator`` insists on the
    accelerator (a GPU worker whose CUDA is broken then fails over instead of
    silently running on its CPU); everywhere else it does not.
    """
    if ACCELERATOR_FIELD not in type(inp).model_fields:
        return inp
    return inp.model_copy(update={ACCELERATOR_FIELD: candidate.kind is ComputeKind.GPU})


def _app_error(error: ActivityError) -> ApplicationError | None:
    return error.cause if isinstance(error.cause, ApplicationError) else None


@dataclass
class StageRunner:
    """Runs stages of one workflow with placement, failover and waiting."""

    fleet: Fleet
    residency: ResidencyPolicy
    timeouts: PlacementTimeouts
    observer: StageObserver = field(repr=False)

    async def run(
        self,
        call: StageCall[R],
        *,
        prefer_cloud: str | None = None,
        exclude: frozenset[str] = frozenset(),
        carried: tuple[Failover, ...] = (),
        detail: str = "",
        rotate: int = 0,
    ) -> R:
        """Run ``call`` on the first candidate that completes it.

        Args:
            call: the stage, its activity and its input.
            prefer_cloud: cloud to try first (where the data already is).
            exclude: profile names not to use (their store is down).
            carried: failovers of an earlier try of this stage to keep on its record.
            detail: note kept on the stage record (e.g. why it ran again); it
                survives retries and failovers.
            rotate: start at the candidate this many places down the list (the shards
                of a fanned-out stage spread over every compliant worker).

        Raises:
            StageFailed: a non-placement, non-retryable error.
            InputsUnavailable: the store holding the stage's inputs does not answer.
        """
        tally = _Tally(started=workflow.now(), failovers=list(carried))
        while True:
            cands = candidates(call.spec, self.fleet, self.residency, prefer_cloud, exclude)
            if cands and rotate:
                cut = rotate % len(cands)
                cands = cands[cut:] + cands[:cut]
            for index, cand in enumerate(cands):
                next_queue = cands[index + 1].queue if index + 1 < len(cands) else None
                result = await self._on_candidate(call, cand, next_queue, tally)
                if result is not None:
                    self._succeeded(call.spec, cand, result, tally, detail)
                    return result
            await self._wait_round(call.spec, tally)

    async def _on_candidate(self, call: StageCall[R], cand: Candidate,
                            next_queue: str | None, tally: _Tally) -> R | None:
        """Attempt the stage on ``cand``; None when it moved on (a failover)."""
        transient = 0
        while True:
            tally.attempts += 1
            self.observer.on_attempt(call.spec.stage, cand)
            attempt_start = workflow.now()
            try:
                return await self._attempt(call, cand)
            except ActivityError as e:
                cause, why = classify(e)
                if cause is not None:
                    self._failover(call.spec.stage, cand, next_queue, cause, why,
                                   attempt_start, tally)
                    return None
                app = _app_error(e)
                retryable = app is None or not app.non_retryable
                if not (retryable and transient + 1 < self.timeouts.transient_attempts):
                    self._give_up(call.spec, cand, e, attempt_start, tally)
                transient += 1
                await workflow.sleep(timedelta(seconds=min(2.0 ** transient, 30.0)))

    async def _attempt(self, call: StageCall[R], cand: Candidate) -> R:
        """One scheduled activity, single attempt, with the placement timeouts."""
        t = activity_timeouts(self.timeouts)
        result: R = await workflow.execute_activity(
            call.activity,
            for_candidate(call.input, cand),
            task_queue=cand.queue,
            result_type=call.result_type,
            retry_policy=SINGLE_ATTEMPT,
            summary=Summary(f"{call.spec.stage.value} on {cand.queue}"),
            schedule_to_start_timeout=t.schedule_to_start,
            heartbeat_timeout=t.heartbeat,
            start_to_close_timeout=t.start_to_close,
        )
        return result

    def _failover(self, stage: Stage, cand: Candidate, next_queue: str | None,
                  cause: FailoverCause, why: str, attempt_start: datetime,
                  tally: _Tally) -> None:
        fo = Failover(stage=stage, from_queue=cand.queue, to_queue=next_queue, cause=cause,
                      detail=why[:300],
                      seconds=(workflow.now() - attempt_start).total_seconds(),
                      at=workflow.now())
        tally.failovers.append(fo)
        self.observer.on_failover(fo)

    def _give_up(self, spec: StageSpec, cand: Candidate, error: ActivityError,
                 attempt_start: datetime, tally: _Tally) -> NoReturn:
        """Fail the stage, or hand a dead input store back to the workflow."""
        app = _app_error(error)
        if app is not None and app.type == ErrorType.INPUT_UNAVAILABLE:
            raise InputsUnavailable(
                stage=spec.stage, queue=cand.queue, message=app.message,
                bucket_uri=str(app.details[0]) if app.details else "",
                seconds=(workflow.now() - attempt_start).total_seconds(),
                failovers=tuple(tally.failovers)) from error
        record = self._record(spec, StageOutcome.FAILED, None, tally, None,
                              app.message if app else str(error))
        raise StageFailed(
            stage=spec.stage, error_type=(app.type or ErrorType.TRANSIENT) if app
            else ErrorType.TRANSIENT,
            message=app.message if app else str(error.cause or error),
            record=record) from error

    def _succeeded(self, spec: StageSpec, cand: Candidate, result: BaseModel,
                   tally: _Tally, detail: str) -> None:
        if tally.waiting_since is not None:
            self.observer.on_waiting(None)
        ran_on: RanOn | None = getattr(result, "ran_on", None)
        degraded = None
        if spec.wants_gpu and cand.kind is ComputeKind.CPU:
            degraded = "gpu->cpu: no GPU worker completed the step"
        self._record(spec, StageOutcome.SUCCEEDED, ran_on, tally, degraded, detail)

    async def _wait_round(self, spec: StageSpec, tally: _Tally) -> None:
        """No compliant candidate completed the stage: say so, back off, try again."""
        tally.rounds += 1
        now = workflow.now()
        tally.waiting_since = tally.waiting_since or now
        wait = next_wait_seconds(tally.rounds, self.timeouts.wait_initial_s,
                                 self.timeouts.wait_max_s)
        self.observer.on_waiting(WaitingInfo(
            stage=spec.stage, reason=self._waiting_reason(spec, tally), since=tally.waiting_since,
            next_try_at=now + timedelta(seconds=wait), rounds=tally.rounds))
        await workflow.sleep(timedelta(seconds=wait))

    def _waiting_reason(self, spec: StageSpec, tally: _Tally) -> str:
        excluded = forbidden_profiles(spec, self.fleet, self.residency)
        last = tally.failovers[-1] if tally.failovers else None
        return (f"no compliant worker completed {spec.stage.value} "
                f"(allowed: {', '.join(self.residency.allowed_jurisdictions)}"
                + (f"; excluded by residency: {', '.join(excluded)}" if excluded else "")
                + (f"; last: {last.cause.value} on {last.from_queue}" if last else "")
                + ")")

    def _record(self, spec: StageSpec, outcome: StageOutcome, ran_on: RanOn | None,
                tally: _Tally, degraded: str | None, detail: str) -> StageResult:
        record = StageResult(
            stage=spec.stage, outcome=outcome, ran_on=ran_on, started_at=tally.started,
            seconds=(workflow.now() - tally.started).total_seconds(), attempts=tally.attempts,
            failovers=tuple(tally.failovers), degraded=degraded, detail=detail[:500])
        self.observer.on_stage_done(record)
        return record


__all__ = [
    "InputsUnavailable",
    "StageCall",
    "StageFailed",
    "StageObserver",
    "StageRunner",
    "classify",
    "for_candidate",
]
