"""A retryable error is retried on the same queue (bounded), never failed over.

The aws worker registers a same-name ingest activity (as temporalio's samples
mock activities) that raises a retryable ``ApplicationError`` the first time
it is called and runs the real ingest afterwards.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from medpipe.activities.context import WorkerContext
from medpipe.activities.ingest import IngestActivities
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.ingest import IngestInput, IngestResult
from medpipe.contracts.names import ActivityName
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import ReleaseState, Stage, StageOutcome
from medpipe.workers.worker import activities_for, control_worker
from tests.history import activity_runs, history_events, timers_between
from tests.support import FAST, make_fleet, make_request, start, status_of

pytestmark = pytest.mark.asyncio


class FlakyIngest:
    """Ingest that fails retryably on its first ``failures`` calls, then ingests for real."""

    def __init__(self, ctx: WorkerContext, failures: int) -> None:
        self.real = IngestActivities(ctx)
        self.failures = failures
        self.calls = 0
        self._lock = threading.Lock()

    @activity.defn(name=ActivityName.INGEST)
    def ingest(self, inp: IngestInput) -> IngestResult:
        with self._lock:
            self.calls += 1
            fail = self.calls <= self.failures
        if fail:
            raise ApplicationError("object store throttled the upload (test)",
                                   type=ErrorType.TRANSIENT, non_retryable=False)
        return self.real.ingest(inp)


@contextlib.asynccontextmanager
async def workers_with_flaky_ingest(client: Client, fleet: Fleet,
                                    flaky: FlakyIngest) -> AsyncIterator[None]:
    """The aws profile's worker (as ``build_workers`` makes it) plus control, its ingest
    replaced by ``flaky``."""
    ctx = flaky.real.ctx
    acts = activities_for(ctx)
    kept = [a for a in acts if getattr(a, "__name__", "") != "ingest"]
    assert len(kept) == len(acts) - 1, "the real ingest activity was not found"
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    rebuilt = [Worker(client, task_queue=queue, activities=[*kept, flaky.ingest],
                      activity_executor=executor, identity=ctx.worker_id)
               for queue in ctx.profile.queues(fleet.queue_prefix)]
    rebuilt.append(control_worker(client, fleet, ctx, executor))
    tasks = [asyncio.create_task(w.run()) for w in rebuilt]
    try:
        yield
    finally:
        for w in rebuilt:
            await w.shutdown()
        await asyncio.gather(*tasks, return_exceptions=True)
        executor.shutdown(wait=False)


async def test_a_transient_error_is_retried_on_the_same_queue(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    ctx = WorkerContext(profile=fleet.find("aws/us-east-1"))
    flaky = FlakyIngest(ctx, failures=1)
    async with workers_with_flaky_ingest(client, fleet, flaky):
        handle = await start(client, make_request(fleet, sample, timeouts=FAST))
        status = await handle.result()
        events = await history_events(handle)
    assert status.state is ReleaseState.SUCCEEDED
    ingest = next(s for s in status.stages if s.stage is Stage.INGEST)
    assert ingest.outcome is StageOutcome.SUCCEEDED
    assert ingest.attempts == 2 and ingest.failovers == ()
    assert ingest.ran_on is not None and ingest.ran_on.cloud == "aws"
    assert flaky.calls == 2
    runs = activity_runs(events, ActivityName.INGEST)
    queue = fleet.find("aws/us-east-1").queues(fleet.queue_prefix)[0]
    assert [(r.queue, r.events, r.failure_type) for r in runs] == [
        (queue, ["started", "failed"], ErrorType.TRANSIENT),
        (queue, ["started", "completed"], None)]
    assert timers_between(events, runs[0].last_id, runs[1].scheduled_id) == 1  # one backoff


async def test_transient_errors_beyond_the_bound_fail_the_stage(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    """The retry is bounded by ``transient_attempts`` (2 here): a third failure is not tried."""
    fleet = make_fleet(tmp_path)
    ctx = WorkerContext(profile=fleet.find("aws/us-east-1"))
    flaky = FlakyIngest(ctx, failures=5)
    async with workers_with_flaky_ingest(client, fleet, flaky):
        handle = await start(client, make_request(fleet, sample, timeouts=FAST))
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        status = await status_of(handle)
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == ErrorType.TRANSIENT
    assert "throttled" in info.value.cause.message
    ingest = next(s for s in status.stages if s.stage is Stage.INGEST)
    assert ingest.outcome is StageOutcome.FAILED
    assert ingest.attempts == FAST.transient_attempts and ingest.failovers == ()
    assert flaky.calls == FAST.transient_attempts
