"""On-call's first view: summaries clear without the codec, payloads sealed; a codec key
the reader lacks is named (workflow task failure and CLI), never a timeout."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from medpipe.activities.keys.base import KeyProvider, open_provider
from medpipe.contracts.errors import KeyProviderError
from medpipe.workers.codec import ENCODING, EncryptionCodec, make_data_converter
from medpipe.workers.dev import temporal_binary
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.undecodable import explain_stuck, raise_if_undecodable
from tests.workers.summary_workflow import SummaryTestWorkflow, echo

MARKER = "PATIENT-MRN-7731-SMITH"
STATIC = "Release risk v3"
ACTIVITY = "pseudonymize on medpipe.aws.us-east-1.cpu"


def _codec(tmp_path: Path, name: str) -> EncryptionCodec:
    provider: KeyProvider = open_provider(f"local://{tmp_path}/{name}-kek/keyring.json")
    provider.create_key("codec-kek")
    return EncryptionCodec.open(tmp_path / f"{name}-home", provider, "codec-kek")


def _temporal_json(server: TemporalDevServer, *args: str) -> str:
    out = subprocess.run([temporal_binary(), "workflow", *args, "--address", server.address,
                          "--output", "json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _forms(text: str) -> tuple[str, str]:
    """A string as it may appear in JSON output: itself, or its JSON base64-encoded."""
    return text, base64.b64encode(json.dumps(text).encode()).decode()


def _present(text: str, output: str) -> bool:
    return any(form in output for form in _forms(text))


async def test_summaries_are_clear_and_payloads_sealed(temporal_server: TemporalDevServer,
                                                       tmp_path: Path) -> None:
    from medpipe.contracts.summary import Summary

    codec = _codec(tmp_path, "a")
    client = await Client.connect(temporal_server.address,
                                  data_converter=make_data_converter(codec))
    queue = f"summary-{uuid.uuid4().hex[:8]}"
    wid = f"summary-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=queue, workflows=[SummaryTestWorkflow],
                      activities=[echo], workflow_runner=SandboxedWorkflowRunner()):
        handle = await client.start_workflow(
            SummaryTestWorkflow.run, MARKER, id=wid, task_queue=queue,
            static_summary=Summary(STATIC), static_details=Summary("model risk, version v3"))
        assert await handle.result() == f"seen {MARKER}"
    described = _temporal_json(temporal_server, "describe", "-w", wid)
    history = _temporal_json(temporal_server, "show", "-w", wid)
    # Readable without any codec: the Temporal CLI here has none.
    assert _present(STATIC, described) and _present(ACTIVITY, history)
    text = subprocess.run([temporal_binary(), "workflow", "describe", "-w", wid, "--address",
                           temporal_server.address], capture_output=True, text=True,
                          timeout=60).stdout
    assert f'StaticSummary  "{STATIC}"' in text
    assert _present("model risk, version v3", described)
    # ... while the patient data stays sealed, in both outputs and in the SDK's history.
    for output in (described, history):
        assert not _present(MARKER, output) and MARKER[:12] not in output
    events = (await handle.fetch_history()).events
    started = events[0].workflow_execution_started_event_attributes
    assert started.input.payloads[0].metadata["encoding"] == ENCODING
    scheduled = next(e for e in events
                     if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    assert scheduled.activity_task_scheduled_event_attributes.input.payloads[0] \
        .metadata["encoding"] == ENCODING
    summary = scheduled.user_metadata.summary
    assert dict(summary.metadata) == {"encoding": b"json/plain"}  # shown as text
    assert json.loads(summary.data) == ACTIVITY
    assert started.input.payloads[0].metadata["encoding"] != b"json/plain"


async def test_a_plain_string_summary_is_sealed(temporal_server: TemporalDevServer,
                                                tmp_path: Path) -> None:
    """Control: only a Summary is left clear; a bare string summary is sealed."""
    codec = _codec(tmp_path, "a")
    client = await Client.connect(temporal_server.address,
                                  data_converter=make_data_converter(codec))
    wid = f"summary-plain-{uuid.uuid4().hex}"
    await client.start_workflow(SummaryTestWorkflow.run, MARKER, id=wid,
                                task_queue=f"nobody-{uuid.uuid4().hex[:6]}",
                                static_summary=STATIC)
    described = _temporal_json(temporal_server, "describe", "-w", wid)
    assert not _present(STATIC, described)
    await client.get_workflow_handle(wid).terminate()


async def test_unknown_codec_key_is_named_not_a_timeout(temporal_server: TemporalDevServer,
                                                        tmp_path: Path) -> None:
    """The CLI's stack and the workers' stack hold different codec keyrings."""
    cli_codec, worker_codec = _codec(tmp_path, "cli"), _codec(tmp_path, "workers")
    cli = await Client.connect(temporal_server.address,
                               data_converter=make_data_converter(cli_codec))
    workers = await Client.connect(temporal_server.address,
                                   data_converter=make_data_converter(worker_codec))
    queue = f"keys-{uuid.uuid4().hex[:8]}"
    wid = f"keys-{uuid.uuid4().hex}"
    async with Worker(workers, task_queue=queue, workflows=[SummaryTestWorkflow],
                      activities=[echo], workflow_runner=SandboxedWorkflowRunner()):
        handle = await cli.start_workflow(SummaryTestWorkflow.run, MARKER, id=wid,
                                          task_queue=queue)
        failure = None
        for _ in range(200):  # bounded: the first task fails within a second or two
            async for event in workers.get_workflow_handle(wid).fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    failure = event.workflow_task_failed_event_attributes.failure
            if failure is not None:
                break
            await asyncio.sleep(0.1)
        assert failure is not None, "the workers' first workflow task never failed"
        # The workflow task failure (read with the workers' keys) names the CLI's key.
        error = await workers.data_converter.decode_failure(failure)
        assert f"codec key '{cli_codec.current_key_id}'" in str(error)
        # The CLI cannot read that failure; it names the workers' key instead of timing out.
        reason = await explain_stuck(cli, wid)
        assert reason is not None and f"'{worker_codec.current_key_id}'" in reason
        with pytest.raises(KeyProviderError, match="different codec keyrings"):
            await raise_if_undecodable(cli, wid)
        await handle.terminate()


async def test_only_marked_short_strings_stay_clear(tmp_path: Path) -> None:
    from temporalio.api.common.v1 import Payload

    from medpipe.contracts.summary import CLEAR_METADATA, MAX_SUMMARY_CHARS, Summary
    from medpipe.workers.codec import SummaryPayloadConverter

    codec, converter = _codec(tmp_path, "a"), SummaryPayloadConverter()
    marked, bare = converter.to_payloads([Summary("evaluate on gpu"), "evaluate on gpu"])
    clear, sealed = await codec.encode([marked, bare])
    assert clear == Payload(metadata={"encoding": b"json/plain"}, data=b'"evaluate on gpu"')
    assert sealed.metadata["encoding"] == ENCODING
    assert len(Summary("x" * 5000)) == MAX_SUMMARY_CHARS
    forged = [Payload(metadata={"encoding": b"json/plain", CLEAR_METADATA: b"1"},
                      data=json.dumps({"mrn": MARKER}).encode()),
              Payload(metadata={"encoding": b"json/plain", CLEAR_METADATA: b"1"},
                      data=json.dumps("x" * 5000).encode()),
              Payload(metadata={"encoding": b"binary/plain", CLEAR_METADATA: b"1"},
                      data=b'"raw"')]
    for payload in await codec.encode(forged):
        assert payload.metadata["encoding"] == ENCODING


async def test_cli_names_the_codec_key_instead_of_timing_out(
        temporal_server: TemporalDevServer, tmp_path: Path) -> None:
    """`medpipe status` from a home whose codec keyring differs from the workers'."""
    import os
    import sys

    from medpipe.workers.codec import open_codec
    from medpipe.workers.keysetup import CODEC_KEK_ID

    homes = {name: tmp_path / name for name in ("cli", "workers")}
    for home in homes.values():
        init = subprocess.run([sys.executable, "-m", "medpipe", "dev", "init"],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "MEDPIPE_HOME": str(home)})
        assert init.returncode == 0, init.stderr
    codecs = {name: open_codec(home, f"local://{home}/keys/keyring.json", CODEC_KEK_ID)
              for name, home in homes.items()}
    cli = await Client.connect(temporal_server.address,
                               data_converter=make_data_converter(codecs["cli"]))
    workers = await Client.connect(temporal_server.address,
                                   data_converter=make_data_converter(codecs["workers"]))
    queue, wid = f"keys-{uuid.uuid4().hex[:8]}", f"release-keys-{uuid.uuid4().hex[:8]}"
    async with Worker(workers, task_queue=queue, workflows=[SummaryTestWorkflow],
                      activities=[echo], workflow_runner=SandboxedWorkflowRunner()):
        handle = await cli.start_workflow(SummaryTestWorkflow.run, MARKER, id=wid,
                                          task_queue=queue)
        shown = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "medpipe", "--address",
                             temporal_server.address, "status", wid],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "MEDPIPE_HOME": str(homes["cli"]), "COLUMNS": "300"})
        await handle.terminate()
    message = " ".join(shown.stderr.split())
    assert shown.returncode != 0 and "Traceback" not in shown.stderr
    assert f"'{codecs['workers'].current_key_id}'" in message, message
    assert "different codec keyrings" in message and "Timeout" not in message
