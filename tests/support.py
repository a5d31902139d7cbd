"""Helpers shared by the Temporal-backed tests: fleets, in-process workers, releases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path

import yaml
from temporalio.client import Client, WorkflowHandle

from medpipe.activities.context import WorkerContext
from medpipe.activities.cores import CoreBudget
from medpipe.activities.storage.local import LocalStore
from medpipe.activities.tls import TLSSettings
from medpipe.contracts.crypto import KeySettings
from medpipe.contracts.names import QueryName
from medpipe.contracts.placement import Cloud, Fleet, WorkerProfile
from medpipe.contracts.release import PlacementTimeouts, ReleaseRequest, ReleaseStatus
from medpipe.workers.keysetup import ensure_keys, local_keys
from medpipe.workers.worker import build_workers

#: Short timeouts so failover tests take seconds.
FAST = PlacementTimeouts(schedule_to_start_s=1.5, heartbeat_s=1.5, start_to_close_s=120,
                         transient_attempts=2, wait_initial_s=0.5, wait_max_s=1.0)


def make_fleet(root: Path, prefix: str | None = None,
               missing: Iterable[str] = ()) -> Fleet:
    """The four default profiles with buckets under ``root`` and a unique queue prefix.

    Profiles named in ``missing`` get a bucket directory that does not exist
    (their storage "provider" is down).
    """
    prefix = prefix or f"t{uuid.uuid4().hex[:10]}"
    specs = [
        (Cloud.AWS, "us-east-1", "US", ()),
        (Cloud.GCP, "europe-west3", "EU-DE", ()),
        (Cloud.AZURE, "eastus", "US", ()),
        (Cloud.ONPREM, "gpu-01", "US", ("cuda",)),
    ]
    profiles = []
    for cloud, region, jur, acc in specs:
        name = f"{cloud.value}-{region}"
        bucket = root / "buckets" / name
        if f"{cloud.value}/{region}" not in missing:
            LocalStore(bucket.as_uri()).ensure_bucket()
        profiles.append(WorkerProfile(cloud=cloud, region=region, jurisdiction=jur,
                                      accelerators=acc, store_uri=bucket.as_uri()))
    buckets = {}
    for name in ("registry", "vault", "ledger", "ledger-checkpoints"):
        buckets[name] = (root / "buckets" / name).as_uri()
        LocalStore(buckets[name]).ensure_bucket()
    keys = local_keys(root / "keys")
    ensure_keys(keys, codec_kek_id=None)
    return Fleet(profiles=tuple(profiles), queue_prefix=prefix, registry_uri=buckets["registry"],
                 vault_uri=buckets["vault"], ledger_uri=buckets["ledger"],
                 ledger_checkpoint_uri=buckets["ledger-checkpoints"], keys=keys)


@contextlib.asynccontextmanager
async def running_workers(client: Client, fleet: Fleet, profiles: Iterable[str],
                          control: bool = True,
                          ingest_rate_limit: float | None = None,
                          source_tls: TLSSettings | None = None,
                          gateway_tls: TLSSettings | None = None,
                          cores: Mapping[str, CoreBudget] | None = None) -> AsyncIterator[None]:
    """Run in-process workers for ``profiles`` (plus one control worker) while inside.

    ``cores``: the core budget of some of them, by profile name (default: each its own, of
    this machine's cores). A test that holds a budget's cores from outside holds that
    worker's data stages before they start (``CoreBudget.hold``), ingest excepted.
    """
    workers = []
    first = True
    for name in profiles:
        budget = {"cores": cores[name]} if cores and name in cores else {}
        ctx = WorkerContext(profile=fleet.find(name), ingest_rate_limit=ingest_rate_limit,
                            source_tls=source_tls or TLSSettings(), gateway_tls=gateway_tls,
                            **budget)
        workers += build_workers(client, ctx, fleet, control=control and first)
        first = False
    if control and first:  # no activity profile given: a control-only worker
        from medpipe.workers.worker import control_worker

        workers.append(control_worker(client, fleet,
                                      WorkerContext(profile=fleet.profiles[0],
                                                    gateway_tls=gateway_tls)))
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        for w in workers:
            await w.shutdown()
        await asyncio.gather(*tasks, return_exceptions=True)


def make_request(fleet: Fleet, sample: dict[str, Path], **overrides: object) -> ReleaseRequest:
    """A release request for the sample model and cohort."""
    fields: dict[str, object] = {
        "model": "risk", "version": f"v{uuid.uuid4().hex[:8]}",
        "model_uri": sample["model"].as_uri(), "data_uri": sample["dataset"].as_uri(),
        "fleet": fleet, "timeouts": FAST, "requested_by": "pytest",
    }
    fields.update(overrides)
    return ReleaseRequest.model_validate(fields)


async def start(client: Client, request: ReleaseRequest) -> WorkflowHandle[object, ReleaseStatus]:
    """Start a release the way the CLI does."""
    from medpipe.workers.releases import start_release

    return await start_release(client, request)


async def status_of(handle: WorkflowHandle[object, object]) -> ReleaseStatus:
    """The ``status`` query."""
    return await handle.query(QueryName.STATUS, result_type=ReleaseStatus)


async def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    """Poll an async predicate until true, failing the test on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


def write_fleet_file(fleet: Fleet, path: Path) -> Path:
    """``fleet`` as the config file a ``worker_process`` reads (no payload codec)."""
    path.write_text(yaml.safe_dump({"fleet": fleet.model_dump(mode="json"),
                                    "payload_codec": False}))
    return path


def worker_process(address: str, fleet_file: Path, profile: str, log: Path,
                   *extra: str) -> subprocess.Popen[bytes]:
    """A real ``medpipe worker`` process (for kill tests)."""
    env = {**os.environ, "MEDPIPE_CONFIG": str(fleet_file),
           "MEDPIPE_TEMPORAL_ADDRESS": address}
    out = open(log, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "medpipe", "worker", "--profile", profile,
                             *extra], stdout=out, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    out.close()
    return proc


def two_us_workers(root: Path) -> tuple[KeySettings, list[WorkerContext], str]:
    """Local keys, an aws and an azure worker context (US) on buckets of their own, and a
    vault bucket, under ``root``: the in-process rig of the fan-out activity tests.

    Returns (keys, [aws, azure], the vault's URI).
    """
    keys = local_keys(root / "keys")
    ensure_keys(keys, codec_kek_id=None)
    workers = []
    for cloud, region in ((Cloud.AWS, "us-east-1"), (Cloud.AZURE, "eastus")):
        bucket = root / f"bucket-{cloud.value}"
        LocalStore(bucket.as_uri()).ensure_bucket()
        workers.append(WorkerContext(profile=WorkerProfile(
            cloud=cloud, region=region, jurisdiction="US", store_uri=bucket.as_uri())))
    vault = root / "vault"
    LocalStore(vault.as_uri()).ensure_bucket()
    return keys, workers, vault.as_uri()
