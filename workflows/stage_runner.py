"""Run one stage on the best available worker, failing over in order.

This is the heart of "survives provider or chip outages" (DESIGN.md §3).
Temporal cannot retry an activity on another task queue, so the workflow
does it: each candidate from ``workflows.placement`` is tried with a single
attempt; a schedule-to-start timeout (no worker), a heartbeat or
start-to-close timeout (worker lost) or a non-retryable
``ProviderUnavailable`` / ``AcceleratorUnavailable`` moves the step to the
next candidate; a retryable error is retried on the same candidate a bounded
number of times; any other error fails the stage. When no compliant
candidate is left the workflow waits visibly and tries them all again on a
backoff: it never widens placement beyond the residency policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    TimeoutError,
    TimeoutType,
)

from medpipe.contracts.errors import FAILOVER_ERROR_TYPES, ErrorType
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
from medpipe.workflows.policies import SINGLE_ATTEMPT, ActivityTimeouts, activity_timeouts

R = TypeVar("R")


class StageObserver(Protocol):
    """What the runner tells its workflow as a stage progresses."""

    def on_attempt(self, stage: Stage, candidate: Candidate) -> None: ...

    def on_waiting(self, info: WaitingInfo | None) -> None: ...

    def on_failover(self, failover: Failover) -> None: ...


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


def classify(error: ActivityError) -> tuple[FailoverCause | None, str]:
    """Whether an activity failure should move the step elsewhere, and why.

    Returns:
        (cause, detail): cause is None when the error is not a placement
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


def _app_error(error: ActivityError) -> ApplicationError | None:
    return error.cause if isinstance(error.cause, ApplicationError) else None


@dataclass
class StageRunner:
    """Runs stages of one workflow with placement, failover and waiting."""

    fleet: Fleet
    residency: ResidencyPolicy
    timeouts: PlacementTimeouts
    observer: StageObserver
    records: list[StageResult] = field(default_factory=list)

    async def run(
        self,
        spec: StageSpec,
        activity: str,
        make_input: Callable[[Candidate], Any],
        result_type: type[R],
        prefer_cloud: str | None = None,
        exclude: frozenset[str] = frozenset(),
        carried: tuple[Failover, ...] = (),
        detail: str = "",
    ) -> tuple[R, StageResult]:
        """Run ``activity`` for ``spec`` on the first candidate that completes it.

        Args:
            spec: the stage's needs (data class, GPU preference).
            activity: the registered name of the activity to execute.
            make_input: builds the activity input for a candidate (e.g. to ask
                a GPU queue to insist on its accelerator).
            result_type: the activity's result model.
            prefer_cloud: cloud to try first (where the data already is).
            exclude: profile names not to use (their store is down).
            carried: failovers of an earlier try of this stage to keep on its record.
            detail: note kept on the stage record (e.g. why it ran again).

        Raises:
            StageFailed: a non-placement, non-retryable error.
        """
        started = workflow.now()
        failovers: list[Failover] = list(carried)
        attempts = 0
        rounds = 0
        waiting_since: datetime | None = None
        t: ActivityTimeouts = activity_timeouts(self.timeouts)
        while True:
            cands = candidates(spec, self.fleet, self.residency, prefer_cloud, exclude)
            for index, cand in enumerate(cands):
                transient = 0
                while True:
                    attempts += 1
                    self.observer.on_attempt(spec.stage, cand)
                    attempt_start = workflow.now()
                    try:
                        result = await workflow.execute_activity(
                            activity,
                            make_input(cand),
                            task_queue=cand.queue,
                            result_type=result_type,
                            retry_policy=SINGLE_ATTEMPT,
                            summary=Summary(f"{spec.stage.value} on {cand.queue}"),
                            schedule_to_start_timeout=t.schedule_to_start,
                            heartbeat_timeout=t.heartbeat,
                            start_to_close_timeout=t.start_to_close,
                        )
                    except ActivityError as e:
                        cause, detail = classify(e)
                        if cause is not None:
                            nxt = cands[index + 1].queue if index + 1 < len(cands) else None
                            fo = Failover(
                                stage=spec.stage, from_queue=cand.queue, to_queue=nxt,
                                cause=cause, detail=detail[:300],
                                seconds=(workflow.now() - attempt_start).total_seconds(),
                                at=workflow.now())
                            failovers.append(fo)
                            self.observer.on_failover(fo)
                            break
                        app = _app_error(e)
                        retryable = app is None or not app.non_retryable
                        if retryable and transient + 1 < self.timeouts.transient_attempts:
                            transient += 1
                            await workflow.sleep(timedelta(seconds=min(2.0 ** transient, 30.0)))
                            continue
                        error_type = (app.type or ErrorType.TRANSIENT) if app \
                            else ErrorType.TRANSIENT
                        if error_type == ErrorType.INPUT_UNAVAILABLE and app is not None:
                            raise InputsUnavailable(
                                stage=spec.stage, queue=cand.queue, message=app.message,
                                bucket_uri=str(app.details[0]) if app.details else "",
                                seconds=(workflow.now() - attempt_start).total_seconds(),
                                failovers=tuple(failovers)) from e
                        record = self._record(spec, StageOutcome.FAILED, None, started,
                                              attempts, failovers, None,
                                              app.message if app else str(e))
                        raise StageFailed(
                            stage=spec.stage,
                            error_type=(app.type or ErrorType.TRANSIENT) if app
                            else ErrorType.TRANSIENT,
                            message=app.message if app else str(e.cause or e),
                            record=record) from e
                    if waiting_since is not None:
                        self.observer.on_waiting(None)
                    ran_on: RanOn | None = getattr(result, "ran_on", None)
                    degraded = None
                    if spec.wants_gpu and cand.kind is ComputeKind.CPU:
                        degraded = "gpu->cpu: no GPU worker completed the step"
                    record = self._record(spec, StageOutcome.SUCCEEDED, ran_on, started,
                                          attempts, failovers, degraded, detail)
                    return result, record
            rounds += 1
            now = workflow.now()
            waiting_since = waiting_since or now
            wait = next_wait_seconds(rounds, self.timeouts.wait_initial_s,
                                     self.timeouts.wait_max_s)
            excluded = forbidden_profiles(spec, self.fleet, self.residency)
            last = failovers[-1] if failovers else None
            reason = (f"no compliant worker completed {spec.stage.value} "
                      f"(allowed: {', '.join(self.residency.allowed_jurisdictions)}"
                      + (f"; excluded by residency: {', '.join(excluded)}" if excluded else "")
                      + (f"; last: {last.cause.value} on {last.from_queue}" if last else "")
                      + ")")
            self.observer.on_waiting(WaitingInfo(
                stage=spec.stage, reason=reason, since=waiting_since,
                next_try_at=now + timedelta(seconds=wait), rounds=rounds))
            await workflow.sleep(timedelta(seconds=wait))

    def _record(self, spec: StageSpec, outcome: StageOutcome, ran_on: RanOn | None,
                started: datetime, attempts: int, failovers: list[Failover],
                degraded: str | None, detail: str) -> StageResult:
        record = StageResult(
            stage=spec.stage, outcome=outcome, ran_on=ran_on, started_at=started,
            seconds=(workflow.now() - started).total_seconds(), attempts=attempts,
            failovers=tuple(failovers), degraded=degraded, detail=detail[:500])
        self.records.append(record)
        return record
