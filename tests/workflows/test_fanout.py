"""A release whose dataset is above the fan-out threshold pseudonymizes and validates it
over shards on every compliant worker (real dev server, real workers), with the results
the one-activity stages give, and a shard whose worker is SIGKILLed moves to another
worker alone (pseudonymize and validate)."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import Client, WorkflowHandle

from medpipe.contracts.fanout import FanoutSettings
from medpipe.contracts.names import ActivityName
from medpipe.contracts.placement import Fleet
from medpipe.contracts.pseudonymize import PseudonymizeResult
from medpipe.contracts.release import FailoverCause, ReleaseStatus, Stage, StageOutcome
from medpipe.workers.cli_render import status_table
from medpipe.workers.devserver import TemporalDevServer
from tests.history import activity_runs, history_events
from tests.markers import MarkerScan
from tests.support import (
    FAST,
    make_fleet,
    make_request,
    running_workers,
    start,
    wait_until,
    worker_process,
    write_fleet_file,
)
from tests.workflows.test_no_phi_in_history import history_json, marked_dataset, store_files

pytestmark = pytest.mark.asyncio

US = ["aws/us-east-1", "azure/eastus", "onprem/gpu-01"]  # every US profile of make_fleet


def us_queues(fleet: Fleet) -> set[str]:
    return {fleet.find(p).queues(fleet.queue_prefix)[0] for p in US}


async def pseudonymized(client: Client, handle: WorkflowHandle[Any, Any],
                        activity: str) -> PseudonymizeResult:
    """The stage's result as recorded in history (the last completion of ``activity``)."""
    events = await history_events(handle)
    types = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
             for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
    done = [e.activity_task_completed_event_attributes for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            and types[e.activity_task_completed_event_attributes.scheduled_event_id] == activity]
    [result] = await client.data_converter.decode(done[-1].result.payloads,
                                                  [PseudonymizeResult])
    assert isinstance(result, PseudonymizeResult)
    return result


def pseudonymize_records(status: ReleaseStatus) -> list[str]:
    return [s.detail for s in status.stages if s.stage is Stage.PSEUDONYMIZE]


async def test_release_fans_pseudonymize_out_over_every_compliant_worker(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    data, markers = marked_dataset(sample, tmp_path)
    # no failover on a busy host: neither a late start nor a late heartbeat (under load
    # 11-14 the 1.5 s heartbeat lapsed in validate shards, which then ran twice)
    patient = FAST.model_copy(update={"schedule_to_start_s": 20.0, "heartbeat_s": 10.0})
    fanned = make_request(fleet, sample, data_uri=data.as_uri(), timeouts=patient,
                          fanout=FanoutSettings(min_bytes=1, chunk_rows=100))
    single = make_request(fleet, sample, data_uri=data.as_uri(), timeouts=patient,
                          fanout=FanoutSettings(min_bytes=0))
    async with running_workers(client, fleet, US):
        handle = await start(client, fanned)
        status = await handle.result()
        plain_handle = await start(client, single)
        plain = await plain_handle.result()  # same vault: same tokens
    events = await history_events(handle)
    shards = activity_runs(events, ActivityName.PSEUDONYMIZE_SHARD)
    learn_shards = activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN_SHARD)
    assert not activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN)  # the learn pass fanned out
    assert len(activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN_KEY)) == 1
    assert len(activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN_MERGE)) == 1
    assert len(activity_runs(events, ActivityName.PSEUDONYMIZE_MERGE)) == 1
    assert not activity_runs(events, ActivityName.PSEUDONYMIZE)
    # one shard and one learn shard per compliant worker, each on its own queue; never on
    # the EU worker
    assert len(shards) == 3 and {r.queue for r in shards} == us_queues(fleet)
    assert len(learn_shards) == 3 and {r.queue for r in learn_shards} == us_queues(fleet)
    assert all(r.events == ["started", "completed"] for r in shards + learn_shards)
    details = pseudonymize_records(status)
    assert details[0] == "fan-out: learn key" and details[-1] == "fan-out: merge of 3 shards"
    assert details[4] == "fan-out: learn merge of 3 parts"
    assert sorted(details[1:4]) == [f"fan-out: learn shard {i}/3" for i in (1, 2, 3)]
    assert sorted(d.split(" (")[0] for d in details[5:-1]) == \
        [f"fan-out: shard {i}/3" for i in (1, 2, 3)]
    assert all(s.outcome is StageOutcome.SUCCEEDED for s in status.stages)
    console = Console(record=True, width=300)
    console.print(status_table(status))
    shown = console.export_text()
    assert "pseudonymize · learn merge of 3 parts" in shown
    assert "pseudonymize · merge of 3 shards" in shown
    assert all(f"pseudonymize · shard {i}/3 (chunks" in shown for i in (1, 2, 3))
    # the result is the one-activity stage's, byte for byte (CSV), and so is the report
    merged = await pseudonymized(client, handle, ActivityName.PSEUDONYMIZE_MERGE)
    one = await pseudonymized(client, plain_handle, ActivityName.PSEUDONYMIZE)
    assert merged.dataset.content_sha256 == one.dataset.content_sha256
    assert merged.report.model_copy(update={"new_tokens": 0}) == one.report
    assert one.report.new_tokens == 0 and merged.report == status.pseudonymization
    assert plain.state is status.state
    # validate fanned out too (one shard per compliant worker, then the merge), with the
    # one-activity stage's verdict and report (stored under its digest: same name)
    vshards = activity_runs(events, ActivityName.VALIDATE_SHARD)
    assert len(vshards) == 3 and {r.queue for r in vshards} == us_queues(fleet)
    assert len(activity_runs(events, ActivityName.VALIDATE_MERGE)) == 1
    assert not activity_runs(events, ActivityName.VALIDATE)
    vdetails = [s.detail for s in status.stages if s.stage is Stage.VALIDATE]
    assert len(vdetails) == 4 and vdetails[-1] == "fan-out: merge of 3 shards"
    assert status.validation is not None and plain.validation is not None
    assert status.validation.model_dump(exclude={"report_uri"}) == \
        plain.validation.model_dump(exclude={"report_uri"})
    assert status.validation.report_uri.rpartition("/")[2] == \
        plain.validation.report_uri.rpartition("/")[2]
    # no identifier in history (payloads carry references and counts only, even without
    # the codec), nor in any store (index, shard outputs and dataset are sealed)
    history = history_json(temporal_server, fanned.release_id)
    scan = MarkerScan(markers)
    assert not scan.found(history)
    stored = store_files(tmp_path / "buckets")
    parts = sorted(f.name.split("-")[0] for f in stored
                   if f.parent.name == "fanout" and ".medpipe" not in f.parts)
    # each on its worker's store: the learn pass's digest key, learn parts and index,
    # pseudonymize shards, validate parts
    assert parts == ["digestkey", "index", *["learn"] * 3, *["part"] * 3, *["shard"] * 3], parts
    for f in stored:
        assert not scan.found(f.read_bytes()), f


