"""Concurrent releases spread over every compliant worker (real Temporal, real workers).

Which queue ran each stage is read from history (ActivityTaskScheduled's task
queue, and the worker identity that started it), never from timings.
"""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from medpipe.activities.placement_probe import probe_load
from medpipe.contracts.names import ActivityName
from medpipe.contracts.placement import Fleet
from medpipe.contracts.release import PlacementTimeouts, ReleaseState, Stage
from medpipe.contracts.spread import ProbeLoadInput
from tests.history import activity_runs, history_events
from tests.support import make_fleet, make_request, running_workers, start, wait_until

pytestmark = pytest.mark.asyncio

US_WORKERS = ["aws/us-east-1", "azure/eastus"]
#: Four releases in one test process on a shared machine: no failover for slowness.
LENIENT = PlacementTimeouts(schedule_to_start_s=20, heartbeat_s=20, start_to_close_s=300)
PLACED = (ActivityName.INGEST, ActivityName.PSEUDONYMIZE, ActivityName.VALIDATE,
          ActivityName.EVALUATE, ActivityName.SIGN)


def cpu_queue(fleet: Fleet, profile: str) -> str:
    return fleet.find(profile).queues(fleet.queue_prefix)[0]


async def polled(client: Client, queues: list[str]) -> bool:
    for q in queues:
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=q),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
        if not resp.pollers:
            return False
    return True


async def test_concurrent_releases_spread_over_the_compliant_workers_only(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    us = [cpu_queue(fleet, p) for p in US_WORKERS]
    eu = cpu_queue(fleet, "gcp/europe-west3")
    # the EU worker polls too, idle: a US release must never be placed there
    async with running_workers(client, fleet, [*US_WORKERS, "gcp/europe-west3"]):
        await wait_until(lambda: polled(client, [*us, eu]))
        handles = [await start(client, make_request(fleet, sample, prefer_gpu=False,
                                                    timeouts=LENIENT))
                   for _ in range(4)]
        statuses = await asyncio.gather(*(h.result() for h in handles))
        histories = [await history_events(h) for h in handles]
    assert all(s.state is ReleaseState.SUCCEEDED for s in statuses)
    ran: collections.Counter[str] = collections.Counter()
    for events, status in zip(histories, statuses, strict=True):
        tried = [r.queue for name in PLACED for r in activity_runs(events, name)]
        assert tried and eu not in tried and all(".gcp." not in q for q in tried), tried
        done = {name: [r.queue for r in activity_runs(events, name) if "completed" in r.events]
                for name in PLACED}
        ran.update(q for qs in done.values() for q in qs)
        # a release's later stages follow its data (the cloud that ingested it)
        home = done[ActivityName.INGEST]
        assert done[ActivityName.PSEUDONYMIZE] == home == done[ActivityName.VALIDATE], done
        ingest = next(s for s in status.stages if s.stage is Stage.INGEST)
        assert ingest.ran_on is not None and [ingest.ran_on.task_queue] == home
        # the probe's answer is in history (a local-activity marker): a replay chooses alike
        assert any(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                   and ActivityName.PLACEMENT_PROBE.value.encode() in e.SerializeToString()
                   for e in events)
    assert set(ran) == set(us), ran  # both live compliant workers ran stages
    # the burst splits evenly: each live compliant worker is home to two of the four
    homes = collections.Counter(next(s for s in st.stages if s.stage is Stage.INGEST)
                                .ran_on.task_queue for st in statuses)  # type: ignore[union-attr]
    assert homes == {us[0]: 2, us[1]: 2}, homes


async def test_the_probe_sees_pollers_and_the_fleets_running_releases(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    queues = [cpu_queue(fleet, p) for p in ["aws/us-east-1", "azure/eastus", "onprem/gpu-01"]]
    inp = ProbeLoadInput(queues=tuple(queues), clouds=("aws", "azure", "onprem"),
                         control_queue=fleet.control_queue)
    idle = await probe_load(client, inp, "nobody")
    assert idle.live == (False, False, False) and idle.others == 0 and idle.load == (0, 0, 0)
    async with running_workers(client, fleet, ["azure/eastus"]):
        await wait_until(lambda: polled(client, [queues[1]]))
        # a release that waits on the dead aws queue (the first in fleet order)
        handle = await start(client, make_request(fleet, sample))

        async def seen() -> bool:
            probe = await probe_load(client, inp, "nobody")
            return probe.others == 1 and sum(probe.load) == 1

        await wait_until(seen)
        probe = await probe_load(client, inp, "nobody")
        assert probe.live == (False, True, False)
        mine = await probe_load(client, inp, handle.id)  # the release itself is not "other"
        assert mine.others == 0 and mine.ahead == 0
        await handle.result()


async def test_the_probe_counts_releases_started_before_it_and_not_placed_yet(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    """A release no worker has run yet shows no stage: a release started after it counts
    it as pending (to be placed first), one started before it does not."""
    fleet = make_fleet(tmp_path)
    queues = [cpu_queue(fleet, p) for p in US_WORKERS]
    inp = ProbeLoadInput(queues=tuple(queues), clouds=("aws", "azure"),
                         control_queue=fleet.control_queue)
    before = datetime.now(UTC) - timedelta(seconds=1)
    handle = await start(client, make_request(fleet, sample))  # no control worker: no stage
    try:
        async def listed() -> bool:
            return (await probe_load(client, inp, "nobody")).others == 1

        await wait_until(listed)
        after = datetime.now(UTC) + timedelta(seconds=1)
        later = await probe_load(client, inp.model_copy(update={"started_at": after}), "nobody")
        assert (later.ahead, later.pending, later.load) == (1, 1, (0, 0))
        earlier = await probe_load(client, inp.model_copy(update={"started_at": before}),
                                   "nobody")
        assert (earlier.others, earlier.ahead, earlier.pending) == (1, 0, 0)
    finally:
        await handle.terminate("test over")
