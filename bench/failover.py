"""Failover speed: seconds from a failure to the stage completing elsewhere.

Causes (10 trials each by default): no worker on the first candidate's queue,
the worker SIGKILLed mid-activity, and a non-retryable ``ProviderUnavailable``.
Prints median and max per cause against the goals:
no worker ≤ schedule-to-start + 0.5 s; SIGKILL ≤ heartbeat timeout + 0.5 s;
ProviderUnavailable ≤ 0.5 s. Run: ``./run bench failover``.

Every trial has a deadline (``--trial-deadline``): a trial that does not end is
reported as timed out, and every process the bench started is stopped on exit,
error, SIGTERM and SIGINT (``_procs``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _procs import trials as run_trials
from _stack import BenchStack, connect, wait_for_pollers
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client

from medpipe.contracts.names import QueryName
from medpipe.contracts.release import PlacementTimeouts, ReleaseRequest, ReleaseStatus, Stage
from medpipe.workers.releases import start_release
from medpipe.workers.sample import write_sample

S2S, HB = 2.0, 2.0
VERBOSE = False
TIMEOUTS = PlacementTimeouts(schedule_to_start_s=S2S, heartbeat_s=HB, start_to_close_s=300)


def ingest_completed_at(status: ReleaseStatus) -> float:
    rec = next(s for s in status.stages if s.stage is Stage.INGEST)
    assert rec.started_at is not None
    return rec.started_at.timestamp() + rec.seconds


def req(fleet, sample: dict[str, Path], data: Path | None = None) -> ReleaseRequest:  # type: ignore[no-untyped-def]
    return ReleaseRequest(model="failover", version=f"v{uuid.uuid4().hex[:10]}",
                          model_uri=sample["model"].as_uri(),
                          data_uri=(data or sample["dataset"]).as_uri(),
                          fleet=fleet, prefer_gpu=False, timeouts=TIMEOUTS)


async def ingest_done(handle) -> ReleaseStatus:  # type: ignore[no-untyped-def]
    """Wait until the ingest stage is recorded, then end the release (the figure is taken;
    the later stages are measured by bench/orchestration)."""
    while True:
        status = await handle.query(QueryName.STATUS, result_type=ReleaseStatus)
        if any(s.stage is Stage.INGEST for s in status.stages):
            await handle.terminate("bench/failover: ingest measured")
            return status
        await asyncio.sleep(0.05)


async def trial_no_worker(client: Client, stack: BenchStack, fleet, sample) -> float:  # type: ignore[no-untyped-def]
    status = await ingest_done(await start_release(client, req(fleet, sample)))
    rec = next(s for s in status.stages if s.stage is Stage.INGEST)
    assert rec.failovers and rec.failovers[0].cause.value == "no-worker"
    # the failure exists from the moment the step is scheduled
    return rec.seconds


async def trial_provider(client: Client, stack: BenchStack, fleet, sample) -> float:  # type: ignore[no-untyped-def]
    status = await ingest_done(await start_release(client, req(fleet, sample)))
    rec = next(s for s in status.stages if s.stage is Stage.INGEST)
    assert rec.failovers and rec.failovers[0].cause.value == "provider-unavailable"
    return rec.seconds


async def trial_sigkill(client: Client, stack: BenchStack, fleet, sample, big: Path) -> float:  # type: ignore[no-untyped-def]
    proc = stack.worker(fleet, "aws/us-east-1", "--no-control", "--ingest-rate-limit", "2000000")
    try:
        # this process's poller, not the one a killed predecessor left listed
        await wait_for_pollers(client, [f"{fleet.queue_prefix}.aws.us-east-1.cpu"],
                               pid=proc.pid)
        handle = await start_release(client, req(fleet, sample, big))
        while True:
            desc = await handle.describe()
            if any(p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                   and p.last_worker_identity.endswith(f":{proc.pid}")
                   for p in desc.raw_description.pending_activities):
                break
            status = await handle.query(QueryName.STATUS, result_type=ReleaseStatus)
            if any(s.stage is Stage.INGEST for s in status.stages):
                await handle.terminate("bench/failover: ingest ran elsewhere")
                raise RuntimeError("ingest ran without the aws worker: trial void")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3 + (uuid.uuid4().int % 1000) / 1000)  # kill at a random phase
        killed_at = time.time()
        stack.kill(proc)
        status = await ingest_done(handle)
    finally:
        stack.kill(proc)
    rec = next(s for s in status.stages if s.stage is Stage.INGEST)
    assert rec.failovers and rec.failovers[0].cause.value == "worker-lost", rec.failovers
    fo = rec.failovers[0]
    if VERBOSE:
        print(f"  kill->detected {fo.at.timestamp() - killed_at:.2f} s, detected->done "
              f"{ingest_completed_at(status) - fo.at.timestamp():.2f} s")
    return ingest_completed_at(status) - killed_at


def summary(name: str, values: list[float], timed_out: int, failed: int, goal: float) -> None:
    late = (f"   {timed_out} trial(s) TIMED OUT" if timed_out else "") \
        + (f"   {failed} trial(s) FAILED" if failed else "")
    if not values:
        print(f"{name:22} no trial ended{late}")
        return
    med, mx = statistics.median(values), max(values)
    verdict = "OK" if mx <= goal and not (timed_out or failed) else "over goal"
    print(f"{name:22} median {med:5.2f} s   max {mx:5.2f} s   goal <= {goal:.2f} s   "
          f"{verdict}{late}")


async def main(trials: int, deadline: float) -> None:
    out = Path(tempfile.mkdtemp(prefix="medpipe-fo-"))
    sample = write_sample(out, patients=300, visits=3)
    big = out / "big.csv"
    header, _, body = sample["dataset"].read_bytes().partition(b"\n")
    big.write_bytes(header + b"\n" + body * 60)  # ~13 MB: ~6 s at 2 MB/s
    print(f"schedule-to-start timeout {S2S} s, heartbeat timeout {HB} s, {trials} trials each, "
          f"{deadline:.0f} s deadline per trial", flush=True)
    with BenchStack() as stack:
        client = await connect(stack.server.address)

        fleet = stack.fleet()  # no aws worker at all: first candidate has nobody polling
        stack.worker(fleet, "azure/eastus")
        await wait_for_pollers(client, [fleet.control_queue,
                                        f"{fleet.queue_prefix}.azure.eastus.cpu"])
        no_worker = await run_trials(lambda: trial_no_worker(client, stack, fleet, sample),
                                     trials, deadline, "no worker")

        fleet_p = stack.fleet(missing=("aws/us-east-1",))
        stack.worker(fleet_p, "aws/us-east-1")
        stack.worker(fleet_p, "azure/eastus")
        await wait_for_pollers(client, [fleet_p.control_queue,
                                        f"{fleet_p.queue_prefix}.aws.us-east-1.cpu",
                                        f"{fleet_p.queue_prefix}.azure.eastus.cpu"])
        provider = await run_trials(lambda: trial_provider(client, stack, fleet_p, sample),
                                    trials, deadline, "ProviderUnavailable")

        fleet_k = stack.fleet()
        stack.worker(fleet_k, "azure/eastus")
        await wait_for_pollers(client, [fleet_k.control_queue,
                                        f"{fleet_k.queue_prefix}.azure.eastus.cpu"])
        kills = await run_trials(lambda: trial_sigkill(client, stack, fleet_k, sample, big),
                                 trials, deadline, "worker SIGKILLed")

    summary("no worker", *no_worker, S2S + 0.5)
    summary("worker SIGKILLed", *kills, HB + 0.5)
    summary("ProviderUnavailable", *provider, 0.5)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--trial-deadline", type=float, default=90.0,
                    help="seconds before a trial is reported as timed out")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    VERBOSE = a.verbose
    asyncio.run(main(a.trials, a.trial_deadline))
