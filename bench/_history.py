"""The activities' own timings, read from a workflow's history (no clocks of ours).

An activity's work is the time between its ``ActivityTaskStarted`` event (when a
worker picked it up) and its ``ActivityTaskCompleted`` event; a release's stage
work is their sum, so the orchestration around the stages is not counted in it.
"""

from __future__ import annotations

from collections import defaultdict

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


async def activity_seconds(client: Client, workflow_id: str) -> dict[str, float]:
    """Seconds of completed activity work in ``workflow_id``'s history, per activity type."""
    names: dict[int, str] = {}
    started: dict[int, float] = {}
    work: dict[str, float] = defaultdict(float)
    handle = client.get_workflow_handle(workflow_id)
    async for e in handle.fetch_history_events():
        t = e.event_time.ToDatetime().timestamp()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[e.event_id] = t
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            a = e.activity_task_completed_event_attributes
            work[names[a.scheduled_event_id]] += t - started[a.started_event_id]
    return dict(work)
