"""Shared by the benchmarks: a throwaway local stack (dev server + worker processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import _procs
import yaml
from _checkout import ROOT

from medpipe.activities.storage.local import LocalStore
from medpipe.contracts.placement import Cloud, Fleet, WorkerProfile
from medpipe.workers.devserver import TemporalDevServer
from medpipe.workers.keysetup import ensure_keys, local_keys


class BenchStack:
    """A Temporal dev server, a fleet with local buckets, and worker processes on demand.

    Every process it starts is tracked by ``_procs``: stopped when the ``with`` block
    ends, and also at exit or on SIGTERM/SIGINT should the bench be killed from outside.
    Its directory (the server's database, buckets, keys, logs: up to gigabytes of
    generated data) goes with it; ``MEDPIPE_BENCH_KEEP=1`` keeps it for a post-mortem.
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="medpipe-bench-"))
        self.server = TemporalDevServer(self.dir / "temporal.db", self.dir / "temporal.log")
        self.procs: list[subprocess.Popen[bytes]] = []
        #: Keep the directory when the stack stops (a bench that failed keeps its logs).
        self.keep = os.environ.get("MEDPIPE_BENCH_KEEP") == "1"

    def __enter__(self) -> BenchStack:
        _procs.at_stop(self._remove_dir)  # stoppers run last-in first-out: after the server
        _procs.at_stop(self.server.stop)  # before start: a signal while it starts stops it
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            _procs.stop_group(p.pid, grace=0)
        self.server.stop()
        self._remove_dir()

    def _remove_dir(self) -> None:
        """Delete the stack's directory (idempotent), unless asked to keep it."""
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def fleet(self, missing: tuple[str, ...] = ()) -> Fleet:
        """The four default profiles, a unique queue prefix, fresh buckets."""
        prefix = f"b{uuid.uuid4().hex[:8]}"
        profiles = []
        for cloud, region, jur, acc in [(Cloud.AWS, "us-east-1", "US", ()),
                                        (Cloud.GCP, "europe-west3", "EU-DE", ()),
                                        (Cloud.AZURE, "eastus", "US", ()),
                                        (Cloud.ONPREM, "gpu-01", "US", ("cuda",))]:
            bucket = self.dir / prefix / f"{cloud.value}-{region}"
            if f"{cloud.value}/{region}" not in missing:
                LocalStore(bucket.as_uri()).ensure_bucket()
            profiles.append(WorkerProfile(cloud=cloud, region=region, jurisdiction=jur,
                                          accelerators=acc, store_uri=bucket.as_uri()))
        buckets = {}
        for name in ("registry", "vault", "ledger"):
            buckets[name] = (self.dir / prefix / name).as_uri()
            LocalStore(buckets[name]).ensure_bucket()
        keys = local_keys(self.dir / prefix / "keys")
        ensure_keys(keys, codec_kek_id=None)
        return Fleet(profiles=tuple(profiles), queue_prefix=prefix,
                     registry_uri=buckets["registry"], vault_uri=buckets["vault"],
                     ledger_uri=buckets["ledger"], keys=keys)

    def worker(self, fleet: Fleet, profile: str, *extra: str,
               command: Sequence[str] = (sys.executable, "-m", "medpipe"),
               env: Mapping[str, str] | None = None,
               own_session: bool = True) -> subprocess.Popen[bytes]:
        """Start a real ``medpipe worker`` process for ``profile`` (``command`` is the
        ``medpipe`` command: ``bench/_stagetrace.py`` has a measured one; ``env`` adds to
        the environment; ``own_session``: see ``_procs.spawn``)."""
        cfg = self.dir / f"{fleet.queue_prefix}.yaml"
        if not cfg.exists():
            cfg.write_text(yaml.safe_dump({"fleet": fleet.model_dump(mode="json"),
                                           "payload_codec": False}))
        env = {**os.environ, "MEDPIPE_CONFIG": str(cfg),
               "MEDPIPE_TEMPORAL_ADDRESS": self.server.address, "PYTHONPATH": str(ROOT),
               **(env or {})}
        log = open(self.dir / f"worker-{len(self.procs)}.log", "ab")
        proc = _procs.spawn([*command, "worker", "--profile", profile, *extra], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                            own_session=own_session)
        log.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker process (and its process group)."""
        _procs.kill(proc)


def wait_for_pollers(client, queues: list[str], timeout: float = 60.0,  # type: ignore[no-untyped-def]
                     pid: int | None = None):
    """Wait until every queue has a poller (workers are up).

    Temporal lists a dead worker's pollers for about a minute: with ``pid``, only a
    poller whose identity ends in ``:PID`` (``WorkerContext.worker_id``) counts.
    """
    import asyncio

    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    async def ready() -> bool:
        for q in queues:
            kind = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW if q.endswith(".control")
                    else TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
            resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=q), task_queue_type=kind))
            if not any(pid is None or p.identity.removesuffix("/control").endswith(f":{pid}")
                       for p in resp.pollers):
                return False
        return True

    async def loop() -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await ready():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no pollers on {queues}")
            await asyncio.sleep(0.2)

    return loop()


async def connect(address: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """A client of the bench's dev server, retried until its frontend reports healthy
    (the port answers before the frontend does; on a loaded machine, seconds before)."""
    import asyncio

    from temporalio.client import Client

    from medpipe.workers.client import data_converter

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await Client.connect(address, data_converter=data_converter())
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
