"""Read what happened from a workflow's history: which queue ran each activity, in order.

Tests assert on the order of history events (scheduled on A, timed out, then
scheduled on B) instead of on durations, which depend on the machine's load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

_ENDINGS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: ("activity_task_started_event_attributes",
                                                  "started"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: ("activity_task_completed_event_attributes",
                                                    "completed"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("activity_task_failed_event_attributes",
                                                 "failed"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: ("activity_task_timed_out_event_attributes",
                                                    "timed out"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: ("activity_task_canceled_event_attributes",
                                                   "canceled"),
}


@dataclass
class ActivityRun:
    """One scheduling of an activity and what became of it, in history order."""

    queue: str
    scheduled_id: int
    last_id: int = 0
    events: list[str] = field(default_factory=list)
    failure_type: str | None = None
    timeout: str | None = None
    attempt: int = 0


def activity_runs(events: list[HistoryEvent], activity_type: str) -> list[ActivityRun]:
    """Every scheduling of ``activity_type`` in ``events``, with its later events."""
    runs: dict[int, ActivityRun] = {}
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            a = e.activity_task_scheduled_event_attributes
            if a.activity_type.name == activity_type:
                runs[e.event_id] = ActivityRun(queue=a.task_queue.name,
                                               scheduled_id=e.event_id, last_id=e.event_id)
            continue
        ending = _ENDINGS.get(e.event_type)
        if ending is None:
            continue
        attrs: Any = getattr(e, ending[0])
        run = runs.get(attrs.scheduled_event_id)
        if run is None:
            continue
        run.events.append(ending[1])
        run.last_id = e.event_id
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            run.attempt = attrs.attempt
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            info = attrs.failure.application_failure_info
            run.failure_type = info.type or None
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            run.timeout = TimeoutType.Name(attrs.failure.timeout_failure_info.timeout_type)
    return list(runs.values())


def timers_between(events: list[HistoryEvent], first: int, last: int) -> int:
    """How many timers the workflow started between two event ids (a wait, a backoff)."""
    return sum(1 for e in events if first < e.event_id < last
               and e.event_type == EventType.EVENT_TYPE_TIMER_STARTED)


def timers(events: list[HistoryEvent]) -> list[tuple[float, str]]:
    """Every timer the workflow started: (seconds, ``fired`` | ``canceled`` | ``pending``)."""
    started: dict[int, list[Any]] = {}
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            seconds = e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            started[e.event_id] = [seconds.total_seconds(), "pending"]
        elif e.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            started[e.timer_fired_event_attributes.started_event_id][1] = "fired"
        elif e.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            started[e.timer_canceled_event_attributes.started_event_id][1] = "canceled"
    return [(seconds, outcome) for seconds, outcome in started.values()]


def event_types(events: list[HistoryEvent]) -> list[str]:
    """The events' type names without the prefix, e.g. ``WORKFLOW_EXECUTION_UPDATE_COMPLETED``."""
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events]


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The workflow's history events, oldest first."""
    return list((await handle.fetch_history()).events)
