"""A release on real storage emulators survives a provider outage.

The fleet's AWS profile stores on moto's S3 server, GCP on
gcp-storage-emulator, Azure on Azurite and on-prem on a local directory.
The outage is real: the emulator *process* of the cloud holding the
release's inputs is stopped mid-release (its port refuses connections), and
the workflow has to notice through the adapters' errors alone.

Residency is the default (US only): aws, azure and onprem are compliant,
gcp (EU-DE) never is, even when it is the only store still answering.

When the outage happens is fixed, not raced: the aws worker's data stages hold
one core of a budget the test holds too (``Gate``), so after ingest the release
waits, as it would for a busy machine, until the stores are down. Stopping them
while the release ran on let a loaded machine finish reading the inputs (even
run evaluate on aws) before they went down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from medpipe.activities.cores import CoreBudget
from medpipe.activities.storage.base import open_store
from medpipe.contracts.errors import ErrorType
from medpipe.contracts.names import SearchAttr
from medpipe.contracts.placement import Cloud, Fleet
from medpipe.contracts.release import (
    FailoverCause,
    ReleaseState,
    ReleaseStatus,
    Stage,
    StageOutcome,
)
from medpipe.workers.emulators import bucket_name
from tests.emulators import Azurite, EmulatorProcess, GcsEmulator, MotoS3
from tests.support import make_fleet, make_request, running_workers, start, status_of, wait_until

pytestmark = pytest.mark.asyncio

US_WORKERS = ["aws/us-east-1", "azure/eastus"]
MEASURE = bool(os.environ.get("MEDPIPE_MEASURE"))


@dataclass
class Clouds:
    """The three emulators of one test (each its own process and port)."""

    moto: MotoS3
    gcs: GcsEmulator
    azurite: Azurite

    @property
    def all(self) -> tuple[EmulatorProcess, ...]:
        return (self.moto, self.gcs, self.azurite)


@pytest.fixture
def clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clouds]:
    """Fresh emulators for this test; always stopped, whatever the test did to them."""
    # Workers run in this process: boto3 reads its (dummy) credentials from here.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
                 "STORAGE_EMULATOR_HOST", "AZURE_STORAGE_CONNECTION_STRING",
                 "AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    emu = Clouds(MotoS3(tmp_path / "moto"), GcsEmulator(tmp_path / "gcs", persistent=True),
                 Azurite(tmp_path / "azurite"))
    try:
        for e in emu.all:  # launched together, from this (long-lived) thread
            e.launch()
        for e in emu.all:
            e.wait_ready()
        yield emu
    finally:
        for e in emu.all:
            e.stop()


class Gate:
    """A one-core budget for the aws worker that the test holds too: while the test holds
    it, aws's data stages (pseudonymize, validate, evaluate) wait for the core; ingest
    does not take one."""

    def __init__(self, root: Path) -> None:
        self.worker = CoreBudget(1, root)
        self._test = CoreBudget(1, root)

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        """The aws worker's data stages wait inside (the test holds the machine's core)."""
        try:
            with self._test.hold():
                yield
        finally:
            self._test.close()


def emulated_fleet(root: Path, clouds: Clouds, missing: tuple[str, ...] = ()) -> Fleet:
    """``make_fleet``'s fleet (keys, vault, ledger, registry local) with cloud stores
    on the emulators; on-prem keeps its local directory."""
    fleet = make_fleet(root, missing=missing)
    emulator_of = {Cloud.AWS: clouds.moto, Cloud.GCP: clouds.gcs, Cloud.AZURE: clouds.azurite}
    profiles = []
    for p in fleet.profiles:
        emu = emulator_of.get(p.cloud)
        if emu is not None:
            bucket = bucket_name(p)
            emu.create_bucket(bucket)  # type: ignore[attr-defined]
            p = p.model_copy(update={"store_uri": emu.bucket_uri(bucket)})  # type: ignore[attr-defined]
        profiles.append(p)
    return fleet.model_copy(update={"profiles": tuple(profiles)})


def store_of(fleet: Fleet, name: str) -> str:
    return fleet.find(name).store_uri


def stage(status: ReleaseStatus, name: Stage):  # type: ignore[no-untyped-def]
    return next(s for s in status.stages if s.stage is name)


async def ingested_on(handle: WorkflowHandle[object, ReleaseStatus], cloud: str) -> None:
    """Return as soon as the first ingest has succeeded on ``cloud`` (later stages then
    read from there: evaluate alone waits ~1.5 s for the absent GPU worker)."""

    async def done() -> bool:
        st = await status_of(handle)
        return any(s.stage is Stage.INGEST and s.outcome is StageOutcome.SUCCEEDED
                   for s in st.stages)

    await wait_until(done, timeout=30, interval=0.05)
    first = stage(await status_of(handle), Stage.INGEST)
    assert first.ran_on is not None and first.ran_on.cloud == cloud


def only_ingested(status: ReleaseStatus) -> bool:
    """No stage but ingest has ended yet (the gate held the next one)."""
    return [s.stage for s in status.stages] == [Stage.INGEST]


async def failed_activity_types(handle: WorkflowHandle[object, ReleaseStatus]) -> list[str]:
    """Error types of the activity failures in the workflow history (types are never encoded)."""
    types = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failure = event.activity_task_failed_event_attributes.failure
            types.append(failure.application_failure_info.type)
    return types


async def test_input_store_process_dies_release_moves_to_another_cloud(
        client: Client, tmp_path: Path, sample: dict[str, Path], clouds: Clouds) -> None:
    """moto (holding the ingested inputs) is stopped after ingest: the release re-ingests
    from the source onto Azurite and completes there, and says so."""
    fleet = emulated_fleet(tmp_path, clouds)
    aws_uri, azure_uri = store_of(fleet, "aws/us-east-1"), store_of(fleet, "azure/eastus")
    request = make_request(fleet, sample)
    gate = Gate(tmp_path / "aws-cores")
    async with running_workers(client, fleet, US_WORKERS, cores={"aws/us-east-1": gate.worker}):
        with gate.closed():  # nothing reads the ingested inputs before moto is down
            handle = await start(client, request)
            await ingested_on(handle, "aws")
            first = (await status_of(handle)).ingest
            assert first is not None and first.artifact("dataset").bucket_uri == aws_uri
            assert open_store(aws_uri).exists(first.artifact("dataset").key)  # really on moto
            await asyncio.to_thread(clouds.moto.stop)  # the provider goes away for real
            assert only_ingested(await status_of(handle))
        status = await handle.result()

    assert status.state is ReleaseState.SUCCEEDED
    ingests = [s for s in status.stages if s.stage is Stage.INGEST]
    assert [s.ran_on.cloud for s in ingests if s.ran_on] == ["aws", "azure"]
    assert "re-ingested: aws/us-east-1 storage did not answer" in ingests[1].detail
    # the stage that met the dead store records the outage, naming the store
    outages = [f for s in status.stages for f in s.failovers
               if f.cause is FailoverCause.PROVIDER_UNAVAILABLE]
    assert outages, [s.failovers for s in status.stages]
    moved = [f for f in outages if "input store down" in f.detail]
    # (the adapter's own words differ: refused before a read, or cut off mid-stream)
    assert moved and aws_uri.split("?")[0] in moved[0].detail
    # which stage met it depends on when the process died (reading its inputs, or
    # writing its output and then reading on the next cloud): any reader of the inputs
    assert moved[0].stage in (Stage.PSEUDONYMIZE, Stage.VALIDATE, Stage.EVALUATE)
    if MEASURE:
        print("\noutage failovers:", *(f"{f.stage.value} {f.from_queue}: {f.seconds:.2f}s "
                                      f"{f.detail[:60]}" for f in outages), sep="\n  ")
    # everything after the outage ran on azure, reading and writing Azurite
    for name in (Stage.EVALUATE, Stage.SIGN):
        s = stage(status, name)
        assert s.outcome is StageOutcome.SUCCEEDED and s.ran_on and s.ran_on.cloud == "azure"
    assert status.ingest is not None
    dataset = status.ingest.artifact("dataset")
    assert dataset.bucket_uri == azure_uri
    azure = open_store(azure_uri)
    assert azure.head(dataset.key).sha256 == dataset.sha256
    assert status.signature is not None
    assert status.signature.bundle_uri.startswith(azure_uri.split("?")[0])
    signed = [i.key for i in azure.list(f"releases/{request.release_id}/")]
    assert any(k.endswith("model.onnx.sig") for k in signed), signed
    # the history shows the dead input store as typed activity failures
    assert ErrorType.INPUT_UNAVAILABLE in await failed_activity_types(handle)
    # and the residency policy held: nothing reached the EU bucket
    assert list(open_store(store_of(fleet, "gcp/europe-west3")).list()) == []


async def test_no_compliant_store_answers_release_waits_until_one_returns(
        client: Client, tmp_path: Path, sample: dict[str, Path], clouds: Clouds) -> None:
    """After ingest on moto, moto and Azurite stop and on-prem's directory is absent:
    only the EU emulator answers, which residency forbids. The release waits,
    visibly, and completes on Azure once Azurite is started again."""
    fleet = emulated_fleet(tmp_path, clouds, missing=("onprem/gpu-01",))
    azure_uri = store_of(fleet, "azure/eastus")
    gate = Gate(tmp_path / "aws-cores")
    async with running_workers(client, fleet, [*US_WORKERS, "onprem/gpu-01"],
                               cores={"aws/us-east-1": gate.worker}):
        with gate.closed():  # nothing reads the ingested inputs before both stores are down
            handle = await start(client, make_request(fleet, sample))
            await ingested_on(handle, "aws")
            # Azurite first: nothing reads from it before moto dies too.
            await asyncio.to_thread(clouds.azurite.stop)
            await asyncio.to_thread(clouds.moto.stop)
            assert only_ingested(await status_of(handle))

        async def waiting() -> bool:
            return (await status_of(handle)).state is ReleaseState.WAITING

        await wait_until(waiting, timeout=30)
        st = await status_of(handle)
        assert st.waiting is not None and st.waiting.stage is Stage.INGEST
        assert "gcp/europe-west3" in st.waiting.reason  # excluded by residency, and says so
        attrs = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
        assert attrs[SearchAttr.WAITING.name] is True
        assert attrs[SearchAttr.STATE.name] == "waiting-for-placement"
        # it keeps trying the compliant clouds (rounds go up) and never the EU one
        rounds = st.waiting.rounds

        async def retried() -> bool:
            w = (await status_of(handle)).waiting
            return w is not None and w.rounds > rounds

        await wait_until(retried, timeout=15)
        assert list(open_store(store_of(fleet, "gcp/europe-west3")).list()) == []
        clouds.azurite.launch()  # the provider comes back (launched from the main thread)
        await asyncio.to_thread(clouds.azurite.wait_ready)
        status = await handle.result()

    assert status.state is ReleaseState.SUCCEEDED and status.waiting is None
    ingests = [s for s in status.stages if s.stage is Stage.INGEST]
    assert [s.ran_on.cloud for s in ingests if s.ran_on] == ["aws", "azure"]
    reingest = ingests[1]
    refused = {f.from_queue.split(".", 1)[1] for f in reingest.failovers
               if f.cause is FailoverCause.PROVIDER_UNAVAILABLE}
    assert {"azure.eastus.cpu", "onprem.gpu-01.cpu"} <= refused
    # the note saying why ingest ran again survives the failovers of that re-ingest
    assert reingest.detail == "re-ingested: aws/us-east-1 storage did not answer"
    if MEASURE:
        print("\nre-ingest failovers:", *(f"{f.from_queue}: {f.cause.value} {f.seconds:.2f}s "
                                         f"{f.detail[:50]}" for f in reingest.failovers),
              f"re-ingest took {reingest.seconds:.1f}s", sep="\n  ")
    assert any(azure_uri.split("?")[0] in f.detail for f in reingest.failovers)
    history = await failed_activity_types(handle)
    assert ErrorType.INPUT_UNAVAILABLE in history and ErrorType.PROVIDER_UNAVAILABLE in history
    assert stage(status, Stage.EVALUATE).ran_on.cloud == "azure"  # type: ignore[union-attr]
    assert status.ingest is not None and status.ingest.artifact("dataset").bucket_uri == azure_uri
    attrs = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert attrs[SearchAttr.WAITING.name] is False and attrs[SearchAttr.STATE.name] == "succeeded"
    assert list(open_store(store_of(fleet, "gcp/europe-west3")).list()) == []
