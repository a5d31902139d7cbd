"""Shared by the benchmarks: a throwaway local stack (dev server + worker processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from medpipe.activities.storage.local import LocalStore  # noqa: E402
from medpipe.contracts.placement import Cloud, Fleet, WorkerProfile  # noqa: E402
from medpipe.workers.devserver import TemporalDevServer  # noqa: E402
from medpipe.workers.keysetup import ensure_keys, local_keys  # noqa: E402


class BenchStack:
    """A Temporal dev server, a fleet with local buckets, and worker processes on demand."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="medpipe-bench-"))
        self.server = TemporalDevServer(self.dir / "temporal.db", self.dir / "temporal.log")
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> BenchStack:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.server.stop()

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

    def worker(self, fleet: Fleet, profile: str, *extra: str) -> subprocess.Popen[bytes]:
        """Start a real ``medpipe worker`` process for ``profile``."""
        cfg = self.dir / f"{fleet.queue_prefix}.yaml"
        if not cfg.exists():
            cfg.write_text(yaml.safe_dump({"fleet": fleet.model_dump(mode="json"),
                                           "payload_codec": False}))
        env = {**os.environ, "MEDPIPE_CONFIG": str(cfg),
               "MEDPIPE_TEMPORAL_ADDRESS": self.server.address, "PYTHONPATH": str(ROOT)}
        log = open(self.dir / f"worker-{len(self.procs)}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "medpipe", "worker", "--profile",
                                 profile, *extra], stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True, cwd=ROOT)
        log.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker process."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_pollers(client, queues: list[str], timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """Wait until every queue has a poller (workers are up)."""
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
            if not resp.pollers:
                return False
        return True

    async def loop() -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await ready():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no pollers on {queues}")
            await asyncio.sleep(0.2)

    return loop()
