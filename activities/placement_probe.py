"""The placement probe: which compliant queues have workers, and how many releases run
where (``ActivityName.PLACEMENT_PROBE``, a local activity of the control worker).

Two reads of the Temporal frontend, no patient data: ``DescribeTaskQueue`` per
candidate queue (a poller listed = a worker took tasks there within about a
minute) and a visibility listing of the fleet's running releases, with the
``MedpipeCloud``/``MedpipeStage`` search attributes every release keeps up to
date (repeated, for up to ``VISIBLE_WAIT_S``, until it lists the asking release:
visibility is written after the starts, and a release of a burst must see the
ones started before it, placed or not). Task-queue backlog is no load signal here:
workers keep generous activity slots (so placement never takes a busy worker for a
dead one) and start every task at once, so the waiting happens inside the worker,
where Temporal cannot see it; the releases running on a cloud can be seen.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import NamedTuple

from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from medpipe.contracts.errors import ErrorType
from medpipe.contracts.names import ActivityName, SearchAttr, WorkflowName
from medpipe.contracts.release import Stage
from medpipe.contracts.spread import ProbeLoadInput, ProbeLoadResult

#: Running releases read at most (a fleet with more is loaded everywhere anyway).
MAX_LISTED = 1000

#: Seconds the probe of a release waits for visibility to list that release (and so the
#: releases started before it), polling every ``VISIBLE_POLL_S``; then it goes on.
VISIBLE_WAIT_S = 2.0
VISIBLE_POLL_S = 0.05

#: Stages that run on a worker of the cloud in ``MedpipeCloud`` (a release in deployment
#: waits on its canary and uses no data-plane worker).
PLACED_STAGES = frozenset(s.value for s in Stage if s is not Stage.DEPLOY)


class _Release(NamedTuple):
    """A running release as visibility lists it (search attributes, no payloads)."""

    start_time: datetime
    id: str
    cloud: str | None
    stage: str | None


def running_releases_query(control_queue: str) -> str:
    """Visibility query of one fleet's running releases (its workflows use its control queue)."""
    return (f'WorkflowType = "{WorkflowName.RELEASE.value}" AND ExecutionStatus = "Running" '
            f'AND TaskQueue = "{control_queue}"')


async def _live(client: Client, queue: str) -> bool:
    resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace=client.namespace, task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
    return bool(resp.pollers)


async def _running(client: Client, control_queue: str) -> list[_Release]:
    """The fleet's running releases as visibility lists them now."""
    out: list[_Release] = []
    async for wf in client.list_workflows(running_releases_query(control_queue),
                                          limit=MAX_LISTED):
        attrs = wf.typed_search_attributes
        out.append(_Release(wf.start_time, wf.id, attrs.get(SearchAttr.CLOUD),
                            attrs.get(SearchAttr.STAGE)))
    return out


async def _running_with(client: Client, control_queue: str, me: str) -> list[_Release]:
    """The running releases, once visibility lists ``me`` (for at most ``VISIBLE_WAIT_S``).

    Visibility is written after the starts; releases started in one burst are listed in
    start order, so once ``me`` is listed the releases started before it are too (a
    release that saw none of them would pile onto the same worker as they)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + VISIBLE_WAIT_S
    listed = await _running(client, control_queue)
    while not any(r.id == me for r in listed) and loop.time() < deadline:
        await asyncio.sleep(VISIBLE_POLL_S)
        listed = await _running(client, control_queue)
    return listed


async def probe_load(client: Client, inp: ProbeLoadInput, me: str) -> ProbeLoadResult:
    """What ``inp``'s queues look like now, for the release whose workflow id is ``me``.

    Releases are ordered by (start time, workflow id); one that shows no stage yet
    was started but not placed, and counts as ``pending`` when it started before
    ``me`` (the workflow places it first, as it will place itself). With
    ``inp.started_at`` (a release asking), the listing waits until it lists ``me``.
    """
    live = tuple([await _live(client, q) for q in inp.queues])
    if inp.liveness_only:
        return ProbeLoadResult(live=live, load=tuple(0 for _ in inp.queues))
    listed = (await _running_with(client, inp.control_queue, me) if inp.started_at
              else await _running(client, inp.control_queue))
    mine: tuple[datetime, str] | None = (inp.started_at, me) if inp.started_at else None
    others: list[tuple[datetime, str]] = []
    unplaced: list[tuple[datetime, str]] = []
    per_cloud: dict[str, int] = {}
    for wf in listed:
        if wf.id == me:
            mine = (wf.start_time, wf.id)  # as the others see it
            continue
        others.append((wf.start_time, wf.id))
        if wf.cloud and wf.stage in PLACED_STAGES:
            per_cloud[wf.cloud] = per_cloud.get(wf.cloud, 0) + 1
        elif not wf.stage:
            unplaced.append(others[-1])
    ahead = len(others) if mine is None else sum(1 for o in others if o < mine)
    pending = len(unplaced) if mine is None else sum(1 for o in unplaced if o < mine)
    return ProbeLoadResult(live=live, load=tuple(per_cloud.get(c, 0) for c in inp.clouds),
                           others=len(others), ahead=ahead, pending=pending)


class PlacementProbeActivities:
    """The probe, run by the control worker next to the workflows (its client)."""

    @activity.defn(name=ActivityName.PLACEMENT_PROBE)
    async def probe(self, inp: ProbeLoadInput) -> ProbeLoadResult:
        """Liveness and load of ``inp.queues`` (the workflow records it and chooses)."""
        try:
            return await probe_load(activity.client(), inp, activity.info().workflow_id or "")
        except RPCError as e:
            raise ApplicationError(f"placement probe: Temporal did not answer: {e.message}",
                                   type=ErrorType.TRANSIENT) from e
