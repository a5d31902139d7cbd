"""Durability: the Temporal server dies mid-release; replay of recorded histories."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from medpipe.contracts.release import ReleaseState, Stage
from medpipe.workers.client import data_converter
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.worker import WORKFLOWS, workflow_runner
from tests.support import make_fleet, make_request, running_workers, start, status_of, wait_until

pytestmark = pytest.mark.asyncio
HISTORIES = Path(__file__).parent.parent / "data" / "histories"
_E = EventType
_RELEASE = {_E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, _E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED}
_DEPLOY = {_E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
           _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED}
_ROLLED_BACK = {_E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
                _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, _E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED}
_CANARY = {_E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
           _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
           _E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED}
_UPDATES = {_E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED}
#: Every history ``tests/data/record_histories.py`` records (plus those recorded by older
#: workflow code, which must keep replaying), with event types its path must show.
RECORDED: dict[str, set[EventType.ValueType]] = {
    "release-plain-recorded-before-refactor": _RELEASE | {_E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT},
    "release-failover": _RELEASE | {_E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT},
    "release-reingest": _RELEASE | {_E.EVENT_TYPE_ACTIVITY_TASK_FAILED},
    "release-fanout": _RELEASE | {_E.EVENT_TYPE_MARKER_RECORDED},  # the patch markers
    # recorded before validate fanned out (workflow.patched keeps it replaying)
    "release-fanout-recorded-before-validate-fanout": _RELEASE | {_E.EVENT_TYPE_MARKER_RECORDED},
    # recorded before the learn pass fanned out (workflow.patched keeps it replaying)
    "release-fanout-recorded-before-learn-shards": _RELEASE | {_E.EVENT_TYPE_MARKER_RECORDED},
    "release-spread": _RELEASE | {_E.EVENT_TYPE_MARKER_RECORDED},  # patch + placement probe
    # recorded before the probe counted pending releases (its marker has no ``pending``:
    # the round-robin rule of that time chooses on replay)
    "release-spread-recorded-before-burst-accounting": _RELEASE | {_E.EVENT_TYPE_MARKER_RECORDED},
    # recorded before releases were spread by load (workflow.patched keeps it replaying)
    "release-failover-recorded-before-spread": _RELEASE | {_E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT},
    "release-initial-deploy": _RELEASE | _DEPLOY,
    "canary-initial-deploy": _CANARY,
    "release-promoted": _RELEASE | _DEPLOY,
    "canary-promoted": _CANARY | _UPDATES | {_E.EVENT_TYPE_TIMER_FIRED},
    # recorded before the canary reconciled gateways (workflow.patched keeps it replaying)
    "canary-promoted-recorded-before-reconcile": _CANARY | _UPDATES | {_E.EVENT_TYPE_TIMER_FIRED},
    "release-rolled-back-auto": _ROLLED_BACK,
    "canary-rolled-back-auto": _CANARY | {_E.EVENT_TYPE_TIMER_FIRED, _E.EVENT_TYPE_MARKER_RECORDED},
    # recorded before a step had to judge the shift, and before an extended bake kept its
    # window (workflow.patched keeps them replaying)
    "canary-rolled-back-auto-recorded-before-shift-judged": _CANARY | {_E.EVENT_TYPE_TIMER_FIRED},
    "canary-promoted-recorded-before-shift-judged":
        _CANARY | _UPDATES | {_E.EVENT_TYPE_TIMER_FIRED},
    "release-rolled-back-update": _ROLLED_BACK,
    "canary-rolled-back-update": _CANARY | _UPDATES,
    "release-approved": _RELEASE | _DEPLOY,
    "canary-approved": _CANARY | _UPDATES | {_E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES},
    "release-approval-signed-rollback": _ROLLED_BACK,
    "canary-approval-signed-rollback": _CANARY | _UPDATES,
    "drift-check": {_E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                    _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES},
}


async def test_server_killed_and_restarted_mid_release_completes(
        tmp_path: Path, sample: dict[str, Path]) -> None:
    server = TemporalDevServer(tmp_path / "temporal.db", tmp_path / "temporal.log")
    server.start()
    try:
        client = await Client.connect(server.address, data_converter=data_converter())
        fleet = make_fleet(tmp_path)
        big = tmp_path / "big.csv"
        header, _, body = sample["dataset"].read_bytes().partition(b"\n")
        big.write_bytes(header + b"\n" + body * 4)
        async with running_workers(client, fleet, ["aws/us-east-1"],
                                   ingest_rate_limit=1_000_000):
            handle = await start(client, make_request(fleet, sample, data_uri=big.as_uri()))

            async def ingesting() -> bool:
                return (await status_of(handle)).current_stage is Stage.INGEST

            await wait_until(ingesting, timeout=20)
            await asyncio.sleep(1.0)
            server.kill()
            await asyncio.sleep(2.0)
            server.start()
            status = await asyncio.wait_for(handle.result(), timeout=120)
        assert status.state is ReleaseState.SUCCEEDED
        import hashlib
        assert status.ingest.artifact("dataset").content_sha256 == \
            hashlib.sha256(big.read_bytes()).hexdigest()
    finally:
        server.stop()


async def test_replay_of_a_fresh_history_is_deterministic(
        client: Client, tmp_path: Path, sample: dict[str, Path]) -> None:
    fleet = make_fleet(tmp_path)
    async with running_workers(client, fleet, ["azure/eastus"]):
        handle = await start(client, make_request(fleet, sample))
        await handle.result()
    history = await handle.fetch_history()
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_every_recorded_history_is_present() -> None:
    """A missing history is a failure, never a reason to record one here: histories are
    recorded on purpose, with ``tests/data/record_histories.py``."""
    present = {p.stem for p in HISTORIES.glob("*.json")}
    missing = sorted(set(RECORDED) - present)
    assert not missing, (f"recorded histories missing from {HISTORIES}: {missing} "
                         "(record them with: .venv/bin/python tests/data/record_histories.py)")


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_recorded_history_replays_on_the_current_code(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{path} missing: record it with tests/data/record_histories.py")
    history = WorkflowHistory.from_json(name, path.read_text())
    events = {e.event_type for e in history.events}
    # the history still shows the path it was recorded for (a re-record that lost it fails)
    assert RECORDED[name] <= events, sorted(RECORDED[name] - events)
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(),
                    data_converter=data_converter())
