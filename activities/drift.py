"""Drift monitor activities: the alert webhook, the rollback, and the schedule.

* ``alert`` POSTs the verdict (figures only) with an ``Idempotency-Key``
  header: Temporal retries it (visibly) while the receiver fails or does not
  answer, and a receiver that honours the key records one alert however many
  attempts reach it. A 4xx answer is a refusal: not retried.
* ``rollback`` sends the canary's own ``rollback`` Update
  (``requested_by="drift-monitor"``), so the rollback is the one on-call staff
  use, with its validation and gateway confirmation. When that workflow has
  closed (its guard period is over) it rolls the version back on each
  gateway directly (``/admin/rollback`` restores the previous stable).
* ``schedule`` creates or replaces the model's Temporal Schedule (one per
  model name) or deletes it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from medpipe.activities.boundary import to_application_error, translate_errors
from medpipe.activities.context import WorkerContext
from medpipe.activities.deploy import GatewayAdmin
from medpipe.activities.tls import TLSSettings
from medpipe.contracts.canary import CanaryRollbackResult, GatewayCallInput, RollbackRequest
from medpipe.contracts.drift import (
    DriftAlertInput,
    DriftAlertResult,
    DriftRollbackInput,
    DriftRollbackResult,
    DriftScheduleInput,
    DriftScheduleResult,
    drift_schedule_id,
)
from medpipe.contracts.errors import DeployFailed, InvalidInput, Transient
from medpipe.contracts.names import ActivityName, UpdateName, WorkflowName

log = logging.getLogger(__name__)

#: The header a receiver deduplicates alerts by.
IDEMPOTENCY_HEADER = "Idempotency-Key"

A = TypeVar("A", bound=Callable[..., Awaitable[Any]])


def translate_errors_async(fn: A) -> A:
    """``translate_errors`` for an async activity: failures cross the boundary typed."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except Exception as e:
            raise to_application_error(e) from e

    return wrapper  # type: ignore[return-value]


def post_alert(client: httpx.Client, inp: DriftAlertInput) -> int:
    """POST the alert once; return the status.

    Raises:
        Transient: no answer, or a 5xx/429 (Temporal retries).
        InvalidInput: any other 4xx (the receiver refuses it: not retried).
    """
    body = {"kind": "medpipe.drift", "model": inp.model, "version": inp.version,
            "release_id": inp.release_id, "action": inp.action.value,
            "verdict": inp.verdict.model_dump(mode="json")}
    try:
        resp = client.post(inp.url, json=body, headers={IDEMPOTENCY_HEADER: inp.idempotency_key})
    except httpx.HTTPError as e:
        raise Transient(f"drift alert webhook did not answer: {type(e).__name__}") from e
    if resp.status_code >= 500 or resp.status_code == 429:
        raise Transient(f"drift alert webhook answered HTTP {resp.status_code}")
    if resp.status_code >= 400:
        raise InvalidInput(f"drift alert webhook refused the alert: HTTP {resp.status_code}")
    return resp.status_code


async def schedule_monitor(client: Client, inp: DriftScheduleInput) -> DriftScheduleResult:
    """Create or replace (``inp.monitor``) or delete (None) the model's drift schedule."""
    sid = drift_schedule_id(inp.model, inp.control_queue)
    handle = client.get_schedule_handle(sid)
    if inp.monitor is None:
        try:
            await handle.delete()
        except RPCError as e:
            if e.status is not RPCStatusCode.NOT_FOUND:
                raise
            return DriftScheduleResult(schedule_id=sid, action="absent")
        return DriftScheduleResult(schedule_id=sid, action="deleted")
    m = inp.monitor
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WorkflowName.DRIFT, m, id=sid, task_queue=inp.control_queue,
            static_summary=f"Drift check {m.model} {m.version}"),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(
            every=timedelta(seconds=m.policy.interval_s))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=f"drift monitor of {m.model} {m.version} ({m.release_id})"))
    try:
        await client.create_schedule(sid, schedule)
        return DriftScheduleResult(schedule_id=sid, action="created")
    except ScheduleAlreadyRunningError:
        await handle.delete()  # the next promotion replaces the schedule
        await client.create_schedule(sid, schedule)
        return DriftScheduleResult(schedule_id=sid, action="replaced")


class DriftActivities:
    """Activities of the drift monitor (figures only: no patient data)."""

    def __init__(self, ctx: WorkerContext, tls: TLSSettings | None = None,
                 timeout: float = 10.0) -> None:
        self.ctx = ctx
        self.admin = GatewayAdmin(tls or TLSSettings())
        self.http = httpx.Client(timeout=timeout)

    @activity.defn(name=ActivityName.DRIFT_ALERT)
    @translate_errors
    def alert(self, inp: DriftAlertInput) -> DriftAlertResult:
        """POST the verdict to the webhook (retried by Temporal, idempotent by key)."""
        return DriftAlertResult(status=post_alert(self.http, inp))

    @activity.defn(name=ActivityName.DRIFT_ROLLBACK)
    @translate_errors_async
    async def rollback(self, inp: DriftRollbackInput) -> DriftRollbackResult:
        """Roll back through the canary's Update; directly on the gateways if it closed."""
        request = RollbackRequest(reason=inp.reason, requested_by=inp.requested_by)
        handle = activity.client().get_workflow_handle(inp.canary_workflow_id)
        try:
            result = await handle.execute_update(UpdateName.ROLLBACK, request,
                                                 result_type=CanaryRollbackResult)
            return DriftRollbackResult(via="canary-update", state=result.state.value,
                                       restored_previous=result.restored_previous)
        except WorkflowUpdateFailedError as e:
            raise DeployFailed(f"the canary refused the rollback: {e.cause}") from e
        except RPCError as e:
            if e.status is not RPCStatusCode.NOT_FOUND and "completed" not in e.message:
                raise Transient(f"rollback Update not delivered: {e.message}") from e
        restored = False
        for target in inp.targets:  # the canary workflow has closed: roll back directly
            call = GatewayCallInput(target=target, operation="rollback",
                                    body={"version": inp.version, "reason": inp.reason})
            res = await asyncio.to_thread(self.admin.call, call)
            restored = restored or res.action == "restored_previous"
        return DriftRollbackResult(via="gateways", state="rolled-back",
                                   restored_previous=restored)

    @activity.defn(name=ActivityName.DRIFT_SCHEDULE)
    @translate_errors_async
    async def schedule(self, inp: DriftScheduleInput) -> DriftScheduleResult:
        """Create, replace or delete the model's drift schedule."""
        return await schedule_monitor(activity.client(), inp)