async def test_a_compliant_queue_no_worker_polls_gets_no_shard(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    """Two of the three US workers run (no GPU host): every fanned-out stage cuts two
    shards, each starting on a polled queue, instead of one waiting out its
    schedule-to-start on the GPU host's queue and failing over."""
    fleet = make_fleet(tmp_path)
    live = US[:2]
    patient = FAST.model_copy(update={"schedule_to_start_s": 20.0, "heartbeat_s": 10.0})
    release = make_request(fleet, sample, timeouts=patient,
                           fanout=FanoutSettings(min_bytes=1, chunk_rows=100))
    async with running_workers(client, fleet, live):
        handle = await start(client, release)
        status = await handle.result()
    events = await history_events(handle)
    polled = {fleet.find(p).queues(fleet.queue_prefix)[0] for p in live}
    for activity in (ActivityName.PSEUDONYMIZE_LEARN_SHARD, ActivityName.PSEUDONYMIZE_SHARD,
                     ActivityName.VALIDATE_SHARD):
        runs = activity_runs(events, activity)
        assert len(runs) == 2 and {r.queue for r in runs} == polled, (activity, runs)
        assert all(r.events == ["started", "completed"] for r in runs), (activity, runs)
    # (evaluate, which prefers the absent GPU host, fails over to a CPU queue as designed)
    assert [f for f in status.failovers
            if f.stage in (Stage.PSEUDONYMIZE, Stage.VALIDATE)] == []
    assert all(s.outcome is StageOutcome.SUCCEEDED for s in status.stages)
    merges = [s.detail for s in status.stages if s.detail.startswith("fan-out: merge")]
    assert merges == ["fan-out: merge of 2 shards (2 of 3 compliant queues polled)"] * 2
    # the probe's answers are in history (a replay plans alike), one per fanned-out stage,
    # each named for on-call staff
    probes = sorted(e.user_metadata.summary.data.decode() for e in events
                    if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                    and b"fan-out: which" in e.user_metadata.summary.data)
    assert probes == ['"fan-out: which compliant pseudonymize workers poll"',
                      '"fan-out: which compliant validate workers poll"'], probes


async def _kill_aws_mid_shard(client: Client, temporal_server: TemporalDevServer,
                              tmp_path: Path, sample: dict[str, Path], shard: str,
                              copies: int = 60,
                              **request: Any) -> tuple[Fleet, ReleaseStatus, list[Any], int]:
    """A fanned-out release of ``copies`` x 1,200 rows; the aws worker (its own process) is
    SIGKILLed as soon as one of its ``shard`` activities has started.

    Returns the fleet, the release's final status, its history events and its rows.
    """
    fleet = make_fleet(tmp_path)
    fleet_file = write_fleet_file(fleet, tmp_path / "fleet.yaml")
    big = tmp_path / "big.csv"
    header, _, body = sample["dataset"].read_bytes().partition(b"\n")
    big.write_bytes(header + b"\n" + body * copies)  # 72k rows: a shard runs for seconds
    proc = worker_process(temporal_server.address, fleet_file, "aws/us-east-1",
                          tmp_path / "aws.log", "--no-control")

    async def polling() -> bool:
        log = tmp_path / "aws.log"
        return log.exists() and "polling" in log.read_text()

    release = make_request(fleet, sample, data_uri=big.as_uri(),
                           fanout=FanoutSettings(min_bytes=1, chunk_rows=3000), **request)
    try:
        await wait_until(polling, timeout=30)
        async with running_workers(client, fleet, US[1:]):
            handle = await start(client, release)

            async def shard_started_on_aws() -> bool:
                desc = await handle.describe()
                return any(p.activity_type.name == shard
                           and p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                           and "aws" in p.last_worker_identity
                           for p in desc.raw_description.pending_activities)

            # a worker's first validate imports great-expectations: seconds mid-shard
            await wait_until(shard_started_on_aws, timeout=180, interval=0.05)
            os.killpg(proc.pid, signal.SIGKILL)
            status = await handle.result()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return fleet, status, await history_events(handle), copies * body.count(b"\n")


def _only_the_killed_shard_moved(fleet: Fleet, status: ReleaseStatus, events: list[Any],
                                 shard: str, stage: Stage,
                                 detail: str = "fan-out: shard") -> None:
    """One shard timed out on aws and ran again elsewhere; the three that completed ran
    off aws; the stage records one failover, for a lost worker."""
    shards = activity_runs(events, shard)
    aws = fleet.find("aws/us-east-1").queues(fleet.queue_prefix)[0]
    lost = [r for r in shards if r.timeout]
    assert len(lost) == 1 and lost[0].queue == aws  # only the killed worker's shard
    assert len(shards) == 4  # three shards, one of them run again
    moved = [s for s in status.stages if s.stage is stage and s.failovers
             and s.detail.startswith(detail)]
    assert len(moved) == 1 and moved[0].failovers[0].cause is FailoverCause.WORKER_LOST
    assert moved[0].failovers[0].from_queue == aws and moved[0].ran_on is not None
    assert moved[0].ran_on.cloud != "aws"
    queues = Counter(r.queue for r in shards if r.events[-1] == "completed")
    assert sum(queues.values()) == 3 and aws not in queues


async def test_a_shard_on_a_sigkilled_worker_moves_alone(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    fleet, status, events, rows = await _kill_aws_mid_shard(
        client, temporal_server, tmp_path, sample, ActivityName.PSEUDONYMIZE_SHARD)
    _only_the_killed_shard_moved(fleet, status, events, ActivityName.PSEUDONYMIZE_SHARD,
                                 Stage.PSEUDONYMIZE)
    assert len(activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN_MERGE)) == 1
    assert status.pseudonymization is not None
    assert status.pseudonymization.records == rows


async def test_a_learn_shard_on_a_sigkilled_worker_moves_alone(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    # 240k rows: a learn shard (a third of the chunks) runs for a second or more
    fleet, status, events, rows = await _kill_aws_mid_shard(
        client, temporal_server, tmp_path, sample, ActivityName.PSEUDONYMIZE_LEARN_SHARD,
        copies=200)
    _only_the_killed_shard_moved(fleet, status, events, ActivityName.PSEUDONYMIZE_LEARN_SHARD,
                                 Stage.PSEUDONYMIZE, detail="fan-out: learn shard")
    # the key and the merge ran once; the merge got every part (the rerun one included)
    assert len(activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN_KEY)) == 1
    merges = activity_runs(events, ActivityName.PSEUDONYMIZE_LEARN_MERGE)
    assert [r.events[-1] for r in merges if r.events[0] == "started"] == ["completed"]
    assert status.pseudonymization is not None
    assert status.pseudonymization.records == rows


async def test_a_validate_shard_on_a_sigkilled_worker_moves_alone(
        client: Client, temporal_server: TemporalDevServer, tmp_path: Path,
        sample: dict[str, Path]) -> None:
    # no failover on a busy host but the kill's (a 5 s heartbeat: this process runs two
    # workers); they import great-expectations now, not mid-shard (the killed one does)
    patient = FAST.model_copy(update={"schedule_to_start_s": 20.0, "heartbeat_s": 5.0})
    import great_expectations  # noqa: F401
    fleet, status, events, rows = await _kill_aws_mid_shard(
        client, temporal_server, tmp_path, sample, ActivityName.VALIDATE_SHARD,
        timeouts=patient)
    _only_the_killed_shard_moved(fleet, status, events, ActivityName.VALIDATE_SHARD,
                                 Stage.VALIDATE)
    # the merge prefers the dataset's cloud (aws, dead by then): it may move, never rerun
    merges = activity_runs(events, ActivityName.VALIDATE_MERGE)
    assert [r.events[-1] for r in merges if r.events[0] == "started"] == ["completed"]
    assert status.validation is not None
    assert status.validation.rows == rows
