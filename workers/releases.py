"""The client API of releases: start one, read its status, follow it, list them.

What the ``medpipe`` commands, the tests and the benchmarks share; it speaks
in contracts and prints nothing (rendering is ``workers/cli_render.py``).
Every function takes a connected ``Client`` (``workers.client.connect``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowExecution, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from medpipe.contracts.canary import CanaryStatus, canary_id
from medpipe.contracts.names import QueryName, SearchAttr, WorkflowName
from medpipe.contracts.release import ReleaseRequest, ReleaseStatus, release_id
from medpipe.contracts.summary import Summary
from medpipe.workers.undecodable import raise_if_undecodable

__all__ = ["start_release", "query_status", "first_status", "canary_status", "follow_release",
           "Followed", "list_releases", "release_query", "release_id"]


async def start_release(client: Client, request: ReleaseRequest) -> WorkflowHandle[Any, Any]:
    """Start (or attach to) the workflow of ``request``.

    Re-submitting a running or succeeded release attaches to it; a failed one
    may be released again.
    """
    allowed = ", ".join(request.residency.allowed_jurisdictions)
    try:
        return await client.start_workflow(
            WorkflowName.RELEASE, request, id=request.release_id,
            task_queue=request.fleet.control_queue, result_type=ReleaseStatus,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            static_summary=Summary(("INSECURE DEV FLEET (no key provider): "
                                    if request.fleet.unprotected else "")
                                   + f"Release {request.model} {request.version}"),
            static_details=Summary(f"Model **{request.model}** version **{request.version}**, "
                                   f"requested by {request.requested_by}. Identifiable data "
                                   f"allowed in: {allowed}."),
            search_attributes=None)
    except WorkflowAlreadyStartedError:
        # Closed and not failed: this version was already released; attach to it.
        return client.get_workflow_handle(request.release_id, result_type=ReleaseStatus)


async def query_status(handle: WorkflowHandle[Any, Any]) -> ReleaseStatus:
    """The release's ``status`` query."""
    return await handle.query(QueryName.STATUS, result_type=ReleaseStatus)


async def first_status(client: Client, handle: WorkflowHandle[Any, Any]) -> ReleaseStatus:
    """The first ``status`` of a release; if it does not come, say why when codec keys differ.

    A query waits for the workflow's first task; workers that cannot decode the
    input fail that task forever, so the query would end in a bare timeout.
    """
    try:
        return await handle.query(QueryName.STATUS, result_type=ReleaseStatus,
                                  rpc_timeout=timedelta(seconds=20))
    except RPCError:
        await raise_if_undecodable(client, handle.id)
        raise


async def canary_status(client: Client, release: str) -> CanaryStatus | None:
    """The status of ``release``'s CanaryWorkflow, None while it has none."""
    try:
        return await client.get_workflow_handle(canary_id(release)).query(
            QueryName.STATUS, result_type=CanaryStatus)
    except (RPCError, WorkflowQueryFailedError):
        return None


#: A closed release whose status query still fails after this many tries (one per
#: ``interval``) is reported from ``describe`` alone.
FINAL_QUERY_TRIES = 5


@dataclass(frozen=True)
class Followed:
    """One look at a followed release.

    Attributes:
        status: the last status the ``status`` query answered (stale when
            ``query_error`` is set).
        running: whether the workflow still runs (from ``describe``, not the query).
        completed: whether it closed as completed (a release completes only when it
            succeeded); meaningful when ``running`` is False.
        query_error: why the latest status query failed, None when it answered.
    """

    status: ReleaseStatus
    running: bool
    completed: bool = False
    query_error: str | None = None


async def follow_release(client: Client, workflow_id: str, first: ReleaseStatus,
                         interval: float = 0.5) -> AsyncIterator[Followed]:
    """Look at a release every ``interval`` seconds until its workflow closes (the last
    look has ``running`` False).

    A status query can fail while the release itself is fine: no worker polls the
    control queue for a moment (a deploy, an outage), or the worker that answers
    cannot replay the history. Following keeps the last status, says why the query
    failed, and asks again; whether the workflow runs comes from ``describe``, which
    needs no worker. Only a closed release whose query keeps failing
    (``FINAL_QUERY_TRIES``) ends on a stale status, with its error.
    """
    handle = client.get_workflow_handle(workflow_id)
    last, final_tries = first, 0
    while True:
        desc = await handle.describe()
        running = desc.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        completed = desc.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
        try:
            last = await query_status(handle)
            error = None
        except (RPCError, WorkflowQueryFailedError) as e:
            error = _query_error(e)
            if not running:
                final_tries += 1
        if running or error is None or final_tries >= FINAL_QUERY_TRIES:
            yield Followed(status=last, running=running, completed=completed, query_error=error)
            if not running:
                return
        await asyncio.sleep(interval)


def _query_error(e: BaseException) -> str:
    """One line on a failed status query (its message, without the SDK's chain)."""
    text = str(e) or type(e).__name__
    return text.splitlines()[0][:300]


def release_query(model: str | None = None, stage: str | None = None,
                  state: str | None = None) -> str:
    """The visibility query of releases, filtered through search attributes."""
    clauses = [f"WorkflowType = '{WorkflowName.RELEASE.value}'"]
    for attr, value in ((SearchAttr.MODEL.name, model), (SearchAttr.STAGE.name, stage),
                        (SearchAttr.STATE.name, state)):
        if value:
            clauses.append(f"{attr} = '{value.replace(chr(39), '')}'")
    return " AND ".join(clauses)


async def list_releases(client: Client, query: str, limit: int) -> list[WorkflowExecution]:
    """The releases matching ``query`` (see ``release_query``), newest first."""
    return [wf async for wf in client.list_workflows(query, limit=limit)]
