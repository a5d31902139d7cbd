"""Durability: the Temporal server dies mid-release; replay of recorded histories."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from medpipe.contracts.release import ReleaseState, Stage
from medpipe.workers.client import data_converter
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.worker import WORKFLOWS, workflow_runner
from tests.support import make_fleet, make_request, running_workers, start, status_of, wait_until

pytestmark = pytest.mark.asyncio
RECORDED = Path(__file__).parent.parent / "data" / "release_history.json"


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
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(),
                        data_converter=data_converter())
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
    if not RECORDED.exists():  # first run records the reference history
        RECORDED.write_text(json.dumps(history.to_json_dict()))


async def test_replay_of_the_recorded_history_is_deterministic() -> None:
    if not RECORDED.exists():
        pytest.fail(f"{RECORDED} missing: run the fresh-history replay test to record it")
    history = WorkflowHistory.from_json("release-recorded", RECORDED.read_text())
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(),
                        data_converter=data_converter())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
