"""The end-of-session replay check (``tests.replay_all``) finds what does not replay."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory

from medpipe.workers import codec
from tests.replay_all import (
    closed_query,
    encrypted_input,
    failure_report,
    replay_closed,
    replay_histories,
    workflow_type_names,
)
from tests.support import make_fleet, make_request, start, wait_until

pytestmark = pytest.mark.asyncio
RECORDED = Path(__file__).parent.parent / "data" / "histories" / "release-spread.json"


def with_patch_renamed(text: str, old: str, new: str) -> str:
    """The history with its ``old`` patch marker renamed ``new`` (what a renamed
    ``workflow.patched`` id in the code looks like to a replay)."""
    history = json.loads(text)
    renamed = 0
    for event in history["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if not marker or marker.get("markerName") != "core_patch":
            continue
        payload = marker["details"]["patch-data"]["payloads"][0]
        data = json.loads(base64.b64decode(payload["data"]))
        if data["id"] == old:
            data["id"] = new
            payload["data"] = base64.b64encode(json.dumps(data).encode()).decode()
            renamed += 1
    assert renamed == 1, f"the recorded history should hold one {old!r} patch marker"
    return json.dumps(history)


async def test_a_recorded_release_replays_clean(tmp_path: Path) -> None:
    history = WorkflowHistory.from_json("release-spread", RECORDED.read_text())
    assert await replay_histories([history], tmp_path / "kept") == []
    assert not (tmp_path / "kept").exists()


async def test_a_history_the_code_cannot_replay_is_reported_and_kept(tmp_path: Path) -> None:
    text = with_patch_renamed(RECORDED.read_text(), "release-home-by-load", "some-other-change")
    history = WorkflowHistory.from_json("release-renamed-patch", text)
    failures = await replay_histories([history], tmp_path / "kept")

    assert [f.workflow_id for f in failures] == ["release-renamed-patch"]
    failure = failures[0]
    assert "Nondeterminism" in failure.error or "nondeterminism" in failure.error
    kept = WorkflowHistory.from_json("again", failure.saved.read_text())
    assert len(kept.events) == len(history.events)
    assert '"id": "some-other-change"' in failure.shape
    report = failure_report(failures)
    assert str(failure.saved) in report and "do not replay" in report


async def test_the_session_check_finds_the_servers_closed_releases(
        client: Client, sample: dict[str, Path], tmp_path: Path) -> None:
    """The visibility query names medpipe's workflow types as the server knows them: a
    release closed on the session server is among those replayed."""
    handle = await start(client, make_request(make_fleet(tmp_path), sample))
    await handle.terminate("closed without a worker, for the replay check")

    async def listed() -> bool:  # visibility may lag the termination a little
        return handle.id in [e.id async for e in client.list_workflows(
            closed_query(workflow_type_names()))]

    await wait_until(listed)
    replayed, failures = await replay_closed(client, tmp_path / "kept")
    assert failures == [] and replayed >= 1


async def test_a_run_sealed_by_a_codec_is_recognised() -> None:
    """Runs started through a payload codec are left out when no codec is at hand."""
    history = WorkflowHistory.from_json("release-spread", RECORDED.read_text())
    assert not encrypted_input(history)
    started = history.events[0].workflow_execution_started_event_attributes
    started.input.payloads[0].metadata["encoding"] = codec.ENCODING
    assert encrypted_input(history)
