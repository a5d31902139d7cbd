"""Where a worker's memory goes, activity by activity (``--memory-trace``).

A sampler thread reads ``/proc`` every ``interval`` seconds: for each worker process
group, the worker's resident memory (``VmRSS``) and the sum and maximum of its
children's (the stages' process pools). After the release, each activity of its
history (start and end times, and the worker that ran it, from the identity
``…:PID``) is matched to the samples: the worker's RSS when the activity started
and ended, its peak during the activity, and its pool children's peak sum. Only
sizes are read, never a process's memory.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field

from _rss import group_pids, status_kib
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


def vm_rss_kib(pid: int) -> int:
    """``VmRSS`` (resident memory now) of ``pid`` in KiB (0 when it has gone)."""
    return status_kib(pid, "VmRSS")


@dataclass
class RssTimeline:
    """Samples the worker process groups ``pgids`` (worker RSS, children's RSS) until
    the ``with`` block ends."""

    pgids: list[int]
    interval: float = 0.25
    times: list[float] = field(default_factory=list)
    main: dict[int, list[int]] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        """One reading of every process of every group (KiB)."""
        self.times.append(time.time())
        for pgid in self.pgids:
            kids = 0
            for pid in group_pids(pgid):
                if pid != pgid:
                    kids += vm_rss_kib(pid)
            self.main.setdefault(pgid, []).append(vm_rss_kib(pgid))
            self.children.setdefault(pgid, []).append(kids)

    def __enter__(self) -> RssTimeline:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        self.sample()
        self._thread = threading.Thread(target=loop, name="rss-timeline", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.sample()

    def window(self, pgid: int, t0: float, t1: float) -> tuple[int, int, int, int]:
        """(RSS at t0, RSS at t1, peak RSS in [t0, t1], children's peak sum) in KiB."""
        main, kids = self.main.get(pgid, []), self.children.get(pgid, [])
        if not main:
            return 0, 0, 0, 0
        i = min(bisect.bisect_left(self.times, t0), len(self.times) - 1)
        j = min(max(i, bisect.bisect_right(self.times, t1) - 1), len(self.times) - 1)
        return main[i], main[j], max(main[i:j + 1]), max(kids[i:j + 1])


@dataclass(frozen=True)
class ActivityRun:
    """One completed (or failed) activity of a history: its name, worker pid, times."""

    name: str
    pid: int
    started: float
    ended: float


async def activity_runs(client: Client, workflow_id: str) -> list[ActivityRun]:
    """The activities of ``workflow_id`` and of its child workflows, in start order."""
    runs: list[ActivityRun] = []
    names: dict[int, str] = {}
    started: dict[int, tuple[float, int]] = {}
    children: list[str] = []
    handle = client.get_workflow_handle(workflow_id)
    async for e in handle.fetch_history_events():
        t = e.event_time.ToDatetime().timestamp()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names[e.event_id] = e.activity_task_scheduled_event_attributes.activity_type.name
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            a = e.activity_task_started_event_attributes
            pid = a.identity.rpartition(":")[2]
            started[e.event_id] = (t, int(pid) if pid.isdigit() else 0)
        elif e.event_type in (EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                              EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                              EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT):
            a = (e.activity_task_completed_event_attributes
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                 else e.activity_task_failed_event_attributes
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
                 else e.activity_task_timed_out_event_attributes)
            if a.started_event_id in started:
                t0, pid = started[a.started_event_id]
                runs.append(ActivityRun(names[a.scheduled_event_id].rpartition(".")[2],
                                        pid, t0, t))
        elif e.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            children.append(
                e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id)
    for child in children:
        runs.extend(await activity_runs(client, child))
    return sorted(runs, key=lambda r: r.started)


def memory_table(runs: list[ActivityRun], timeline: RssTimeline,
                 worker_pids: list[int], min_seconds: float = 0.5) -> list[str]:
    """One line per activity of at least ``min_seconds``: worker, seconds, the worker's RSS
    at start / end / peak during it, and its pool children's peak (MiB)."""
    index = {pid: i + 1 for i, pid in enumerate(worker_pids)}
    lines = []
    for r in runs:
        if r.ended - r.started < min_seconds or r.pid not in index:
            continue
        start, end, peak, kids = timeline.window(r.pid, r.started, r.ended)
        lines.append(f"{r.name:<28} w{index[r.pid]} {r.ended - r.started:7.1f} s  RSS "
                     f"start {start / 1024:6,.0f} end {end / 1024:6,.0f} peak {peak / 1024:6,.0f}"
                     f" MiB; children peak {kids / 1024:6,.0f} MiB")
    return lines
